"""A manager's run folder: its own trace.jsonl (the plan, each attempt as it starts and
ends, each check, every question put to the person, the answer, the result), and its
workers' run folders inside it, `w<N>/a<K>` (worker N's attempt K), each a whole run
folder with its own step-by-step trace.

The trace is a RunTrace (written and flushed line by line, secrets redacted, owner-only),
so `operator report last` finds a manager's run like any other; its first line's meta
says "kind": "manager", and load_manager_run reads the tree back (a run killed mid-way
included: every line written before it died is there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..redaction import Redactor
from ..traces import LoadedRun, RunTrace, load_run
from ..types import RunResult, Usage
from .desk import Asked
from .records import CheckedBy, FinalAnswer, ManagerResult, Plan, WorkerCheck

KIND = "manager"


def attempt_dir(run_dir: Path, worker: int, attempt: int) -> Path:
    return Path(run_dir) / f"w{worker}" / f"a{attempt}"


def is_manager_run(run: LoadedRun) -> bool:
    return run.meta.get("kind") == KIND


class ManagerTrace:
    def __init__(self, run_dir: Path, *, task: str, meta: dict[str, Any],
                 redactor: Redactor | None = None) -> None:
        self._trace = RunTrace(run_dir, task=task, meta={"kind": KIND, **meta}, redactor=redactor)
        self.run_dir = self._trace.run_dir

    def plan(self, plan: Plan, usage: Usage) -> None:
        self._trace.event("plan", {"plan": plan.model_dump(mode="json"),
                                   "usage": usage.model_dump(mode="json")})

    def attempt(self, worker: int, attempt: int, label: str, task: str) -> None:
        run = attempt_dir(Path("."), worker, attempt).as_posix()
        self._trace.event("attempt", {"worker": worker, "attempt": attempt, "label": label, "task": task,
                                      "run": run})

    def attempted(self, worker: int, attempt: int, result: RunResult, refused: str | None) -> None:
        self._trace.event("attempted", {"worker": worker, "attempt": attempt, "refused": refused,
                                        "result": result.model_dump(mode="json")})

    def checked(self, worker: int, attempt: int, check: WorkerCheck, by: CheckedBy, usage: Usage) -> None:
        self._trace.event("check", {"worker": worker, "attempt": attempt, "by": by, **check.model_dump(),
                                    "usage": usage.model_dump(mode="json")})

    def asked(self, asked: Asked) -> None:
        self._trace.event("asked", {"worker": asked.worker, "kind": asked.kind, "text": asked.text,
                                    "answer": asked.answer})

    def answered(self, final: FinalAnswer, usage: Usage) -> None:
        self._trace.event("answer", {**final.model_dump(), "usage": usage.model_dump(mode="json")})

    def finish(self, result: ManagerResult) -> None:
        self._trace.finish(result.run_result())

    def close(self) -> None:
        self._trace.close()


@dataclass
class AttemptView:
    worker: int
    number: int
    label: str
    task: str
    run_dir: Path
    result: RunResult | None = None  # None: still running when the trace ended
    refused: str | None = None
    check: WorkerCheck | None = None
    checked_by: str = ""


@dataclass
class ManagerView:
    """A manager's run folder read back."""

    run_dir: Path
    task: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    started: datetime | None = None
    plan: Plan | None = None
    attempts: list[AttemptView] = field(default_factory=list)
    asked: list[dict[str, Any]] = field(default_factory=list)
    answer: FinalAnswer | None = None
    result: RunResult | None = None  # None: killed before it finished

    def worker_attempts(self, worker: int) -> list[AttemptView]:
        return [a for a in self.attempts if a.worker == worker]


def load_manager_run(run_dir: Path) -> ManagerView:
    """The tree of a manager's run: its plan, attempts, checks, questions and answer."""
    base = load_run(run_dir)  # the run line and the result, and its checks of the file
    view = ManagerView(run_dir=base.run_dir, task=base.task, meta=base.meta, started=base.started,
                       result=base.result)
    by_key: dict[tuple[int, int], AttemptView] = {}
    for obj in base.events:
        kind = obj.get("type")
        key = (int(obj.get("worker") or 0), int(obj.get("attempt") or 0)) if "attempt" in obj else None
        if kind == "plan":
            view.plan = Plan.model_validate(obj["plan"])
        elif kind == "attempt" and key is not None:
            by_key[key] = AttemptView(worker=key[0], number=key[1], label=str(obj.get("label", "")),
                                      task=str(obj.get("task", "")), run_dir=base.run_dir / str(obj["run"]))
            view.attempts.append(by_key[key])
        elif kind == "attempted" and key in by_key:
            by_key[key].result = RunResult.model_validate(obj["result"])
            by_key[key].refused = obj.get("refused")
        elif kind == "check" and key in by_key:
            by_key[key].check = WorkerCheck(ok=bool(obj.get("ok")), reason=str(obj.get("reason", "")))
            by_key[key].checked_by = str(obj.get("by", ""))
        elif kind == "asked":
            view.asked.append(obj)
        elif kind == "answer":
            view.answer = FinalAnswer(answer=str(obj.get("answer", "")), success=bool(obj.get("success")))
    return view
