"""The manager's vocabulary: the plan the model makes (sub-tasks with the spec a result
must meet), its checks of a worker's result, its answer, and what a manager run returns.

The plan, check and answer models are what the model is asked for (structured output,
planner/schema.py makes them strict); the rest is what the manager records.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..types import RunResult, StopReason, Usage

# What a fact the answer must state looks like, for the cheap check before the model's.
FactKind = Literal["money", "number", "date", "text"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Fact(_Model):
    """One fact a worker's answer must state."""

    name: str = Field(max_length=60, description="what it is, e.g. 'price', 'order number', 'airline'")
    kind: FactKind = Field(description="money: an amount with its currency; number; date; text")


class Spec(_Model):
    """What a good result of a sub-task contains: checked by the manager, shown to the worker."""

    must_state: list[Fact] = Field(max_length=8, description="facts the worker's answer must state")
    constraints: list[str] = Field(max_length=8, description="conditions the result must meet, in "
                                   "the person's terms, e.g. 'under $15', 'in stock', 'Economy Light fare'")


class SubTask(_Model):
    id: str = Field(max_length=24, description="a short id, e.g. 'usb-c'")
    label: str = Field(max_length=40, description="a few words naming it for the person, e.g. 'HDMI cable'")
    task: str = Field(max_length=1200, description="the whole job for one worker, in plain words, with "
                      "every detail from the request it needs (the worker sees nothing else)")
    start_url: str | None = Field(description="the page to start on, if the request names one")
    spec: Spec


class Plan(_Model):
    reasoning: str = Field(max_length=800, description="how the request splits, in one or two sentences")
    subtasks: list[SubTask] = Field(min_length=1, max_length=8)


class WorkerCheck(_Model):
    """The manager's verdict on one worker's result."""

    ok: bool
    reason: str = Field(max_length=400, description="one sentence: why; when not ok, what to fix")


class FinalAnswer(_Model):
    """What the person is told."""

    answer: str = Field(max_length=4000)
    success: bool = Field(description="true only if every part of the request was done")


CheckedBy = Literal["structure", "model", "refusal", "unchecked"]


class Attempt(_Model):
    """One run of a worker on its sub-task (a retry is another attempt, with the reason)."""

    number: int
    task: str  # what the worker was given (the sub-task, the spec, and any reason sent back)
    result: RunResult
    check: WorkerCheck
    checked_by: CheckedBy
    refused: str | None = None  # the permission layer or the person refused something it did


class WorkerReport(_Model):
    number: int
    label: str  # how the person hears of it: "worker 2 (HDMI cable)"
    subtask: SubTask
    attempts: list[Attempt] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].check.ok

    @property
    def seconds(self) -> float:
        return sum(a.result.seconds for a in self.attempts)


class ManagerResult(_Model):
    task: str
    success: bool
    answer: str | None = None
    stop_reason: StopReason = "done"
    message: str = ""  # one line for a person: why it stopped
    plan: Plan | None = None
    workers: list[WorkerReport] = Field(default_factory=list)
    retries: int = 0  # attempts sent back to their worker, over all workers
    usage: Usage = Field(default_factory=Usage)  # the manager's own calls and every worker's
    seconds: float = 0.0  # the manager's wall time
    worker_seconds: float = 0.0  # the workers' own run times, added up
    run_dir: str | None = None

    def run_result(self) -> RunResult:
        """As a RunResult (the workers' steps added up): the manager's trace ends with it, and
        `operator run` prints it."""
        steps = sum(a.result.steps for w in self.workers for a in w.attempts)
        return RunResult(task=self.task, success=self.success, answer=self.answer,
                         stop_reason=self.stop_reason, message=self.message, steps=steps, usage=self.usage,
                         seconds=self.seconds, run_dir=self.run_dir)
