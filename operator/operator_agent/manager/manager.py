"""The manager: one request, split into sub-tasks that workers do at the same time.

    plan      = model.plan(request)                      # sub-tasks, each with its spec
    for each sub-task, at most `workers` at once:        # each in its own browser context
        result = worker.attempt(sub-task + spec)
        check  = cheap checks, then model.check(...)     # against the spec
        failed and worth it: attempt again with the reason, at most `max_retries` times
    answer    = model.answer(request, outcomes)          # what the person is told

Only the manager talks to the person (desk.py). The workers are agents like any other,
each with its own trace (crew.py); the manager's run folder holds theirs and its own
trace of the plan, attempts, checks and answer (trace.py). Our bugs raise; the model's
mistakes (a plan it cannot give, a check it cannot make) end in a result that says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..agent import check_task
from ..permissions.gate import DenyApprover
from ..permissions.vault import Vault
from ..protocols import Approver, ConfigError, ModelAccessError, PlannerError, UserChannel
from ..redaction import Redactor
from ..traces import new_run_dir
from ..types import Usage
from .brain import ManagerModel, spec_text
from .checks import structural_failure, worth_retrying
from .crew import Attempted, Crew, Team, TeamRun, Worker
from .desk import PersonDesk
from .records import Attempt, CheckedBy, FinalAnswer, ManagerResult, Plan, SubTask, WorkerCheck, WorkerReport
from .trace import ManagerTrace, attempt_dir

SENT_BACK = "THE MANAGER SENT YOUR LAST RESULT BACK"


@dataclass(kw_only=True)
class ManagerConfig:
    workers: int = 2  # at most this many sub-tasks run at once
    max_retries: int = 1  # times a result that fails its check is sent back to its worker
    max_subtasks: int = 8
    start_url: str | None = None  # the person's start page
    runs_dir: Path | None = None
    run_dir: Path | None = None  # made beforehand (its name is the run id of the audit log)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1 (got {self.workers})")
        if not 0 <= self.max_retries <= 5:
            raise ConfigError(f"retries must be 0 to 5 (got {self.max_retries})")
        if not 1 <= self.max_subtasks <= 8:
            raise ConfigError(f"sub-tasks must be 1 to 8 (got {self.max_subtasks})")


@dataclass
class _Run:
    task: str
    trace: ManagerTrace
    usage: Usage = field(default_factory=Usage)  # the manager's own model calls


class Manager:
    """`await Manager(brain=..., crew=...).run(task)`; builder.build_manager() wires one.

    `approver` and `user` are the person (through one PersonDesk); without an approver
    nobody can answer and the workers' gates deny what needs asking."""

    def __init__(self, *, brain: ManagerModel, crew: Crew, approver: Approver | None = None,
                 user: UserChannel | None = None, config: ManagerConfig | None = None,
                 vault: Vault | None = None, closers: Sequence[Callable[[], Awaitable[None]]] = ()) -> None:
        self.brain = brain
        self.crew = crew
        self.approver = approver or DenyApprover()
        self.user = user
        self.config = config or ManagerConfig()
        self.vault = vault  # its values are scrubbed from the manager's trace, as from the workers'
        self._closers = list(closers)
        self._live: set[Worker] = set()
        self._stopped = False

    def stop(self) -> None:
        """Stop every worker after its current action; no new attempt starts."""
        self._stopped = True
        for worker in list(self._live):
            worker.stop()

    def run_sync(self, task: str) -> ManagerResult:
        check_task(task)

        async def run_and_close() -> ManagerResult:
            try:
                return await self.run(task)
            finally:
                await self.aclose()

        return asyncio.run(run_and_close())

    async def aclose(self) -> None:
        """The model clients' connections."""
        for close in self._closers:
            await close()
        self._closers.clear()

    async def __aenter__(self) -> Manager:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def run(self, task: str) -> ManagerResult:
        check_task(task)
        started = time.monotonic()
        cfg = self.config
        run_dir = cfg.run_dir or new_run_dir(cfg.runs_dir, task)
        redactor = Redactor()
        for value in self.vault.values() if self.vault else ():
            redactor.add(value)
        trace = ManagerTrace(run_dir, task=task, redactor=redactor, meta={
            "start_url": cfg.start_url, "workers": cfg.workers, "max_retries": cfg.max_retries})
        run = _Run(task, trace)
        result: ManagerResult | None = None
        reports: list[WorkerReport] = []
        try:
            result = await self._manage(run, reports, run_dir)
        except ModelAccessError as exc:  # no later call can reach the model: end now, and say why
            result = ManagerResult(task=task, success=False, stop_reason="model_unavailable",
                                   message=str(exc))
            raise
        except ConfigError as exc:  # e.g. no browser: one line for the person, as for a single run
            result = ManagerResult(task=task, success=False, stop_reason="error", message=str(exc))
            raise
        except (asyncio.CancelledError, KeyboardInterrupt):
            result = ManagerResult(task=task, success=False, stop_reason="stopped", message="interrupted")
            raise
        except Exception as exc:
            result = ManagerResult(task=task, success=False, stop_reason="error",
                                   message=f"internal error: {exc}")
            raise
        finally:
            if result is None:
                trace.close()
            else:
                result.workers = result.workers or reports
                result.usage = run.usage + sum((a.result.usage for w in reports for a in w.attempts), Usage())
                result.retries = sum(max(0, len(w.attempts) - 1) for w in reports)
                result.worker_seconds = round(sum(w.seconds for w in reports), 3)
                result.seconds = round(time.monotonic() - started, 3)
                result.run_dir = str(run_dir)
                trace.finish(result)
        return result

    async def _manage(self, run: _Run, reports: list[WorkerReport], run_dir: Path) -> ManagerResult:
        cfg = self.config
        try:
            plan, usage = await self.brain.plan(run.task, start_url=cfg.start_url,
                                                max_subtasks=cfg.max_subtasks)
        except PlannerError as exc:  # the model's mistake, twice: the run ends saying so
            run.usage += _spent(exc)
            return ManagerResult(task=run.task, success=False, stop_reason="failed",
                                 message=f"the manager could not plan the request: {exc}")
        run.usage += usage
        plan = tidy(plan, cfg.max_subtasks)
        run.trace.plan(plan, usage)
        reports += [WorkerReport(number=n, label=f"worker {n} ({sub.label})", subtask=sub)
                    for n, sub in enumerate(plan.subtasks, 1)]
        desk = PersonDesk(self.approver, self.user, interactive=not isinstance(self.approver, DenyApprover),
                          on_asked=run.trace.asked)
        slots = asyncio.Semaphore(cfg.workers)
        async with self.crew.team(TeamRun(run_id=run_dir.name, desk=desk, start_url=cfg.start_url)) as team:
            await _all(self._work(team, report, slots, run, run_dir) for report in reports)
        final = await self._answer(run, reports)
        failed = [w for w in reports if not w.passed]
        if failed:
            message = f"{len(failed)} of {len(reports)} sub-tasks not done: " + "; ".join(
                f"{w.label}: {w.attempts[-1].check.reason if w.attempts else 'not run'}" for w in failed)
        elif not final.success:
            message = "every sub-task passed its check, but the answer says part of the request was not done"
        else:
            message = f"all {len(reports)} sub-tasks done and checked"
        ok = final.success and not failed
        stop = "stopped" if self._stopped else "done" if ok else "failed"
        return ManagerResult(task=run.task, success=ok and not self._stopped, answer=final.answer,
                             stop_reason=stop, message=message, plan=plan, workers=reports)

    async def _work(self, team: Team, report: WorkerReport, slots: asyncio.Semaphore, run: _Run,
                    run_dir: Path) -> None:
        async with slots:
            if self._stopped:
                return
            async with team.worker(report.number, report.label, report.subtask) as worker:
                self._live.add(worker)
                try:
                    await self._attempts(worker, report, run, run_dir)
                finally:
                    self._live.discard(worker)

    async def _attempts(self, worker: Worker, report: WorkerReport, run: _Run, run_dir: Path) -> None:
        for number in range(1, self.config.max_retries + 2):
            task = worker_task(report.subtask, report.attempts[-1] if report.attempts else None)
            run.trace.attempt(report.number, number, report.label, task)
            done = await worker.attempt(task, attempt_dir(run_dir, report.number, number))
            run.trace.attempted(report.number, number, done.result, done.refused)
            check, by, usage = await self._check(run.task, report.subtask, done)
            run.usage += usage
            run.trace.checked(report.number, number, check, by, usage)
            report.attempts.append(Attempt(number=number, task=task, result=done.result, check=check,
                                           checked_by=by, refused=done.refused))
            final = by == "unchecked" or not worth_retrying(done.result, done.refused)
            if check.ok or final or self._stopped:
                return

    async def _check(self, task: str, subtask: SubTask,
                     done: Attempted) -> tuple[WorkerCheck, CheckedBy, Usage]:
        """Cheap checks first; the model only for what they cannot tell."""
        result = done.result
        if done.refused is not None and not result.success:
            return WorkerCheck(ok=False, reason=f"refused: {done.refused}"[:400]), "refusal", Usage()
        failure = structural_failure(subtask, result)
        if failure is not None:
            return WorkerCheck(ok=False, reason=failure[:400]), "structure", Usage()
        try:
            check, usage = await self.brain.check(task, subtask, result)
        except PlannerError as exc:
            reason = f"not checked: the manager's model failed ({str(exc)[:200]})"
            return WorkerCheck(ok=False, reason=reason), "unchecked", _spent(exc)
        return check, "model", usage

    async def _answer(self, run: _Run, reports: Sequence[WorkerReport]) -> FinalAnswer:
        try:
            final, usage = await self.brain.answer(run.task, reports)
        except PlannerError as exc:  # the person still hears what each worker did
            run.usage += _spent(exc)
            final = FinalAnswer(answer=plain_answer(reports), success=False)
            usage = Usage()
        run.usage += usage
        run.trace.answered(final, usage)
        return final


