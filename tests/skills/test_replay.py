"""Replaying skills with new parameter values through the normal agent loop, with the
policy gate from builder.permissions(): payment steps still ask, and only a yes pays.
(A different flight is booked in test_variant.py, on the redesigned site.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skills_helpers import CARD, Learned, approving

from operator_agent.builder import permissions
from operator_agent.skills.library import SkillLibrary
from operator_agent.skills.run import run_skill
from operator_agent.skills.values import resolve
from operator_agent.traces import load_run
from operator_agent.types import Verdict
from operator_bench.sites import PracticeSites


async def test_shipped_shop_skill_buys_another_product_once_approved(
        sites: PracticeSites, fresh_context: Any, shipped: SkillLibrary, tmp_path: Path) -> None:
    sites.configure(newsletter_delay_ms=-1)
    skill = shipped.get("buy-usb-cable").skill
    values = resolve(skill, {"max_price": "8", **CARD, "password": "demo1234"})  # recorded under $15
    asked: list[Verdict] = []
    run = await run_skill(skill, values, url=sites.shop_url + "/", context=fresh_context,
                          perms=approving("shop-yes", asked), runs_dir=tmp_path)
    assert run.result.success, run.result.message
    assert run.result.usage.input_tokens == run.result.usage.output_tokens == 0  # no model
    orders = sites.state("shop")["orders"]
    assert len(orders) == 1
    item = orders[0]["items"][0]
    assert "usb-c" in item["title"].lower() and item["unit_price"] <= 8  # another product than recorded
    assert orders[0]["payment"]["last4"] == "4242"
    payments = [v for v in asked if "Purchase at" in v.summary]
    assert payments and f"{orders[0]['total']:.2f}" in payments[0].summary  # bound to the amount
    assert orders[0]["number"] in (run.result.answer or "")
    trace = load_run(Path(run.result.run_dir or ""))
    typed = " ".join(a.model_dump_json() for s in trace.steps for a in s.actions)
    assert "demo1234" not in typed and "4242 4242" not in typed  # secrets kept out of the trace


async def test_payment_step_is_denied_with_nobody_to_approve(
        sites: PracticeSites, fresh_context: Any, shop_learned: Learned, tmp_path: Path) -> None:
    sites.configure(newsletter_delay_ms=-1)
    values = resolve(shop_learned.skill, {**CARD, "password": "demo1234"})
    perms = permissions(run_id="shop-no", interactive=False)
    run = await run_skill(shop_learned.skill, values, url=sites.shop_url + "/", context=fresh_context,
                          perms=perms, runs_dir=tmp_path)
    assert not run.result.success
    assert "Card number" in run.result.message or "card" in (run.result.answer or "").lower()
    assert "nobody can approve" in (run.result.answer or "")
    state = sites.state("shop")
    assert state["orders"] == [] and state["payments"] == []  # nothing paid
    assert state["carts"] and state["carts"][0]["items"]  # it got as far as the payment step
