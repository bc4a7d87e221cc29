"""The shop and flights suites end to end with their scripted replies: real Chromium,
the real loop and permission gate, the practice sites' servers as the judge."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from operator_agent.evals.planners import PlannerSpec
from operator_agent.evals.report import write_eval_report
from operator_agent.evals.results import TaskResult, load_results
from operator_agent.evals.runner import EvalRequest, execute, prepare

PICKED = ["shop/usb-c-under-15", "shop/approval-denied", "shop/usb-c-under-1",
          "flights/jfk-lis-nonstop-aisle", "flights/unknown-airport", "wrong/cart-expects-order"]
# The same replies as shop/cart-only, judged by a check that must fail: no order was placed.
WRONG = """suite: wrong
tasks:
  - id: cart-expects-order
    site: shop
    goal: Put a USB-C cable under $15 in the cart, but do not buy it.
    checks:
      - cart: {items: [{title: USB-C}]}
      - order: {items: [{title: USB-C}]}
    script:
      call: operator_bench.solutions.shop:shop
      reads: prompt
      with: {query: usb-c cable, title: USB-C, max_price: 15, stop: cart}
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, TaskResult]]:
    d = tmp_path_factory.mktemp("sites")
    (d / "wrong.yaml").write_text(WRONG)
    path = d / "results.jsonl"
    plan = prepare(EvalRequest(f"shop,flights,{d / 'wrong.yaml'}", planner=PlannerSpec("scripted"),
                               tasks=",".join(PICKED), workers=2, results=path, screenshots=False,
                               timeout_s=240))
    assert len(plan.items) == len(PICKED)
    execute(plan, progress="none")
    return path, {f"{r.suite}/{r.task}": r for r in load_results(path)}


def _explain(r: TaskResult) -> str:
    return f"{r.error or ''} {r.message[:300]} " + "; ".join(f"{c.name}: {c.detail}" for c in r.checks)


@pytest.mark.parametrize("key", [k for k in PICKED if not k.startswith("wrong/")])
def test_scripted_tasks_pass_their_checks(run: tuple[Path, dict[str, TaskResult]], key: str) -> None:
    r = run[1][key]
    assert r.error is None and r.success and r.checks, _explain(r)
    assert r.steps > 0 and r.seconds > 0 and r.planner == "scripted"


def test_a_purchase_asks_the_person_with_the_amount_the_shop_charges(
        run: tuple[Path, dict[str, TaskResult]]) -> None:
    r = run[1]["shop/usb-c-under-15"]
    assert len(r.approvals) == 1 and r.approvals[0].approved
    shown = r.approvals[0]
    assert shown.currency == "USD" and shown.amount and "USB-C" in shown.summary  # the items, too
    total = re.search(r"total \$(\d+\.\d\d)", r.answer or "")
    assert total and float(total.group(1)) == shown.amount  # what was approved is what was paid
    assert {c.name.split()[0] for c in r.checks if c.ok} == {"order", "approval"}
    assert r.chosen == {"scripted": r.steps}  # every step's provenance, counted


def test_a_denied_approval_means_no_payment(run: tuple[Path, dict[str, TaskResult]]) -> None:
    r = run[1]["shop/approval-denied"]
    assert len(r.approvals) == 1 and not r.approvals[0].approved and r.approvals[0].amount
    assert r.stop_reason == "failed" and "not approved" in (r.answer or "")


@pytest.mark.parametrize("key", ["shop/usb-c-under-1", "flights/unknown-airport"])
def test_impossible_tasks_are_reported_as_such(run: tuple[Path, dict[str, TaskResult]], key: str) -> None:
    r = run[1][key]
    assert r.success and r.stop_reason == "failed" and r.answer  # the agent said it could not
    assert not r.approvals


def test_a_check_that_should_fail_fails(run: tuple[Path, dict[str, TaskResult]]) -> None:
    r = run[1]["wrong/cart-expects-order"]
    assert r.error is None and not r.success
    assert [c.ok for c in r.checks] == [True, False]  # the cart is there, the order is not


def test_the_report_links_every_task_to_its_trace(run: tuple[Path, dict[str, TaskResult]]) -> None:
    path, results = run
    html = write_eval_report(path).read_text()
    links = re.findall(r'<a href="([^"]+)">trace</a>', html)
    assert len(links) == len(results)
    assert all((path.parent / link).is_file() for link in links)
    assert "<svg" in html and "shop/permission" in html and "flights/impossible" in html
