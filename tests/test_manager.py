"""A manager and its workers for real: real Chromium (one browser, a context per worker), the
practice shop and flight site on loopback, the permission gate, the spending ledger; only
the model is faked, by the fake OpenAI-compatible server, answering each request the way
a model would: by reading it (the manager's plan, check and answer calls by their schema,
each worker's steps by its task and the page it is shown).

1. A USB-C cable bought on the shop and the cheapest fare to Lisbon found on the flight
   site, at the same time; the fare worker's first answer has no price, fails the check,
   goes back with the reason and passes; the answer adds up the order and the fare.
2. Two purchases at the same moment under a daily limit only one of them fits: one order
   on the shop's server, the other worker refused (not retried), the ledger counts one.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from operator_agent import cli
from operator_agent.builder import build_manager
from operator_agent.evals.tasks import long_date
from operator_agent.manager import ManagerResult
from operator_agent.manager.manager import SENT_BACK
from operator_agent.permissions import paths
from operator_agent.permissions.audit import list_entries
from operator_agent.permissions.gate import CallbackApprover
from operator_agent.permissions.ledger import SpendLedger
from operator_agent.report import write_report
from operator_agent.types import Action, Verdict
from operator_bench.sites import PracticeSites
from operator_bench.solutions import manager as scripted
from operator_bench.solutions.page import done, find, step, type_
from operator_bench.solutions.shop import split_prompt
from operator_bench.testing.fake_openai import FakeOpenAIServer

DAYS_AHEAD = 10  # the fare's date, from the flight site's today (the machine's)


def _approver(asked: list[str]) -> CallbackApprover:
    """The person: says yes, and keeps what they were shown."""

    def person(verdict: Verdict, action: Action) -> bool:
        asked.append(verdict.summary)
        return True

    return CallbackApprover(person)


async def _manage(fake: FakeOpenAIServer, browser_handle: Any, tmp_path: Path, task: str, asked: list[str],
                  **kw: Any) -> ManagerResult:
    manager = build_manager(model="fake-model", base_url=fake.base_url, browser=browser_handle.browser,
                            workers=2, max_retries=1, approver=_approver(asked), runs_dir=tmp_path / "runs",
                            max_steps=30, **kw)
    async with manager:
        return await manager.run(task)


@pytest.fixture
def quick_sites(sites: PracticeSites) -> PracticeSites:
    # No waiting on the flight search, no newsletter pop-up: the hazards are other tests' subject.
    sites.configure(slow_ms=0, newsletter_delay_ms=-1)
    return sites


async def test_two_workers_in_parallel_one_sent_back_and_the_answer_adds_up(
        quick_sites: PracticeSites, browser_handle: Any, tmp_path: Path) -> None:
    sites = quick_sites
    day = dt.date.today() + dt.timedelta(days=DAYS_AHEAD)
    plan, workers = scripted.cable_and_fare(sites.shop_url, sites.flights_url, day)
    model = scripted.ManagerScript(plan, workers, meet_at="first step")  # both at work at once
    asked: list[str] = []
    with FakeOpenAIServer(default=model, model="fake-model") as fake:
        task = ("Buy the cheapest in-stock USB-C cable under $15 and find the cheapest economy fare to "
                f"Lisbon from New York on {long_date(day)}; tell me the total.")
        result = await _manage(fake, browser_handle, tmp_path, task, asked)

    assert result.success, result.message
    assert scripted.SENT_BACK == SENT_BACK  # the bench's script knows the marker a worker is sent back with
    cable, fare = result.workers
    assert len(cable.attempts) == 1 and cable.attempts[0].check.ok and cable.attempts[0].checked_by == "model"
    # The fare worker's first answer lacks the price: sent back with the reason, then it passes.
    assert [a.check.ok for a in fare.attempts] == [False, True] and result.retries == 1
    assert fare.attempts[0].checked_by == "structure" and "fare per person" in fare.attempts[0].check.reason
    assert SENT_BACK in fare.attempts[1].task and fare.attempts[0].check.reason in fare.attempts[1].task
    # What the servers hold: the order, and the cheapest fare on that day.
    (order,) = sites.state("shop")["orders"]
    assert "USB-C" in order["items"][0]["title"] and order["items"][0]["unit_price"] <= 15
    cheapest = min(it.price for it in sites.flights.schedule.search("JFK", "LIS", day)) / 100
    assert f"${cheapest:,.2f}" in (fare.attempts[1].result.answer or "")
    assert f"Together: ${order['total'] + cheapest:,.2f}." in (result.answer or "")
    # The purchase was put to the person, named with its worker.
    assert asked and all(q.startswith("worker 1 (USB-C cable): ") for q in asked)

    # The tree: the manager's folder holds each attempt's own run folder and trace.
    run_dir = Path(result.run_dir or "")
    assert sorted(p.relative_to(run_dir).as_posix() for p in run_dir.glob("w*/a*/trace.jsonl")) == [
        "w1/a1/trace.jsonl", "w2/a1/trace.jsonl", "w2/a2/trace.jsonl"]
    html = write_report(run_dir).read_text()
    assert 'href="w2/a2/report.html"' in html and "sent back" in html and "fare per person" in html


async def test_spend_limit_holds_across_workers_paying_at_the_same_moment(
        quick_sites: PracticeSites, browser_handle: Any, tmp_path: Path) -> None:
    sites = quick_sites
    # The processor takes its time: the first payment is still on its way when the second is sent.
    sites.configure(payment_delay_ms=1500)
    # The cheapest USB-C order comes to about $9.50 and the cheapest HDMI one to about $15, with
    # delivery: either fits under $20 a day, both do not.
    plan, workers = scripted.two_cables(sites.shop_url)
    model = scripted.ManagerScript(plan, workers, meet_at="Pay with the test card")  # both pay at once
    asked: list[str] = []
    with FakeOpenAIServer(default=model, model="fake-model") as fake:
        task = "Buy a USB-C cable under $15 and an HDMI cable under $20, the cheapest in stock."
        result = await _manage(fake, browser_handle, tmp_path, task, asked,
                               overrides={"max_daily": 20, "max_purchase": 20})

    orders = sites.state("shop")["orders"]
    assert len(orders) == 1 and orders[0]["total"] <= 20  # exactly one paid, never both
    assert len([p for p in sites.state("payments")["submissions"] if p["status"] == "approved"]) == 1
    bought = next(w for w in result.workers if w.passed)
    refused = next(w for w in result.workers if not w.passed)
    assert bought.subtask.label.split()[0] in orders[0]["items"][0]["title"]
    assert len(refused.attempts) == 1 and refused.attempts[0].checked_by == "refusal"  # not sent back
    assert "daily limit of 20" in (refused.attempts[0].refused or "")
    assert not result.success and "daily limit" in (result.answer or "")
    assert all(re.match(r"worker [12] \((USB-C|HDMI) cable\): ", q) for q in asked)

    # The ledger the workers shared counts the one purchase; the refusal is in the refused
    # worker's own audit entries.
    ledger = SpendLedger(paths.audit_path())
    assert float(ledger.spent_today("USD")) == orders[0]["total"]
    ledger.close()
    run_id = f"{Path(result.run_dir or '').name}/w{refused.number}"
    assert any(e.decision == "deny" and "daily limit" in e.reason for e in list_entries(run_id=run_id))


def _price_reader(text: str) -> dict[str, Any]:
    """Searches the shop and reads the first listed price."""
    page, _ = split_prompt(text)
    if "Results for" in page:
        price = re.search(r"\$([\d,]+\.\d\d)", page.split("Results for", 1)[1])
        assert price is not None
        said = f"The first HDMI cable listed costs ${price.group(1)}."
        return step("The first listing's price.", done(said))
    return step("Search.", type_(find(page, "Search Brightcart"), "hdmi cable", submit=True))


def test_operator_run_with_workers_prints_the_answer_and_reports_the_tree(
        quick_sites: PracticeSites, capsys: pytest.CaptureFixture[str]) -> None:
    plan = {"reasoning": "One thing.", "subtasks": [scripted.subtask(
        "hdmi", "HDMI price", "Find the price of the first HDMI cable Brightcart lists.",
        quick_sites.shop_url, [("price", "money")], [])]}
    model = scripted.ManagerScript(plan, {"HDMI": _price_reader})
    with FakeOpenAIServer(default=model, model="fake-model") as fake:
        code = cli.main(["run", "--workers", "2", "what does an HDMI cable cost at Brightcart?",
                         "--url", quick_sites.shop_url, "--model", "fake-model", "--base-url", fake.base_url])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "The first HDMI cable listed costs $" in out.out and "worker 1 (HDMI price)" in out.err
    assert cli.main(["report", "last"]) == 0
    report = Path(capsys.readouterr().out.strip())
    assert 'href="w1/a1/report.html"' in report.read_text()
    assert (report.parent / "w1/a1/report.html").is_file()


def test_workers_refuse_what_they_cannot_do(capsys: pytest.CaptureFixture[str]) -> None:
    for flags, said in ((["--desktop"], "not with --desktop"), (["--profile", "p"], "--profile"),
                        (["--retries", "9"], "--retries")):
        assert cli.main(["run", "--workers", "2", "buy two cables", *flags]) == 2
        assert said in capsys.readouterr().err
