"""Issue 11: the shipped shop skill replayed on the redesigned shop with nobody to ask,
under the policy equivalent of `--without-asking payment --max-purchase 30`; and the
gate's refusals saying the real reason, never advising what is already set."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from skills_helpers import CARD

from operator_agent.builder import permissions
from operator_agent.permissions.audit import list_entries
from operator_agent.permissions.policy import Policy
from operator_agent.permissions.policy_gate import PolicyGate
from operator_agent.skills.library import SkillLibrary
from operator_agent.skills.run import SkillRun, run_skill
from operator_agent.skills.values import resolve
from operator_agent.types import Click, Element, Observation, Type
from operator_bench.sites import PracticeSites

UNATTENDED = {"without_asking": ["payment"], "max_purchase": 30}
PAY_FRAME = "https://js.stripe.com/v3/elements-inner-card.html"  # a shipped payment-frame host
SHOP = "https://shop.test/checkout/delivery"
CART = "1 × USB-C cable (White, 0.5 m)\n$13.99 · Items (1): · $13.99 · Subtotal: · $13.99"


async def _replay_on_the_variant_shop(sites: PracticeSites, context: Any, shipped: SkillLibrary,
                                      tmp_path: Path, run_id: str, **overrides: Any) -> tuple[SkillRun, Any]:
    """The shipped skill on the redesigned shop, with no terminal (nobody to ask)."""
    sites.configure(variant=True, newsletter_delay_ms=-1)
    entry = shipped.get("buy-usb-cable")
    values = resolve(entry.skill, {**CARD, "password": "demo1234"})
    perms = permissions(run_id=run_id, interactive=False, overrides=overrides)
    run = await run_skill(entry.skill, values, url=sites.shop_url + "/", context=context, perms=perms,
                          runs_dir=tmp_path)
    return run, perms


async def test_shop_skill_buys_unattended_on_the_redesigned_shop(
        sites: PracticeSites, fresh_context: Any, shipped: SkillLibrary, tmp_path: Path) -> None:
    run, perms = await _replay_on_the_variant_shop(sites, fresh_context, shipped, tmp_path, "unattended",
                                                   **UNATTENDED)
    assert run.result.success, run.result.answer
    (order,) = sites.state("shop")["orders"]
    assert order["payment"]["last4"] == "4242" and order["total"] <= 30
    # "Continue to pay" moved on to the payment page; the payment itself was still gated:
    # pre-approved by the policy, bound to the order's amount.
    audit = perms.gate.audit
    allowed = [e for e in list_entries(audit.path, run_id="unattended") if "pre-approved" in e.reason]
    assert allowed and all(f"{order['total']:.2f} USD" in e.summary for e in allowed)
    assert all("Continue to pay" not in e.reason for e in allowed)


async def test_a_purchase_over_the_limit_is_refused_for_that_reason(
        sites: PracticeSites, fresh_context: Any, shipped: SkillLibrary, tmp_path: Path) -> None:
    run, _ = await _replay_on_the_variant_shop(sites, fresh_context, shipped, tmp_path, "too-low",
                                               without_asking=["payment"], max_purchase=10)
    assert not run.result.success
    answer = run.result.answer or ""
    assert "over the per-purchase limit of 10" in answer, answer
    assert "without_asking" not in answer  # already set: nothing to advise about it
    state = sites.state("shop")
    assert state["orders"] == [] and state["payments"] == []


# --- the gate on hand-built pages (as tests/permissions/conftest.py builds them) ---------------


def _el(index: int, role: str, text: str, *, frame: str = "", **attributes: str) -> Element:
    tag = {"button": "button", "link": "a", "textbox": "input"}.get(role, "div")
    return Element(index=index, role=role, tag=tag, name=text, frame=frame, attributes=attributes)


def _page(*elements: Element, text: str = "", url: str = SHOP) -> Observation:
    lines = [f"url: {url}", *(f'[{e.index}] {e.role} "{e.name}"' for e in elements), text]
    return Observation(url=url, elements=list(elements), text="\n".join(lines))


def _unattended(**policy: Any) -> PolicyGate:
    return PolicyGate(Policy(**policy), interactive=False)


PRE_APPROVED = {"without_asking": frozenset({"payment"}), "max_purchase": Decimal(30)}


async def test_unknown_amount_says_so_and_not_to_set_what_is_set() -> None:
    place = _page(_el(1, "button", "Place order"), text=CART)  # no total anywhere
    for policy in (PRE_APPROVED, {}):
        verdict = await _unattended(**policy).check(Click(index=1), place)
        assert verdict.decision == "deny"
        assert "its amount could not be read from the page" in verdict.reason, verdict.reason
        assert "run it at a terminal and approve it" in verdict.reason
        assert 'add "payment"' not in verdict.reason  # would not help either way
    euros = _page(_el(1, "button", "Place order"), text=CART + "\nOrder total: 20,00 €")
    verdict = await _unattended(**PRE_APPROVED).check(Click(index=1), euros)
    assert verdict.decision == "deny" and "20.00 EUR, is not in USD" in verdict.reason
    assert 'add "payment"' not in verdict.reason
    # With the amount on the page, the advice to pre-approve payments is true, and followed, works.
    shown = _page(_el(1, "button", "Place order"), text=CART + "\nOrder total: $18.98")
    verdict = await _unattended().check(Click(index=1), shown)
    assert verdict.decision == "deny" and 'add "payment" to [approval] without_asking' in verdict.reason
    assert (await _unattended(**PRE_APPROVED).check(Click(index=1), shown)).decision == "allow"


async def test_a_person_is_told_why_a_pre_approved_kind_is_asked() -> None:
    gate = PolicyGate(Policy(**PRE_APPROVED), interactive=True)
    verdict = await gate.check(Click(index=1), _page(_el(1, "button", "Pay now"), text=CART))
    assert verdict.decision == "ask"
    assert "not pre-approved: its amount could not be read from the page" in verdict.summary


@pytest.mark.parametrize("wording", ["Continue to pay", "Go to payment", "Proceed to checkout",
                                     "Continue to secure payment →", "Next: payment"])
async def test_moving_on_to_the_payment_step_is_not_paying(wording: str) -> None:
    step = _page(_el(1, "button", wording), text=CART)
    assert (await _unattended().check(Click(index=1), step)).decision == "allow"


CARD_FIELD = _el(2, "textbox", "Card number", autocomplete="cc-number")


@pytest.mark.parametrize(("wording", "page"), [
    ("Continue to pay now", _page(_el(1, "button", "Continue to pay now"), text=CART)),
    ("Continue to pay $18.98", _page(_el(1, "button", "Continue to pay $18.98"), text=CART)),
    ("and place order", _page(_el(1, "button", "Continue to pay and place order"), text=CART)),
    ("card fields", _page(_el(1, "button", "Continue to pay"), CARD_FIELD, text=CART)),
    ("payment frame", _page(_el(1, "button", "Continue to pay"), _el(2, "button", "Go", frame=PAY_FRAME),
                            text=CART)),
    ("saved card", _page(_el(1, "button", "Continue to pay"), text=CART + "\nVisa ending in 4242")),
    ("order total", _page(_el(1, "button", "Continue to pay"), text=CART + "\nOrder total: $18.98")),
    ("pay id", _page(_el(1, "button", "Continue to pay", id="place-order"), text=CART)),
])
async def test_the_same_words_pay_where_something_could_be_paid(wording: str, page: Observation) -> None:
    """Wording alone never takes a purchase past the gate: where the page holds a way to
    pay, or an amount, or the button says more, it is a purchase (asked, or refused here)."""
    verdict = await _unattended().check(Click(index=1), page)
    assert verdict.decision == "deny" and "purchase" in verdict.reason, wording


async def test_card_details_on_a_page_with_a_step_button_still_pay() -> None:
    page = _page(_el(1, "button", "Continue to pay"), CARD_FIELD, text=CART)
    verdict = await _unattended().check(Type(index=2, text="4242"), page)
    assert verdict.decision == "deny" and "card details" in verdict.reason
