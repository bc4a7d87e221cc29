"""`operator run --workers N "task"`: a manager and its workers at the terminal.

The same flags as a single run (model, browser, policy, budgets, runs folder), plus
`--workers N` (at most N at once) and `--retries N`. Each worker's steps are printed with
its name; the person is asked one question at a time, each naming its worker. Ctrl+C
stops every worker after its current action (twice: at once).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from rich.markup import escape

from ..cli import _console, _error_line, _normalise_url
from ..protocols import ConfigError
from ..types import RunResult, StepRecord
from .records import ManagerResult


class WorkerProgress:
    """One line a step, naming the worker (a RunHook per worker)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def on_step(self, step: StepRecord) -> None:
        from ..report import describe_action

        done = [describe_action(a, step.results[i] if i < len(step.results) else None)
                for i, a in enumerate(step.actions)]
        failed = [r.error for r in step.results if r.error] + ([step.error] if step.error else [])
        line = "; ".join(done) or "no action"
        _console().print(f"[bold]{escape(self.label)}[/] step {step.step}: {escape(line[:160])}"
                         + (f" [yellow]{escape(failed[0][:160])}[/]" if failed else ""))

    def on_run_end(self, result: RunResult) -> None:
        word = "[green]finished[/]" if result.success else "[red]did not finish[/]"
        _console().print(f"[bold]{escape(self.label)}[/] {word}: {escape(result.message)}")


def _check_flags(args: argparse.Namespace) -> None:
    if args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if args.desktop:
        raise ConfigError("--workers runs workers in browser contexts: not with --desktop")
    if args.profile:
        raise ConfigError("--workers opens a browser context per worker, which a persistent --profile cannot "
                          "give: leave out --profile (or --workers)")
    if getattr(args, "computer_use", False):
        raise ConfigError("--workers needs a model that picks elements: not with --computer-use")
    if not 0 <= args.retries <= 5:
        raise ConfigError("--retries must be 0 to 5")


async def run_managed(args: argparse.Namespace) -> int:
    from ..builder import browser_options, build_manager
    from ..permissions.commands import policy_overrides
    from ..planner.config import model_settings
    from ..preferences import PreferenceStore
    from ..protocols import ModelAccessError
    from ..run_command import _with_interrupts
    from ..skills.use import SkillAwarePlanner
    from ..terminal import TerminalUser, exit_code, print_result
    from ..traces import TRACE_FILE, reserved_run_dir

    _check_flags(args)
    console = _console()
    url = _normalise_url(args.url) if args.url else None
    overrides = {k: v for k, v in policy_overrides(args).items() if v is not None}
    with reserved_run_dir(Path(args.runs_dir) if args.runs_dir else None, args.task) as run_dir:
        prefs = PreferenceStore(args.prefs_db)
        try:
            manager = build_manager(
                start_url=url, browser=browser_options(headed=args.headed, cdp_url=args.cdp_url),
                workers=args.workers, max_retries=args.retries, prefs=prefs, policy_path=args.policy,
                overrides=overrides, user=TerminalUser(prefs) if sys.stdin.isatty() else None,
                worker_planner=SkillAwarePlanner, worker_hooks=lambda label: [WorkerProgress(label)],
                run_dir=run_dir, max_steps=args.max_steps, verify=not args.no_verify,
                screenshots=args.screenshots, max_tokens=args.max_tokens, max_cost=args.max_cost,
                **model_settings(args))
            console.print(f"[bold]Task:[/] {escape(args.task)}  [dim](a manager, up to {args.workers} "
                          "workers at once)[/]")
            try:
                result = await _with_interrupts(manager, manager.run(args.task))
            finally:
                await manager.aclose()
        except asyncio.CancelledError:
            console.print(f"[yellow]stopped at once[/]; the traces keep every finished step: {run_dir}")
            return 130
        except ModelAccessError as exc:
            _error_line(exc)
            if (run_dir / TRACE_FILE).is_file():
                console.print(f"[dim]the trace keeps every finished step: {escape(str(run_dir))}[/]")
            return 2
        finally:
            prefs.close()
    print_workers(result)
    print_result(result.run_result())
    return exit_code(result.run_result())


def print_workers(result: ManagerResult) -> None:
    """Each worker's outcome in a line, before the answer."""
    console = _console()
    for w in result.workers:
        last = w.attempts[-1] if w.attempts else None
        if last is None:
            console.print(f"[dim]{escape(w.label)}: not run[/]")
            continue
        mark = "[green]✓[/]" if last.check.ok else "[red]✗[/]"
        tries = f" after {len(w.attempts)} attempts" if len(w.attempts) > 1 else ""
        console.print(f"{mark} {escape(w.label)}{tries}: {escape(last.check.reason)}")
