"""Self-healing: on the redesigned practice sites (variant knob: ids and classes
renamed, layout moved, buttons reworded) the skills still complete, without a model;
what was healed is reported, and the skill file is not changed unasked."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from skills_helpers import CARD, Learned, approving

from operator_agent.report import chosen_line, write_report
from operator_agent.skills.library import SkillLibrary
from operator_agent.skills.run import run_skill
from operator_agent.skills.values import resolve
from operator_agent.traces import load_run
from operator_agent.types import Verdict
from operator_bench import demonstrations as demo
from operator_bench.sites import PracticeSites


async def test_shop_skill_completes_on_the_redesigned_shop(
        sites: PracticeSites, fresh_context: Any, shipped: SkillLibrary, tmp_path: Path) -> None:
    sites.configure(variant=True, newsletter_delay_ms=-1)
    entry = shipped.get("buy-usb-cable")
    before = entry.path.read_text()
    values = resolve(entry.skill, {**CARD, "password": "demo1234"})
    page = await fresh_context.new_page()
    await page.goto(sites.shop_url + "/")
    assert await page.locator("#site-search").count() == 0  # the ids the skill recorded are gone
    await page.close()
    asked: list[Verdict] = []  # the default gate asks before paying; the person says yes
    run = await run_skill(entry.skill, values, url=sites.shop_url + "/", context=fresh_context,
                          perms=approving("variant-shop", asked), runs_dir=tmp_path)
    assert run.result.success, run.result.message
    orders = sites.state("shop")["orders"]
    assert len(orders) == 1 and orders[0]["items"][0]["unit_price"] < 15
    assert len(asked) == 1 and f"{orders[0]['total']:.2f} USD" in asked[0].summary
    healed = {h.before.name: h.after.name for h in run.planner.heals}
    assert healed["Add to cart"] == "Add to basket"
    assert healed["Proceed to checkout"] == "Go to checkout"
    assert all(h.source == "score" for h in run.planner.heals)  # no model was asked
    assert entry.path.read_text() == before  # heals are proposed, never written silently
    # The trace says how each step was chosen: the healed steps by likeness, the rest as recorded.
    steps = load_run(Path(run.result.run_dir or "")).steps
    assert {s.chosen for s in steps} == {"skill", "healed-score"}
    assert {s.skill_step for s in steps if s.chosen == "healed-score"} == {h.step for h in run.planner.heals}
    report = write_report(Path(run.result.run_dir or "")).read_text()
    counts = Counter(s.chosen for s in steps)
    assert chosen_line(counts) in report and f"{counts['healed-score']} healed-score" in chosen_line(counts)
    assert "chosen by the skill, its element found by likeness (step" in report
    # The payment's question is in the step that asked it, as the person saw it, with the answer.
    (shown,) = [a for s in steps for a in s.approvals]
    assert shown.summary == asked[0].summary and shown.approved


async def test_recorded_flight_skill_books_another_flight_on_the_redesigned_site(
        sites: PracticeSites, fresh_context: Any, flight_learned: Learned, tmp_path: Path) -> None:
    """New parameter values (another route, passenger and month: "Next month" twice) on the
    redesigned site, through the policy gate with a person who approves the payment."""
    sites.configure(variant=True, slow_ms=0)
    day = demo.next_month_day(9, months=2)
    values = resolve(flight_learned.skill, {
        "from": "Los Angeles", "to": "New York", "departure_date": day.isoformat(), "first_name": "Grace",
        "last_name": "Hopper", "email_address": "grace@example.com", **CARD})
    asked: list[Verdict] = []
    perms = approving("fly", asked, max_purchase=3000, max_daily=5000)
    run = await run_skill(flight_learned.skill, values, url=sites.flights_url + "/", context=fresh_context,
                          perms=perms, runs_dir=tmp_path)
    assert run.result.success, run.result.message
    (b,) = sites.state("flights")["bookings"]
    assert (b["origin"], b["destination"], b["date"], b["stops"]) == ("LAX", "JFK", day.isoformat(), 0)
    assert b["passengers"] == [{"first_name": "Grace", "last_name": "Hopper"}]
    assert b["contact"]["email"] == "grace@example.com"
    assert b["segments"][0]["seat_types"] == ["aisle"]  # the first free aisle seat, as the person chose
    assert b["payment"]["last4"] == "4242" and b["reference"] in (run.result.answer or "")
    assert any("Purchase at" in v.summary for v in asked)  # the payment step still asked
    healed = {h.before.name: h.after.name for h in run.planner.heals}
    assert healed["Search flights"] == "Find flights"
    assert healed["Choose Economy Standard"] == "Select Economy Standard"
    assert all(h.source == "score" for h in run.planner.heals)
