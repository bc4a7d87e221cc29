"""agent.stream(task): a run as typed events, in order, from the real loop on real
Chromium (only the model's choices are scripted); a consumer that stops listening stops
the run, and the trace keeps what was done."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from operator_agent.agent import Agent, AgentConfig, EmptyTask
from operator_agent.events import (
    ApprovalAnswered,
    ApprovalAsked,
    RunEvent,
    RunFinished,
    RunStarted,
    StepFinished,
)
from operator_agent.permissions.gate import CallbackApprover
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.session import BrowserSession
from operator_agent.traces import load_run
from operator_agent.types import Observation, PlannerOutput
from operator_bench.demo import script
from operator_bench.demo.server import DemoSite


async def test_a_run_streams_start_approvals_steps_and_result_in_order(context, tmp_path: Path) -> None:
    with DemoSite() as site:
        env = BrowserSession(context)
        await env.goto(site.url)
        person = CallbackApprover(lambda verdict, action: True)  # the subscription's payment: yes
        agent = Agent(planner=ScriptedPlanner(list(script.STEPS), verifications=[True]), environment=env,
                      approver=person, config=AgentConfig(runs_dir=tmp_path))
        events: list[RunEvent] = [event async for event in agent.stream(script.TASK)]
        signups = site.state()

    assert isinstance(events[0], RunStarted) and events[0].task == script.TASK
    assert events[0].max_steps == agent.config.max_steps
    assert isinstance(events[-1], RunFinished)
    result = events[-1].result
    assert result.success and len(signups) == 1
    steps = [e.step for e in events if isinstance(e, StepFinished)]
    assert [s.step for s in steps] == list(range(1, result.steps + 1))
    assert result.steps == len(script.STEPS)
    # The payment was asked and answered inside the step that paid, before that step finished.
    asked = [i for i, e in enumerate(events) if isinstance(e, ApprovalAsked)]
    assert len(asked) == 1
    question, answer = events[asked[0]], events[asked[0] + 1]
    assert isinstance(question, ApprovalAsked) and isinstance(answer, ApprovalAnswered)
    assert answer.approved and answer.summary == question.summary and "9.60" in question.summary
    paid = next(e for e in events[asked[0]:] if isinstance(e, StepFinished))
    assert paid.step.step == question.step
    assert [(n.summary, n.approved) for n in paid.step.approvals] == [(question.summary, True)]
    # The stream's records are the trace's.
    run = load_run(Path(result.run_dir or ""))
    assert [s.model_dump(exclude={"screenshot"}) for s in run.steps] == [
        s.model_dump(exclude={"screenshot"}) for s in steps]
    assert agent.hooks == [] and agent.approver is person  # the agent is as it was


class _StopsListening(ScriptedPlanner):
    """Two quick steps, then a model call that never returns (the run is busy when its
    listener goes away)."""

    def __init__(self) -> None:
        super().__init__([{"reasoning": "look", "actions": [{"action": "wait", "seconds": 0}]}] * 2)
        self.thinking = asyncio.Event()

    async def decide(self, task: str, observation: Observation, *args: Any, **kwargs: Any) -> PlannerOutput:
        if self.remaining == 0:
            self.thinking.set()
            await asyncio.Future()  # forever: only a cancel ends it
        return await super().decide(task, observation, *args, **kwargs)


@pytest.mark.parametrize("how", ["cancel", "break"])
async def test_a_consumer_that_stops_listening_stops_the_run(context, pages_server, tmp_path: Path,
                                                             how: str) -> None:
    env = BrowserSession(context)
    await env.goto(pages_server.url("/agent/login.html"))
    planner = _StopsListening()
    agent = Agent(planner=planner, environment=env, config=AgentConfig(runs_dir=tmp_path / "runs"))
    seen: list[RunEvent] = []

    async def listen() -> None:
        async with contextlib.aclosing(agent.stream("look at the page")) as events:
            async for event in events:
                seen.append(event)
                if how == "break" and isinstance(event, StepFinished) and event.step.step == 2:
                    await planner.thinking.wait()
                    break

    consumer = asyncio.ensure_future(listen())
    if how == "cancel":
        await planner.thinking.wait()
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
    else:
        await consumer

    (run_dir,) = (tmp_path / "runs").iterdir()
    run = load_run(run_dir)
    assert run.result is not None and run.result.stop_reason == "stopped"
    assert [s.step for s in run.steps][:2] == [1, 2]  # every finished step kept
    assert [e.step.step for e in seen if isinstance(e, StepFinished)] == [1, 2]
    assert not any(isinstance(e, RunFinished) for e in seen)
    assert agent.hooks == []


async def test_an_empty_task_is_refused_before_anything_starts() -> None:
    agent = Agent(planner=ScriptedPlanner([]), environment=None)
    with pytest.raises(EmptyTask):
        await anext(agent.stream("  "))