def worker_task(subtask: SubTask, previous: Attempt | None) -> str:
    """What a worker is given: its sub-task, what the manager will check, and, when its last
    result was sent back, why."""
    parts = [subtask.task.strip()]
    if subtask.start_url:
        parts.append(f"Start page: {subtask.start_url}")
    parts.append(f"The manager checks your result: {spec_text(subtask)} "
                 "Put those facts in your final answer.")
    if previous is not None:
        answer = (previous.result.answer or "").strip() or "(none)"
        parts.append(f"{SENT_BACK}: {previous.check.reason}\nYour last answer was: {answer[:500]}\n"
                     "You are on the page where you stopped. Fix what is missing or wrong.")
    return "\n\n".join(parts)


def tidy(plan: Plan, max_subtasks: int) -> Plan:
    """Ids made unique, start pages only http(s), at most `max_subtasks` sub-tasks."""
    seen: set[str] = set()
    subtasks = []
    for sub in plan.subtasks[:max_subtasks]:
        ident, n = sub.id.strip() or "task", 1
        while ident in seen:
            n += 1
            ident = f"{sub.id}-{n}"
        seen.add(ident)
        url = sub.start_url if sub.start_url and sub.start_url.startswith(("http://", "https://")) else None
        subtasks.append(sub.model_copy(update={"id": ident, "start_url": url}))
    return plan.model_copy(update={"subtasks": subtasks})


def plain_answer(reports: Iterable[WorkerReport]) -> str:
    """Each worker's outcome in a line, when the model cannot write the answer."""
    lines = []
    for w in reports:
        last = w.attempts[-1] if w.attempts else None
        if last is None:
            lines.append(f"{w.label}: not run")
        elif last.check.ok:
            lines.append(f"{w.label}: {(last.result.answer or '').strip()}")
        else:
            lines.append(f"{w.label}: not done ({last.check.reason})")
    return "\n".join(lines)


def _spent(exc: Exception) -> Usage:
    usage = getattr(exc, "usage", None)
    return usage if isinstance(usage, Usage) else Usage()


async def _all(jobs: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run them together; the first to fail cancels the rest and is raised as itself (not as
    an ExceptionGroup: a ConfigError stays one line at the terminal)."""
    try:
        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(job)
    except BaseExceptionGroup as failed:
        leaves = _leaves(failed)
        raise next((e for e in leaves if not isinstance(e, asyncio.CancelledError)), leaves[0]) from None


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out += _leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc]
    return out
