"""Results: one JSON line per finished task × seed, appended and flushed as each ends,
so an interrupted run keeps every finished task and `--resume` runs only the rest.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel, ConfigDict, Field

from ..protocols import ConfigError
from .checks import CheckResult

Key = tuple[str, str, int]
Outcome = Literal["passed", "failed", "error", "not run"]


class ApprovalShown(BaseModel):
    summary: str
    approved: bool
    amount: float | None = None
    currency: str | None = None


class TaskResult(BaseModel):
    model_config = ConfigDict(extra="ignore")  # lines written by a newer version still load

    suite: str
    task: str
    seed: int
    group: str = "general"
    difficulty: int = 1
    site: str = ""
    success: bool = False
    checks: list[CheckResult] = Field(default_factory=list)
    goal: str = ""
    answer: str | None = None
    stop_reason: str = ""
    message: str = ""
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    seconds: float = 0.0  # wall time of the whole task: browser context, site reset, run, checks
    setup_seconds: float = 0.0  # of which before the loop started: context, site reset, start page
    agent_seconds: float = 0.0
    approvals: list[ApprovalShown] = Field(default_factory=list)
    errors: int = 0  # model mistakes and failed actions during the run
    handovers: int = 0  # hand_over actions the model chose (nobody takes over in an evaluation)
    error: str | None = None  # the harness could not run the task (our bug or the machine's)
    reward: float | None = None  # MiniWoB: the page's reward (time-scaled) and raw reward
    raw_reward: float | None = None
    preferences_applied: bool | None = None  # None: the task states none
    run_dir: str | None = None
    planner: str = ""
    started: str = ""
    worker: str = ""
    not_run: str | None = None  # why this task × seed was not run (the planner cannot attempt it)
    chosen: dict[str, int] = Field(default_factory=dict)  # how its steps were chosen: {"skill": 8, ...}

    @property
    def key(self) -> Key:
        return (self.suite, self.task, self.seed)

    @property
    def outcome(self) -> Outcome:
        if self.not_run is not None:
            return "not run"
        if self.error is not None:
            return "error"
        return "passed" if self.success else "failed"

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def approvals_asked(self) -> int:
        return len(self.approvals)


def result_for(task: Any, seed: int, planner: str, **fields: Any) -> TaskResult:
    """A task × seed's result before (or instead of) running it: what the task is."""
    return TaskResult(suite=task.suite, task=task.id, seed=seed, group=task.group,
                      difficulty=task.difficulty, site=task.site, goal=task.goal or "", planner=planner,
                      **fields)


class ResultsFile:
    """Appends results to a JSONL file; each line is flushed and fsynced as it is written."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._file: TextIO | None = None

    def __enter__(self) -> ResultsFile:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _drop_cut_off_line(self.path)
        self._file = self.path.open("a", encoding="utf-8")
        return self

    def append(self, result: TaskResult) -> None:
        if self._file is None:
            raise RuntimeError("ResultsFile is not open")
        self._file.write(result.model_dump_json() + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())  # a killed run keeps every finished task

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _drop_cut_off_line(path: Path) -> None:
    """A run killed mid-write leaves a line without its newline: cut it off before
    appending, or the next result would be glued to it."""
    if not path.is_file():
        return
    with path.open("rb+") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        data = f.read()
        f.truncate(data.rfind(b"\n") + 1)


def load_results(path: Path) -> list[TaskResult]:
    """Every result in the file, the last line for a task × seed winning (a resumed run
    may have re-run a task that errored). A last line cut off by a kill is skipped."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no results file {path}")
    lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    by_key: dict[Key, TaskResult] = {}
    for n, line in enumerate(lines, 1):
        try:
            r = TaskResult.model_validate(json.loads(line))
        except ValueError as exc:
            if n == len(lines):
                break  # cut off mid-write
            raise ConfigError(f"{path}:{n}: not a result line ({str(exc).splitlines()[0]})") from None
        by_key.pop(r.key, None)  # keep file order of the latest line
        by_key[r.key] = r
    return list(by_key.values())


