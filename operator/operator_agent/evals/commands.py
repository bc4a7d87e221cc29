"""`operator eval run | report | compare | list`.

Registered through cli.EXTENSIONS (`add_commands`); also runnable on its own as
`python -m operator_agent.evals ...` with the same arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from ..protocols import ConfigError

PLANNERS = ("openai", "skills", "scripted")  # built in; others via evals.planners.register_planner

console = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def add_commands(sub: Any) -> None:
    ev = sub.add_parser("eval", help="run task suites (practice sites, MiniWoB++) and report on them")
    esub = ev.add_subparsers(dest="eval_command", required=True)

    run = esub.add_parser("run", help="run a suite; results go to a JSONL file as each task ends")
    run.add_argument("suite", help="shop, flights, miniwob (`operator eval list`), a .yaml path, "
                     "or several: shop,flights")
    run.add_argument("--planner", default="openai", metavar="|".join(PLANNERS),
                     help="who decides: a model (openai), the offline skills planner, or the suite's "
                          "scripted replies (default: openai)")
    run.add_argument("--model", help="model name (default: $OPERATOR_MODEL)")
    run.add_argument("--base-url", help="OpenAI-compatible endpoint (default: $OPENAI_BASE_URL)")
    run.add_argument("--vision", action="store_true", default=None, help="send marked screenshots")
    run.add_argument("--workers", type=int, default=1, metavar="N",
                     help="tasks at once (local: N worker processes, a browser each; ray: tasks in flight)")
    run.add_argument("--seeds", nargs="+", metavar="SEED", help="e.g. 0 1 2, 0,1,2 or 0-4 (default: 0)")
    run.add_argument("--trials", type=int, metavar="N",
                     help="run each task N times, on seeds 0..N-1 (the summary gives 95%% intervals)")
    run.add_argument("--tasks", metavar="PATTERN", help="comma-separated globs over task ids, e.g. 'click-*'")
    run.add_argument("--resume", action="store_true",
                     help="continue a results file: skip the task × seed pairs it already holds")
    run.add_argument("--results", metavar="FILE", help="JSONL results file "
                     "(default: eval-results/SUITE-PLANNER-TIME.jsonl; with --resume the newest such)")
    run.add_argument("--runs-dir", metavar="DIR", help="run folders (default: next to the results file)")
    run.add_argument("--backend", choices=("local", "ray"), default="local")
    run.add_argument("--address", metavar="ADDR", help="Ray cluster: HOST:PORT, ray://HOST:10001, auto, "
                     "or local (a private Ray on 127.0.0.1 for this run; default: $RAY_ADDRESS, else local)")
    run.add_argument("--timeout", type=float, default=900.0, metavar="SECONDS", help="per task (default 900)")
    run.add_argument("--max-steps", type=int, metavar="N", help="override every task's step limit")
    run.add_argument("--no-screenshots", action="store_true", help="no screenshot per step in the traces")
    run.add_argument("--vault", action="store_true",
                     help="give every practice-site task a vault with the demo password and a test card, "
                          "for planners that type {{secret:...}} placeholders")
    run.add_argument("--headed", action="store_true", help="show the browsers")
    run.add_argument("--no-progress", action="store_true",
                     help="no progress bar, only a line per finished task (logs, CI)")
    run.set_defaults(handler=cmd_run)

    rep = esub.add_parser("report", help="write the HTML report of a results file")
    rep.add_argument("results", help="a results JSONL file")
    rep.add_argument("--out", metavar="FILE", help="default: the results file with .html")
    rep.add_argument("--no-traces", action="store_true", help="do not (re)write each run's own report")
    rep.set_defaults(handler=cmd_report)

    cmp_ = esub.add_parser("compare", help="which tasks changed outcome between two results files")
    cmp_.add_argument("a")
    cmp_.add_argument("b")
    cmp_.set_defaults(handler=cmd_compare)

    lst = esub.add_parser("list", help="the suites, or the tasks of one")
    lst.add_argument("suite", nargs="?", help="a suite (or several: shop,flights); none: every suite")
    lst.add_argument("--tasks", metavar="PATTERN")
    lst.set_defaults(handler=cmd_list)


def _request(args: argparse.Namespace) -> Any:
    from . import planners
    from .runner import EvalRequest
    from .suites import parse_seeds

    if args.max_steps is not None and args.max_steps < 1:
        raise ConfigError("--max-steps must be at least 1")
    return EvalRequest(
        suites=args.suite, planner=planners.PlannerSpec(args.planner, args.model, args.base_url, args.vision),
        tasks=args.tasks, seeds=parse_seeds(args.seeds, trials=args.trials), workers=args.workers,
        backend=args.backend,
        address=args.address, results=Path(args.results) if args.results else None, resume=args.resume,
        runs_dir=Path(args.runs_dir) if args.runs_dir else None, screenshots=not args.no_screenshots,
        headless=not args.headed, timeout_s=args.timeout, max_steps=args.max_steps, vault=args.vault)


def print_summary(path: Path) -> None:
    from .results import load_results, summarize

    results = load_results(path)
    table = Table(title=f"{path}", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    # Short headings: a log or CI console is 80 columns wide. "error": the harness could not
    # run it; "mistakes": the model's and the page's, during runs.
    columns = ("", "tasks", "pass", "fail", "error", "not run", "rate", "95%", "steps", "med s", "tokens",
               "cost", "asked", "mistakes")
    for col in columns:
        table.add_column(col, justify="left" if not col else "right")
    for rows in (summarize(results), summarize(results, "suite"), summarize(results, "difficulty")):
        for s in rows:
            d = s.as_dict()
            counts = (s.n, s.passed, s.failed, s.failed_runs, s.not_run)
            table.add_row(s.label, *map(str, counts), f"{s.rate:.0%}", s.span(), f"{d['mean_steps']}",
                          f"{d['median_seconds']:.1f}", f"{s.tokens:,}",
                          "—" if s.cost is None else f"${s.cost:.4f}", str(s.approvals), str(s.errors))
        table.add_section()
    # Not a terminal (a log, CI): rich assumes 80 columns, too few to keep the columns whole.
    target = console if console.is_terminal else Console(stderr=True, highlight=False, width=140)
    target.print(table)
    target.print(summarize(results)[0].headline() if results else "no results", markup=False)


def cmd_run(args: argparse.Namespace) -> int:
    # Plain (not async): the local backend runs its own event loop, Ray its own wait loop.
    from .runner import execute, prepare

    plan = prepare(_request(args))
    if plan.unscripted:
        console.print(f"[yellow]{len(plan.unscripted)} tasks have no scripted replies: not run, and counted "
                      f"so in the results[/] [dim]({', '.join(plan.unscripted[:5])}"
                      f"{' …' if len(plan.unscripted) > 5 else ''})[/]")
    if plan.already_done:
        console.print(f"[dim]resuming {plan.results_path}: {plan.already_done} of {plan.selected} "
                      "task × seed pairs already done[/]")
    console.print(f"[bold]{len(plan.items)} to run[/] with {plan.settings.planner.label} on "
                  f"{plan.request.backend} ({plan.request.workers} worker{'s' * (plan.request.workers > 1)})"
                  f" → {plan.results_path}")
    finished = execute(plan, progress="lines" if args.no_progress else "bar")
    if plan.results_path.is_file():
        print_summary(plan.results_path)
    console.print(f"[dim]report: operator eval report {plan.results_path}[/]")
    return 1 if any(r.error for r in finished) else 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_eval_report

    path = write_eval_report(Path(args.results), Path(args.out) if args.out else None,
                             traces=not args.no_traces)
    out.print(str(path))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare, render
    from .results import load_results

    comparison = compare(load_results(Path(args.a)), load_results(Path(args.b)))
    for line in render(comparison, Path(args.a).name, Path(args.b).name):
        out.print(line, markup=False, highlight=False)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from .suites import load_suites, select

    if not args.suite:
        return list_suites()
    for suite in load_suites(args.suite):
        for t in select(suite.tasks, args.tasks):
            script = "scripted" if t.script else ""
            out.print(f"{t.key}\t{t.site}\t{t.group}\td{t.difficulty}\t{script}\t{(t.goal or '')[:70]}",
                      markup=False, highlight=False)
    return 0


def list_suites() -> int:
    """One line per suite: its name, how many tasks (scripted), what it is."""
    from .suites import available, load_suite, suites_dir

    names = available()
    if not names:
        raise ConfigError(f"no suites in {suites_dir()}")
    for name in names:
        try:
            suite = load_suite(name)
        except ConfigError as exc:  # e.g. MiniWoB++ without the miniwob package: say what it needs
            out.print(f"{name}\t-\t{exc}", markup=False, highlight=False)
            continue
        scripted = sum(1 for t in suite.tasks if t.script)
        out.print(f"{name}\t{len(suite.tasks)} tasks ({scripted} scripted)\t{suite.description}",
                  markup=False, highlight=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m operator_agent.evals ARGS` = `operator eval ARGS`."""
    parser = argparse.ArgumentParser(prog="operator")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["eval", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        console.print(f"operator: error: {exc}", markup=False)
        return 2
    except KeyboardInterrupt:
        console.print("interrupted: finished tasks are in the results file; continue with --resume")
        return 130
