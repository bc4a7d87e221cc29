"""A run as a stream of typed events: `async for event in agent.stream(task): ...`.

One source for everyone who watches a run as it goes (the terminal's progress lines,
the MCP server's progress notifications, reports): the run started, a question was put
to the person and answered, a step finished (its StepRecord, as the trace has it), the
run finished (its RunResult).

The loop is not changed for this: run() goes on as its own task while a RunHook and a
watching wrapper around the agent's approver put events on a queue. A consumer that
stops listening (leaves the loop, is cancelled) stops the run at once; every finished
step is in the trace already, and the trace gets the run's end ("stopped").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .agent import check_task
from .protocols import Approver, RunHook
from .types import Action, RunResult, StepRecord, Verdict

if TYPE_CHECKING:
    from .agent import Agent


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunStarted(_Event):
    kind: Literal["run_started"] = "run_started"
    task: str
    start_url: str | None = None
    max_steps: int
    run_dir: str | None = None  # known here when the caller made it beforehand (build_agent(run_dir=))


class ApprovalAsked(_Event):
    """A question put to the person (the gate's "ask", a payment, a page's confirm())."""

    kind: Literal["approval_asked"] = "approval_asked"
    step: int  # the step under way
    summary: str  # what the person is shown


class ApprovalAnswered(_Event):
    kind: Literal["approval_answered"] = "approval_answered"
    step: int
    summary: str
    approved: bool


class StepFinished(_Event):
    kind: Literal["step_finished"] = "step_finished"
    step: StepRecord  # as written to the trace a moment before


class RunFinished(_Event):
    kind: Literal["run_finished"] = "run_finished"
    result: RunResult


RunEvent = Annotated[RunStarted | ApprovalAsked | ApprovalAnswered | StepFinished | RunFinished,
                     Field(discriminator="kind")]


class _Tap:
    """A RunHook that queues what the loop reports, and counts steps so that a question
    can say which step asked it."""

    def __init__(self, queue: asyncio.Queue[RunEvent | None]) -> None:
        self.queue = queue
        self.finished = 0

    def put(self, event: RunEvent) -> None:
        self.queue.put_nowait(event)

    def on_step(self, step: StepRecord) -> None:
        self.finished = step.step
        self.put(StepFinished(step=step))

    def on_run_end(self, result: RunResult) -> None:
        self.put(RunFinished(result=result))


class _WatchedApprover:
    """The agent's own approver, unchanged in who answers; the question and the answer
    are told to the stream as well."""

    def __init__(self, inner: Approver, tap: _Tap) -> None:
        self.inner = inner
        self.tap = tap

    async def approve(self, verdict: Verdict, action: Action) -> bool:
        summary = verdict.summary or verdict.reason
        step = self.tap.finished + 1
        self.tap.put(ApprovalAsked(step=step, summary=summary))
        approved = await self.inner.approve(verdict, action)
        self.tap.put(ApprovalAnswered(step=step, summary=summary, approved=approved))
        return approved


async def stream_run(agent: Agent, task: str) -> AsyncGenerator[RunEvent, None]:
    """Agent.stream: run `task` on `agent`, yielding its events; RunFinished comes last.

    The run's own error (e.g. ModelAccessError) is raised after its RunFinished, as
    run() raises it. Leaving the loop early or cancelling the consumer cancels the run
    (use contextlib.aclosing to have that happen at once after a `break`).
    """
    check_task(task)  # before anything starts, as run() does
    queue: asyncio.Queue[RunEvent | None] = asyncio.Queue()
    tap = _Tap(queue)
    approver = agent.approver
    agent.hooks.append(tap)
    agent.approver = _WatchedApprover(approver, tap)
    run = asyncio.ensure_future(agent.run(task))
    run.add_done_callback(lambda _: queue.put_nowait(None))  # the end, however it came
    try:
        run_dir = agent.config.run_dir
        yield RunStarted(task=task, start_url=agent.start_url, max_steps=agent.config.max_steps,
                         run_dir=str(run_dir) if run_dir else None)
        finished = False
        while (event := await queue.get()) is not None:
            finished = finished or isinstance(event, RunFinished)
            yield event
        result = run.result()
        if not finished and isinstance(result, RunResult):
            yield RunFinished(result=result)  # a run() that told no hook (a subclass, a stand-in)
    finally:
        try:
            if not run.done():
                run.cancel()  # the run ends as "stopped"; its finished steps are in the trace
                await asyncio.wait({run})
        finally:
            agent.hooks.remove(tap)
            agent.approver = approver
            if run.done() and not run.cancelled():
                run.exception()  # retrieved: a run nobody listens to any more logs no warning


async def follow(events: AsyncGenerator[RunEvent, None], *hooks: RunHook) -> RunResult:
    """Feed a stream to RunHooks (progress lines, spend per step) and return the result."""
    result: RunResult | None = None
    async with contextlib.aclosing(events):
        async for event in events:
            if isinstance(event, StepFinished):
                for hook in hooks:
                    hook.on_step(event.step)
            elif isinstance(event, RunFinished):
                result = event.result
                for hook in hooks:
                    hook.on_run_end(result)
    if result is None:  # every run that ends without raising reports its result
        raise RuntimeError("the run's stream ended without its result")
    return result