def done_keys(path: Path) -> set[Key]:
    """Task × seed pairs already finished (a harness error is not finished: it is retried;
    nor is a task that was not run)."""
    if not Path(path).is_file():
        return set()
    return {r.key for r in load_results(path) if r.outcome in ("passed", "failed")}


# --- metrics ---------------------------------------------------------------------------


@dataclass
class Summary:
    """Counts over every task × seed selected: passed, failed, errored (the harness could
    not run it) and not run (the planner cannot attempt it); the rate is over them all."""

    label: str
    n: int = 0
    passed: int = 0
    failed: int = 0
    failed_runs: int = 0  # harness errors
    not_run: int = 0
    steps: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    tokens: int = 0
    cost: float | None = None
    approvals: int = 0
    errors: int = 0  # model/action errors

    @property
    def rate(self) -> float:
        return self.passed / self.n if self.n else 0.0

    @property
    def ran(self) -> int:
        return self.n - self.not_run

    def interval(self) -> tuple[float, float]:
        """The 95% interval of the pass rate (Wilson's: sound for small n and for 0% or 100%)."""
        return wilson(self.passed, self.n)

    def add(self, r: TaskResult) -> None:
        self.n += 1
        outcome = r.outcome
        self.passed += outcome == "passed"
        self.failed += outcome == "failed"
        self.failed_runs += outcome == "error"
        self.not_run += outcome == "not run"
        if outcome == "not run":
            return  # no time, steps or tokens of its own to count
        self.steps.append(r.steps)
        self.seconds.append(r.seconds)
        self.tokens += r.tokens
        if r.cost_usd is not None:
            self.cost = (self.cost or 0.0) + r.cost_usd
        self.approvals += r.approvals_asked
        self.errors += r.errors

    def span(self) -> str:
        """`56-95%`: the 95% interval of the rate, for a table."""
        lo, hi = self.interval()
        return f"{lo:.0%}-{hi:.0%}"

    def headline(self) -> str:
        """`27 of 134 run: 20 passed, 5 failed, 2 errors, 107 not run (15% of 134)`."""
        parts = [f"{self.passed} passed", f"{self.failed} failed", f"{self.failed_runs} errors",
                 f"{self.not_run} not run"]
        return f"{self.ran} of {self.n} run: " + ", ".join(parts) + f" ({self.rate:.0%} of {self.n} passed)"

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "n": self.n, "ran": self.ran, "passed": self.passed,
                "failed": self.failed, "failed_runs": self.failed_runs, "not_run": self.not_run,
                "rate": round(self.rate, 4), "rate_95": [round(x, 4) for x in self.interval()],
                "mean_steps": round(statistics.fmean(self.steps), 2) if self.steps else 0.0,
                "median_seconds": round(statistics.median(self.seconds), 3) if self.seconds else 0.0,
                "total_seconds": round(sum(self.seconds), 3), "tokens": self.tokens,
                "cost_usd": None if self.cost is None else round(self.cost, 6),
                "approvals": self.approvals, "errors": self.errors}


def wilson(passed: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for `passed` of `n` (95% with the default z)."""
    if n == 0:
        return (0.0, 1.0)
    p = passed / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize(results: Iterable[TaskResult], by: str | None = None) -> list[Summary]:
    """One Summary for all (by=None), or one per suite / difficulty / group / suite+group."""
    groups: dict[str, Summary] = {}
    for r in results:
        label = _label(r, by)
        groups.setdefault(label, Summary(label)).add(r)
    return [groups[k] for k in sorted(groups, key=_sort_key)]


def _label(r: TaskResult, by: str | None) -> str:
    if by is None:
        return "all"
    if by == "suite":
        return r.suite
    if by == "difficulty":
        return f"difficulty {r.difficulty}"
    if by == "group":
        return f"{r.suite}/{r.group}"
    raise ValueError(f"cannot group by {by!r}")


def _sort_key(label: str) -> tuple[str, int, str]:
    head, _, tail = label.rpartition(" ")
    return (head, int(tail), "") if tail.isdigit() else (label, 0, "")


def by_key(results: Sequence[TaskResult]) -> dict[Key, TaskResult]:
    return {r.key: r for r in results}
