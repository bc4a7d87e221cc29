"""An evaluation run: which task × seed pairs to run (skipping those a resumed results
file already holds), on which backend, with a progress bar, every result appended to
the results file the moment its task ends.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..permissions.policy import Policy
from ..protocols import ConfigError
from .planners import PlannerSpec, check_planner, resolve, runnable
from .results import ResultsFile, TaskResult, done_keys, load_results, result_for
from .suites import WorkItem, load_suites, select, work_items
from .tasks import Task
from .worker import RunSettings

Backend = Literal["local", "ray"]
RESULTS_DIR = Path("eval-results")
NO_SCRIPT = "not run: the scripted planner has no replies for this task"


@dataclass
class EvalRequest:
    """What `operator eval run` was asked for."""

    suites: str
    planner: PlannerSpec = field(default_factory=PlannerSpec)
    tasks: str | None = None  # comma-separated globs over task ids
    seeds: list[int] = field(default_factory=lambda: [0])
    workers: int = 1
    backend: Backend = "local"
    address: str | None = None  # Ray: HOST:PORT, ray://..., auto, or local
    results: Path | None = None
    resume: bool = False
    runs_dir: Path | None = None
    screenshots: bool = True
    headless: bool = True
    timeout_s: float = 900.0
    max_steps: int | None = None
    vault: bool = False


@dataclass
class Plan:
    items: list[WorkItem]  # still to run
    results_path: Path
    settings: RunSettings
    request: EvalRequest
    selected: int = 0  # task × seed pairs selected, before skipping finished ones
    already_done: int = 0
    unscripted: list[str] = field(default_factory=list)  # tasks the scripted planner has no replies for
    not_run: list[TaskResult] = field(default_factory=list)  # their results: written, counted, not run


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


def _stem(req: EvalRequest, names: Sequence[str]) -> str:
    return f"{'+'.join(names)}-{req.planner.name}"


def _results_path(req: EvalRequest, names: Sequence[str]) -> Path:
    if req.results is not None:
        return req.results
    stem = _stem(req, names)
    if req.resume:
        found = sorted(RESULTS_DIR.glob(f"{stem}-*.jsonl"))
        if not found:
            raise ConfigError(f"nothing to resume: no {RESULTS_DIR}/{stem}-*.jsonl (pass --results FILE)")
        return found[-1]
    return RESULTS_DIR / f"{stem}-{_stamp()}.jsonl"


def _preflight(tasks: Sequence[Task], planner: PlannerSpec) -> None:
    """Fail before any browser starts: bad policy overrides, scripts that do not resolve."""
    for t in tasks:
        try:
            Policy.default().with_overrides(t.policy)
        except ConfigError as exc:
            raise ConfigError(f"task {t.key}: policy: {exc}") from None
        if planner.name == "scripted" and t.script is not None and t.script.call:
            resolve(t.script.call)


def prepare(req: EvalRequest) -> Plan:
    if req.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if req.timeout_s <= 0:
        raise ConfigError("--timeout must be positive")
    check_planner(req.planner)
    suites = load_suites(req.suites)
    tasks = select([t for s in suites for t in s.tasks], req.tasks)
    if not tasks:
        raise ConfigError(f"no task in {req.suites} matches --tasks {req.tasks!r} "
                          f"(see `operator eval list {req.suites}`)")
    skipped = [t for t in tasks if not runnable(req.planner, t)]
    tasks = [t for t in tasks if runnable(req.planner, t)]
    if not tasks:
        raise ConfigError(f"none of the selected tasks has scripted replies for --planner scripted "
                          f"({len(skipped)} without)")
    _preflight(tasks, req.planner)
    path = _results_path(req, [s.name for s in suites])
    if not req.resume and path.exists() and path.stat().st_size > 0:
        raise ConfigError(f"{path} already holds results: add --resume to continue that run, "
                          "or pass another --results FILE")
    all_items = work_items(tasks, req.seeds)
    if req.resume and path.is_file():
        others = {r.planner for r in load_results(path)} - {req.planner.label}
        if others:  # resuming someone else's run would mix two planners in one file
            raise ConfigError(f"{path} holds results of {', '.join(sorted(others))}, not "
                              f"{req.planner.label}: resume it with the same --planner/--model")
    finished = done_keys(path) if req.resume else set()
    todo = [i for i in all_items if i.key not in finished]
    runs_dir = req.runs_dir or path.with_name(path.stem + "-runs")
    settings = RunSettings(planner=req.planner, runs_dir=runs_dir.resolve(), screenshots=req.screenshots,
                           headless=req.headless, timeout_s=req.timeout_s, max_steps=req.max_steps,
                           vault=req.vault)
    recorded = {r.key for r in load_results(path) if r.not_run} if req.resume and path.is_file() else set()
    not_run = [result_for(i.task, i.seed, req.planner.label, not_run=NO_SCRIPT)
               for i in work_items(skipped, req.seeds) if i.key not in recorded]
    return Plan(items=todo, results_path=path, settings=settings, request=req, selected=len(all_items),
                already_done=len(all_items) - len(todo), unscripted=[t.key for t in skipped],
                not_run=not_run)


Display = Literal["bar", "lines", "none"]


class ProgressView:
    """On stderr: a rich progress bar ("bar") and one line per finished task, printed
    after its result is in the file ("lines" alone for logs and CI; "none")."""

    def __init__(self, total: int, *, console: Console | None = None, display: Display = "bar") -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.display = display
        self.passed = self.failed = self.errors = 0
        self.progress = Progress(TextColumn("[bold]eval[/]"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=self.console, disable=display != "bar")
        self.bar = self.progress.add_task(self._describe(), total=total)

    def _describe(self) -> str:
        text = f"[green]{self.passed} passed[/] [red]{self.failed} failed[/]"
        return text + (f" [yellow]{self.errors} errors[/]" if self.errors else "")

    def add(self, r: TaskResult) -> None:
        if r.error:
            self.errors += 1
            mark = "[yellow]![/]"
        elif r.success:
            self.passed += 1
            mark = "[green]✓[/]"
        else:
            self.failed += 1
            mark = "[red]✗[/]"
        if self.display != "none":
            why = r.error or next((f"{c.name}: {c.detail}" for c in r.checks if not c.ok), "")
            self.progress.console.print(
                f"{mark} {escape(r.suite)}/{escape(r.task)}#{r.seed} [dim]{r.steps} steps · {r.seconds:.1f}s"
                + (f" · {escape(why[:140])}" if why and not r.success else "") + "[/]")
        self.progress.update(self.bar, advance=1, description=self._describe())

    def __enter__(self) -> ProgressView:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def execute(plan: Plan, *, progress: Display = "bar",
            on_result: Callable[[TaskResult], None] | None = None) -> list[TaskResult]:
    """Run the plan's items; blocks until all are done (or Ctrl+C). Results already in
    the file when it is interrupted stay there for --resume."""
    req, settings = plan.request, plan.settings
    finished: list[TaskResult] = []
    if plan.not_run:  # in the file first: a run cut short still counts what it would not run
        with ResultsFile(plan.results_path) as out:
            for r in plan.not_run:
                out.append(r)
    if not plan.items:
        return finished
    settings.runs_dir.mkdir(parents=True, exist_ok=True)
    with ResultsFile(plan.results_path) as out, ProgressView(len(plan.items), display=progress) as view:
        def record(r: TaskResult) -> None:
            out.append(r)
            view.add(r)
            finished.append(r)
            if on_result is not None:
                on_result(r)

        if req.backend == "ray":
            from .backends.ray_backend import run_ray

            address = req.address or os.environ.get("RAY_ADDRESS") or "local"
            run_ray(plan.items, settings, address=address,
                    max_in_flight=req.workers if req.workers > 1 else None, on_result=record)
        elif req.workers > 1 and len(plan.items) > 1:
            from .backends.processes import run_processes

            asyncio.run(run_processes(plan.items, settings, workers=req.workers, on_result=record))
        else:
            from .backends.local import run_local

            asyncio.run(run_local(plan.items, settings, on_result=record))
    return finished
