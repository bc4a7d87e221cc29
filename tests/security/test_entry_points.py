"""Issue 12, entry points: every way in gets the same permission layer from the builder.

The README's Python example (`Agent(planner=..., start_url=...)`, no gate given) runs
under the person's policy: with nobody at a terminal the payment is denied and the
shop records nothing; with an approver it asks, showing the amount. An eval episode
and `operator run` assemble the same gate stack.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from operator_agent import cli
from operator_agent.agent import Agent
from operator_agent.evals.episode import run_item
from operator_agent.evals.planners import PlannerSpec, scripted_planner
from operator_agent.evals.suites import WorkItem
from operator_agent.evals.tasks import ScriptSpec, Task
from operator_agent.evals.worker import RunSettings, Worker
from operator_agent.permissions.audit import list_entries
from operator_agent.permissions.gate import CallbackApprover, DenyApprover
from operator_agent.permissions.policy_gate import PolicyGate
from operator_agent.preferences import PreferenceGuard, WithPreferences
from operator_agent.protocols import Planner
from operator_agent.types import Action, RunResult, Verdict
from operator_agent.wire import wire_of
from operator_bench.sites import PracticeSites

TASK = "Buy a USB-C cable under $15"
SHOPPER = ScriptSpec(call="operator_bench.solutions.shop:shop", reads="prompt",
                     with_={"query": "usb-c cable", "title": "USB-C", "max_price": 15})


def _shopper() -> Planner:
    """A scripted model that searches, checks out and pays with the test card."""
    return scripted_planner(SHOPPER, max_steps=30)


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a tty: nobody can be asked


def _policy_gate(agent: Agent) -> PolicyGate:
    gate = agent.gate.gate if isinstance(agent.gate, WithPreferences) else agent.gate
    assert isinstance(gate, PolicyGate), f"Agent() without a gate runs under {type(gate).__name__}"
    return gate


async def test_the_readme_example_is_denied_at_the_payment_with_nobody_to_ask(
        sites: PracticeSites, no_terminal: None) -> None:
    agent = Agent(planner=_shopper(), start_url=sites.shop_url)
    result = await agent.run(TASK)

    assert not result.success
    shop = sites.state("shop")
    assert shop["orders"] == [] and shop["payments"] == []
    processor = sites.state("payments")
    assert processor["submissions"] == [] and not any(i["captured"] for i in processor["intents"])
    audit = _policy_gate(agent).audit
    assert audit is not None
    denied = list_entries(audit.path, run_id=audit.run_id, decision="deny")
    assert denied, "the payment went through no denial"
    assert any("nobody can approve it" in e.reason and re.search(r"purchase|pay", e.reason, re.I)
               for e in denied), [e.reason for e in denied]


async def test_the_readme_example_with_an_approver_asks_with_the_amount(
        sites: PracticeSites, no_terminal: None) -> None:
    asked: list[Verdict] = []

    def person(verdict: Verdict, action: Action) -> bool:
        asked.append(verdict)
        return True

    agent = Agent(planner=_shopper(), start_url=sites.shop_url, approver=CallbackApprover(person))
    result = await agent.run(TASK)

    assert result.success, result.message
    (order,) = sites.state("shop")["orders"]
    assert len(asked) == 1, [v.summary for v in asked]
    assert f"amount: {order['total']:.2f} USD" in asked[0].summary  # what was approved is what was paid


def test_agent_without_a_gate_never_allows_everything(no_terminal: None) -> None:
    agent = Agent(planner=_shopper())
    _policy_gate(agent)
    assert isinstance(agent.approver, DenyApprover)


# --- the same assembly for an eval episode and `operator run` -------------------------------


def _capture_runs(monkeypatch: pytest.MonkeyPatch) -> list[Agent]:
    """Agent.run records the agent it was called on and stops: only the assembly is compared."""
    built: list[Agent] = []

    async def run(self: Agent, task: str) -> RunResult:
        built.append(self)
        return RunResult(task=task, success=False, stop_reason="failed", message="not run")

    monkeypatch.setattr(Agent, "run", run)
    return built


def _stack(agent: Agent) -> dict[str, Any]:
    layers, gate = [], agent.gate
    while isinstance(gate, WithPreferences):
        layers.append(type(gate).__name__)
        assert isinstance(gate.guard, PreferenceGuard)
        gate = gate.gate
    assert isinstance(gate, PolicyGate)
    layers.append(type(gate).__name__)
    return {"layers": layers, "policy": dataclasses.replace(gate.policy, source=""),
            "interactive": gate.interactive, "approver": type(agent.approver).__name__,
            "audited": gate.audit is not None, "vault": agent.vault,
            "on the wire": sorted(k for k, v in wire_of(agent.gate).items() if v is not None)}


async def _eval_episode(tmp_path: Path) -> None:
    """An eval task with preferences and nobody to approve, run as `operator eval` runs it."""
    task = Task.model_validate({
        "id": "stack", "suite": "entry", "site": "flights", "approve": "nobody",
        "goal": "Book a flight from New York to Lisbon for Ada Lovelace.",
        "preferences": ["I prefer aisle seats."], "policy": {"max_purchase": 500, "max_daily": 900},
        "script": {"decisions": []}})
    worker = Worker(RunSettings(planner=PlannerSpec("scripted"), runs_dir=tmp_path / "eval-runs"))
    try:
        result = await run_item(worker, WorkItem(task=task, seed=0))
    finally:
        await worker.close()
    assert result.error is None, result.message


def test_an_eval_episode_and_operator_run_build_the_same_gate_stack(
        sites: PracticeSites, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_terminal: None) -> None:
    built = _capture_runs(monkeypatch)
    asyncio.run(_eval_episode(tmp_path))

    monkeypatch.setenv("OPERATOR_MODEL", "stack-test")  # a model is configured; never called
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    code = cli.main(["run", "Book a flight from New York to Lisbon", "--url", sites.flights_url,
                     "--prefs-db", str(tmp_path / "prefs.db"), "--runs-dir", str(tmp_path / "runs"),
                     "--max-purchase", "500", "--max-daily", "900"])
    assert code == 1  # the captured run "failed"
    episode, run = built

    assert _stack(episode) == _stack(run)
    assert _stack(run)["layers"] == ["WithPreferences", "PolicyGate"]
    assert _stack(run)["approver"] == "DenyApprover" and not _stack(run)["interactive"]
    assert "payments" in _stack(run)["on the wire"]  # the request that pays is held in both
