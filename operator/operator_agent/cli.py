"""`operator run | observe | report | demo | doctor`: the flags, and the dispatch to each command
(run and demo run in run_command.py; the other commands come from cli.EXTENSIONS).

Bad input gets one line and exit code 2, never a traceback. Exit codes: 0 the
task succeeded, 1 it did not, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from . import __version__

# Only what every start needs is imported above: each command imports its own modules
# (playwright, openai, pydantic models...) when it runs, so `--version` and `--help` stay fast.
if TYPE_CHECKING:
    from rich.console import Console



class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line that says what to do, instead of usage + message.
        self.exit(2, f"operator: error: {message} (see `{self.prog} --help`)\n")


@functools.cache
def _console(stderr: bool = True) -> Console:
    """terminal.py's consoles, made on first print: importing terminal would load the
    preference store (and the openai client) for commands that need neither."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _browser_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--headed", action="store_true", help="show the browser window")
    p.add_argument("--profile", metavar="DIR", help="persistent browser profile (logins survive runs)")
    p.add_argument("--cdp-url", help="attach to a running Chromium, e.g. http://127.0.0.1:9222")


def _dollars(text: str) -> float:
    try:
        return float(text.strip().removeprefix("$"))  # "$0.50" as typed is 0.50
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount of US dollars, e.g. 0.50") from None


def _run_flags(p: argparse.ArgumentParser) -> None:
    from .permissions.commands import add_policy_flags

    p.add_argument("--max-steps", type=int, default=30, metavar="N")
    p.add_argument("--max-tokens", type=int, metavar="N",
                   help="stop before the model call that would take the run past N tokens (in + out)")
    p.add_argument("--max-cost", type=_dollars, metavar="USD",
                   help="stop before the model call that would take the run past this many US dollars "
                        "(models with a known price)")
    p.add_argument("--runs-dir", metavar="DIR", help="where run folders go (default: ./runs)")
    p.add_argument("--no-verify", action="store_true", help="skip the final verification call")
    p.add_argument("--screenshots", choices=("steps", "failures", "off"), default="steps",
                   help="pictures in the trace: every step (a small JPEG, the default), only after a "
                        "failed step, or none (a vision model gets its own either way)")
    p.add_argument("--prefs-db", metavar="FILE",
                   help="the preference store (default: $OPERATOR_PREFS_DB or the user data folder)")
    add_policy_flags(p)


def _run_parser(run: argparse.ArgumentParser) -> None:
    from .planner.config import add_model_flags

    run.add_argument("task", help='what to do, in plain words, e.g. "buy a USB-C cable under $15"')
    run.add_argument("--url", help="page to start on")
    run.add_argument("--desktop", action="store_true",
                     help="drive the desktop (screenshots, OCR, mouse and keyboard) instead of a browser")
    run.add_argument("--display", metavar=":N", help="the X display for --desktop (default: $DISPLAY)")
    run.add_argument("--workers", type=int, default=1, metavar="N",
                     help="a manager splits the task into sub-tasks and runs up to N worker agents at once, "
                          "each in its own browser context, checks their results and answers (default 1: "
                          "one agent)")
    run.add_argument("--retries", type=int, default=1, metavar="N",
                     help="with --workers: times a result that fails the manager's check is sent back")
    add_model_flags(run)
    _browser_flags(run)
    _run_flags(run)


def _demo_parser(demo: argparse.ArgumentParser) -> None:
    from .planner.config import add_model_flags

    add_model_flags(demo)
    _browser_flags(demo)
    _run_flags(demo)


def _observe_parser(obs: argparse.ArgumentParser) -> None:
    obs.add_argument("url")
    obs.add_argument("--json", action="store_true", help="the elements as JSON")
    obs.add_argument("--screenshot", metavar="FILE", help="also save a screenshot with the indexes marked")
    _browser_flags(obs)


