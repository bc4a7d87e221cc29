"""Fast replays (issue 14): a step whose recorded element shows at once is decided from a
glance (that element only), not a look at the whole page; the permission gate judges the
glance exactly as it judges the whole page, and anything that needs more looks as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from skills_helpers import CARD, approving

from operator_agent.builder import permissions
from operator_agent.perception.browser import DomPerceiver
from operator_agent.skills.features import EnrichingPerceiver
from operator_agent.skills.glance import gate_sees_enough
from operator_agent.skills.library import SkillLibrary
from operator_agent.skills.run import run_skill
from operator_agent.skills.values import resolve
from operator_agent.traces import load_run
from operator_agent.types import Action, Click, Element, Observation, Select, Type, Verdict
from operator_bench import demonstrations as demo
from operator_bench.sites import PracticeSites

GLANCE = "(a glance"


def _el(role: str, name: str, tag: str = "button", frame: str = "", sensitive: bool = False,
        **attributes: str) -> Element:
    attributes = {k.replace("_", "-"): v for k, v in attributes.items()}
    return Element(index=1, role=role, tag=tag, name=name, attributes=attributes, frame=frame,
                   sensitive=sensitive)


@pytest.mark.parametrize(("action", "el", "enough"), [
    (Click(index=1), _el("button", "Only necessary cookies", type="button"), True),
    (Click(index=1), _el("option", "New York (JFK)", tag="li"), True),
    (Click(index=1), _el("checkbox", "Nonstop from $425.00", tag="input", type="checkbox"), True),
    (Type(index=1, text="Lisbon"), _el("combobox", "To", tag="input", type="text"), True),
    (Select(index=1, option="2"), _el("combobox", "Passengers", tag="select"), True),
    # A submit may pay or change the account, by what else the page holds.
    (Click(index=1), _el("button", "Search flights", type="submit"), False),
    (Click(index=1), _el("button", "Search flights"), False),  # a button submits by default
    (Click(index=1), _el("button", "Pay $532.00", type="button"), False),
    (Click(index=1), _el("button", "Save changes", type="button"), False),
    (Click(index=1), _el("button", "Delete", type="button"), False),
    (Click(index=1), _el("button", "Go", type="button", frame="http://x/pay/1"), False),
    (Type(index=1, text="{{secret:card.number}}"), _el("textbox", "Name", tag="input"), False),
    (Type(index=1, text="Ada", submit=True), _el("textbox", "Name", tag="input"), False),
    (Type(index=1, text="4242"), _el("textbox", "Number", tag="input", autocomplete="cc-number"), False),
    (Type(index=1, text="x"), _el("textbox", "Password", tag="input", sensitive=True), False),
])
def test_only_actions_the_element_decides_are_judged_on_a_glance(action: Action, el: Element,
                                                                  enough: bool) -> None:
    assert gate_sees_enough(action, el) is enough


class _FullLooks:
    """Counts the full observations (each one's feature pass) of a replay."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        enrich = EnrichingPerceiver.enrich

        async def counted(perceiver: EnrichingPerceiver, obs: Observation) -> None:
            self.count += 1
            await enrich(perceiver, obs)

        monkeypatch.setattr(EnrichingPerceiver, "enrich", counted)


def _gate_twin(gate: Any, context: Any, tmp_path: Path) -> list[tuple[Verdict, Verdict]]:
    """Spies on `gate`: each action judged on a glance is judged again, by a fresh gate of the
    same policy, on a full observation of the page at that moment. Returns the verdict pairs."""
    pairs: list[tuple[Verdict, Verdict]] = []
    check = gate.check

    async def spy(action: Action, obs: Observation) -> Verdict:
        verdict = await check(action, obs)
        index = getattr(action, "index", None)
        if GLANCE not in obs.text or index is None:
            return verdict
        page = context.pages[-1]
        stamp = (obs.element(index) or _el("", "")).locator  # '[data-oa="..."]'
        await page.locator(stamp).evaluate("el => el.setAttribute('data-twin', '1')")
        full_perceiver = DomPerceiver()
        full = await full_perceiver.observe(page)
        now = await page.locator("[data-twin]").get_attribute("data-oa")
        same = next(el.index for el in full.elements if full_perceiver.target(el.index).selector
                    == f'[data-oa="{now}"]')
        twin = permissions(run_id=f"twin{len(pairs)}", interactive=True, policy=gate.policy,
                           audit_path=tmp_path / f"twin{len(pairs)}.sqlite", vault=None).gate
        pairs.append((verdict, await twin.check(action.model_copy(update={"index": same}), full)))
        # The whole look stamped the page anew: the glance's element gets its own stamp back.
        await page.locator("[data-twin]").evaluate(
            "(el, s) => { el.removeAttribute('data-twin'); el.setAttribute('data-oa', s); }",
            stamp.split('"')[1])
        return verdict

    gate.check = spy
    return pairs


async def test_shipped_flight_skill_glances_where_it_can_and_the_gate_sees_the_same(
        sites: PracticeSites, fresh_context: Any, shipped: SkillLibrary, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sites.configure(slow_ms=0)
    skill = shipped.get("book-flight").skill
    values = resolve(skill, {"departure_date": demo.next_month_day().isoformat(), **CARD})
    asked: list[Verdict] = []
    perms = approving("glance", asked, max_purchase=5000, max_daily=5000)
    pairs = _gate_twin(perms.gate, fresh_context, tmp_path)
    looks = _FullLooks(monkeypatch)
    run = await run_skill(skill, values, url=sites.flights_url + "/", context=fresh_context, perms=perms,
                          runs_dir=tmp_path)
    assert run.result.success, run.result.message
    (booking,) = sites.state("flights")["bookings"]
    steps = run.result.steps
    # Cookies, both airports and their suggestions, the date field, the nonstop filter.
    assert run.planner.glances >= 7  # type: ignore[attr-defined]
    assert looks.count <= steps - 7
    assert len(load_run(Path(run.result.run_dir or "")).steps) == steps  # every step is in the trace
    # Each action decided on a glance got the verdict the whole page gets.
    assert len(pairs) >= 7
    assert [(v.decision, v.reason) for v, _ in pairs] == [(w.decision, w.reason) for _, w in pairs]
    # The payment was judged on the whole page: it asked, for the exact amount.
    (pay,) = [v for v in asked if "Purchase at" in v.summary]
    assert f"{booking['total']:.2f} USD" in pay.summary


async def test_shipped_flight_skill_still_heals_on_the_redesigned_site(
        sites: PracticeSites, fresh_context: Any, shipped: SkillLibrary, tmp_path: Path) -> None:
    sites.configure(variant=True, slow_ms=0)
    skill = shipped.get("book-flight").skill
    values = resolve(skill, {"departure_date": demo.next_month_day().isoformat(), **CARD})
    perms = approving("glance-variant", [], max_purchase=5000, max_daily=5000)
    run = await run_skill(skill, values, url=sites.flights_url + "/", context=fresh_context, perms=perms,
                          runs_dir=tmp_path)
    assert run.result.success, run.result.message
    assert len(sites.state("flights")["bookings"]) == 1
    healed = {h.before.name: h.after.name for h in run.planner.heals}
    assert healed["Search flights"] == "Find flights"  # not there at once: looked for on the whole page
    assert run.planner.glances >= 1  # type: ignore[attr-defined]  # what stayed is still found at once