def _report_parser(rep: argparse.ArgumentParser) -> None:
    rep.add_argument("run", help='a run folder, a run id, or "last"')
    rep.add_argument("--out", metavar="FILE")
    rep.add_argument("--runs-dir", metavar="DIR")


def _doctor_parser(doc: argparse.ArgumentParser) -> None:
    doc.add_argument("--install", action="store_true", help="install a browser if none is found")


def build_parser(commands: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The command line. With `commands`, only those commands' parsers are built in full
    (and only their modules imported); the others are listed by name and help, which is
    all `operator --help` and a misspelt command need."""

    def full(*names: str) -> bool:
        return commands is None or any(n in commands for n in names)

    parser = _Parser(prog="operator", description="An agent that uses a browser the way a person does.")
    parser.add_argument("--version", action="version", version=f"operator-agent {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (help_, add_arguments) in CORE_COMMANDS.items():
        p = sub.add_parser(name, help=help_)
        if full(name):
            add_arguments(p)
    for module in EXTENSIONS:
        listed = EXTENSION_COMMANDS.get(module)
        if listed is None or full(*listed):  # a module missing from the index is always loaded
            # Feature modules add their own subcommands: add_commands(sub) sets `handler` on each.
            importlib.import_module(module).add_commands(sub)
        else:
            for name, help_ in listed.items():
                sub.add_parser(name, help=help_)
    return parser


def _command_in(argv: list[str]) -> list[str]:
    """The command named in argv: the top level has only flags without values, so it is
    the first word that is no flag (none for `operator --version`)."""
    return [a for a in argv if not a.startswith("-")][:1]


# --- commands ---------------------------------------------------------------


def _error_line(exc: Exception) -> None:
    _console().print(f"operator: error: {exc}", markup=False)


async def cmd_run(args: argparse.Namespace) -> int:
    from .run_command import run_task

    return await run_task(args)


async def cmd_demo(args: argparse.Namespace) -> int:
    from .run_command import run_demo

    return await run_demo(args)


async def cmd_observe(args: argparse.Namespace) -> int:
    from .builder import browser_options
    from .perception.marks import draw_marks
    from .session import observe_page

    console, out = _console(), _console(stderr=False)
    options = browser_options(headed=args.headed, profile=args.profile, cdp_url=args.cdp_url)
    obs = await observe_page(_normalise_url(args.url), options, screenshot=bool(args.screenshot))
    if args.json:
        out.print_json(obs.model_dump_json(exclude={"screenshot"}))
    else:
        out.print(obs.text, markup=False)
    est = " (estimated)" if obs.tokens_estimated else " (o200k_base)"
    console.print(f"[dim]{len(obs.elements)} elements · {obs.tokens:,} tokens{est}[/]")
    if args.screenshot and obs.screenshot:
        Path(args.screenshot).write_bytes(draw_marks(obs.screenshot, obs.elements))
        console.print(f"[dim]screenshot: {args.screenshot}[/]")
    return 0


async def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_report
    from .traces import find_run

    run_dir = find_run(args.run, Path(args.runs_dir) if args.runs_dir else None)
    path = write_report(run_dir, Path(args.out) if args.out else None)
    _console(stderr=False).print(str(path))
    return 0


async def cmd_doctor(args: argparse.Namespace) -> int:
    import asyncio

    from .launch import ensure_chromium, find_chromium
    from .planner.config import ModelConfig
    from .protocols import ConfigError
    from .tokens import tokenizer_available

    console = _console()
    ok = True
    try:
        # Probing Playwright's own browser uses its sync API: keep it off the event loop.
        found = await asyncio.to_thread(ensure_chromium if args.install else find_chromium)
        browser = found or "playwright's chromium"
        console.print(f"[green]✓[/] browser: {browser}")
    except ConfigError as exc:
        ok = False
        console.print(f"[red]✗[/] browser: {exc}")
    # Whether counts would be exact, without loading the tokenizer: nothing is counted here.
    exact = tokenizer_available()
    console.print(f"[green]✓[/] token counts: {'tiktoken' if exact else 'estimated (no tiktoken cache)'}")
    from .headless import accessibility_missing

    missing = accessibility_missing()
    if missing:
        console.print(f"[yellow]-[/] desktop accessibility trees: missing {missing}; the desktop "
                      "is read with OCR alone")
    else:
        console.print("[green]✓[/] desktop accessibility trees: at-spi2-core, dbus and dbus-fast")
    try:
        cfg = ModelConfig.resolve()
        console.print(f"[green]✓[/] model: {cfg.model} at {cfg.base_url or 'the OpenAI API'}")
    except ConfigError as exc:
        console.print(f"[yellow]-[/] model: {exc}")
    return 0 if ok else 2


def _normalise_url(url: str) -> str:
    if "://" in url or url.startswith(("about:", "data:", "file:")):
        return url
    if Path(url).exists():
        return Path(url).resolve().as_uri()
    return "https://" + url


# The agent's own commands, in --help's order: the help line, and what adds the arguments.
CORE_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "run": ("do a task in the browser", _run_parser),
    "demo": ('the main job on the practice shop: "buy a USB-C cable under $15"', _demo_parser),
    "observe": ("print exactly what the agent sees on a page", _observe_parser),
    "report": ("write a run's HTML report", _report_parser),
    "doctor": ("check this machine: browser, tokenizer, model settings", _doctor_parser),
}

COMMANDS: dict[str, Callable[[argparse.Namespace], Awaitable[int]]] = {
    "run": cmd_run, "demo": cmd_demo, "observe": cmd_observe, "report": cmd_report, "doctor": cmd_doctor,
}

# Modules with `add_commands(subparsers)`; each parser sets handler=fn(args) -> exit code
# (async, or plain when the command blocks and owns Ctrl+C itself). `operator sites` comes
# from the bench (operator_bench), registered by name like the agent's own commands.
EXTENSIONS: list[str] = ["operator_agent.permissions.commands", "operator_bench.sites.serve",
                         "operator_agent.preferences.commands", "operator_agent.skills.commands",
                         "operator_agent.evals.commands", "operator_agent.service.commands"]

# The commands each extension adds, with their help lines, so that listing them does not
# import the module (and all it imports). A module not listed here is imported at every
# start. tests/test_startup.py checks these against the modules' own parsers.
EXTENSION_COMMANDS: dict[str, dict[str, str]] = {
    "operator_agent.permissions.commands": {
        "audit": "list the permission decisions of past runs",
        "vault": "secrets the agent may type, bound to the sites they belong to",
    },
    "operator_bench.sites.serve": {"sites": "the bundled practice shop and flight site"},
    "operator_agent.preferences.commands": {"prefs": "how you like things done: add, list, forget, review"},
    "operator_agent.skills.commands": {
        "record": "record a demonstration in a visible browser (then: operator learn)",
        "learn": "turn a recording into a skill file (NAME.yaml among the skills)",
        "skill": "run, list or show taught skills",
    },
    "operator_agent.evals.commands": {
        "eval": "run task suites (practice sites, MiniWoB++) and report on them",
    },
    "operator_agent.service.commands": {"mcp": "serve the agent to MCP clients (stdio, or --http)"},
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Only the named command's parser is built in full, so it imports no other command's
    # modules; the rest is imported after parsing, which `--version` and `--help` end in.
    args = build_parser(_command_in(argv)).parse_args(argv)
    import asyncio
    import inspect

    from .protocols import ConfigError

    try:
        handler = getattr(args, "handler", None) or COMMANDS[args.command]
        if inspect.iscoroutinefunction(handler):
            return asyncio.run(handler(args))
        return int(handler(args))
    except ConfigError as exc:
        _error_line(exc)
        return 2
    except KeyboardInterrupt:
        _console().print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
