"""`operator run` and `operator demo`: a task run at the terminal, from the flags to the
exit code. Ctrl+C stops after the current action (twice: at once), the model's spend is
printed per step, and a run that never starts leaves no folder behind. cli.py parses the
flags and dispatches here.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cli import _console, _error_line, _normalise_url

if TYPE_CHECKING:
    from .budget import Budget
    from .builder import Permissions
    from .launch import Launch
    from .types import RunResult, StepRecord, Usage


async def _with_interrupts(agent: Any, coro: Awaitable[RunResult]) -> RunResult:
    """First Ctrl+C: stop after the current action. Second: stop at once."""
    import asyncio

    console = _console()
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(coro)
    presses = 0

    def on_sigint() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            agent.stop()
            console.print("[yellow]stopping after the current action (Ctrl+C again to quit now)[/]")
        else:
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        installed = True
    except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
        installed = False
    try:
        return await task
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGINT)


class _Spend:
    """What each step spent on the model (a RunHook), for the end-of-run summary."""

    def __init__(self) -> None:
        self.steps: list[tuple[int, Usage]] = []

    def on_step(self, step: StepRecord) -> None:
        self.steps.append((step.step, step.usage.model_copy()))

    def on_run_end(self, result: RunResult) -> None:
        pass


def _print_spend(result: RunResult, spend: _Spend, budget: Budget) -> None:
    """Spend per step (tokens, and cost when the model has a price), then the total against the budget."""
    from .budget import tokens, usd

    console = _console()
    paid = [(n, u) for n, u in spend.steps if u.calls or tokens(u)]
    if paid:
        per = " · ".join(f"{n}: {tokens(u):,} tok" + (f" {usd(u.cost_usd)}" if u.cost_usd is not None else "")
                         for n, u in paid)
        console.print(f"[dim]model spend per step: {per}[/]")
    if budget:
        console.print(f"[dim]budget: {budget.against(result.usage)}[/]")


async def _run_agent(args: argparse.Namespace, task: str, url: str | None,
                     make_planner: Callable[[Permissions], Any],
                     overrides: dict[str, Any] | None = None, environment: Any = None) -> int:
    from .builder import browser_options
    from .launch import Launch

    # The browser starts first and comes up while the rest of start-up runs; it is guarded
    # before the start page's first request all the same (BrowserSession.open), and closed
    # if start-up fails before the session takes it.
    launch = (Launch(browser_options(headed=args.headed, profile=args.profile, cdp_url=args.cdp_url))
              if environment is None else None)
    try:
        return await _run_started(args, task, url, make_planner, overrides, environment, launch)
    finally:
        if launch is not None:
            await launch.discard()


async def _run_started(args: argparse.Namespace, task: str, url: str | None,
                       make_planner: Callable[[Permissions], Any], overrides: dict[str, Any] | None,
                       environment: Any, launch: Launch | None) -> int:
    import asyncio

    from rich.markup import escape

    from .budget import Budget
    from .builder import build_agent, permissions
    from .events import follow
    from .permissions.approvals import TerminalApprover
    from .permissions.commands import policy_overrides
    from .preferences import PreferenceStore
    from .protocols import ModelAccessError
    from .session import BrowserSession
    from .takeover import TerminalLines, TerminalTakeover
    from .terminal import Progress, TerminalUser, exit_code, print_result
    from .traces import TRACE_FILE, reserved_run_dir
    from .wire import wire_of

    console = _console()

    # The folder is made now (its name is the audit log's run id) and removed again if
    # the run never starts, e.g. the browser or the start page does not open.
    with reserved_run_dir(Path(args.runs_dir) if args.runs_dir else None, task) as run_dir, \
            contextlib.ExitStack() as closing:
        # A person at the terminal: one reader of its input, shared by the approver, ask_user and
        # the takeover key (takeover.py); they can take control only of what they can see.
        lines = TerminalLines.for_stdin()
        takeover = None
        if lines is not None:
            closing.callback(lines.close)
            seen = environment is not None or args.headed or getattr(args, "cdp_url", None)  # desktop, window
            takeover = TerminalTakeover(lines, visible=bool(seen))
        # On this thread: the audit log's SQLite connection is used here.
        perms = permissions(run_id=run_dir.name, policy_path=args.policy,
                            overrides={**(overrides or {}), **{k: v for k, v in policy_overrides(args).items()
                                                              if v is not None}},
                            approver=TerminalApprover(lines) if lines is not None else None)
        # The model client's imports and set-up take a few hundred ms; in a thread, the
        # event loop meanwhile drives the browser's launch.
        planner = await asyncio.to_thread(make_planner, perms)
        prefs = PreferenceStore(args.prefs_db)
        budget = Budget(max_tokens=args.max_tokens, max_cost=args.max_cost)
        spend = _Spend()
        try:
            async with contextlib.AsyncExitStack() as stack:
                if launch is not None:
                    # Opened here rather than inside Agent.run, so a profile that is no folder
                    # or a page that does not open is the only line printed.
                    # Guarded before the start page's first request.
                    environment = await stack.enter_async_context(BrowserSession.open(
                        launch, start_url=url, vault=perms.vault, **wire_of(perms.gate)))
                agent = build_agent(planner=planner, start_url=url, perms=perms, prefs=prefs,
                                    environment=environment, max_steps=args.max_steps,
                                    verify=not args.no_verify, run_dir=run_dir,
                                    user=TerminalUser(prefs, lines) if sys.stdin.isatty() else None,
                                    max_tokens=budget.max_tokens,
                                    max_cost=budget.max_cost, screenshots=args.screenshots)
                where = f"  [dim]({escape(url)})[/]" if url else ""
                console.print(f"[bold]Task:[/] {escape(task)}{where}")
                if takeover is not None:
                    agent.takeover, takeover.ask_for_control = takeover, agent.handovers.request
                    console.print(f"[dim]{escape(takeover.hint())}[/]")
                # Progress lines and spend come from the run's event stream (events.py), as for MCP.
                result = await _with_interrupts(agent, follow(agent.stream(task), Progress(prefs), spend))
        except asyncio.CancelledError:
            console.print(f"[yellow]stopped at once[/]; the trace keeps every finished step: {run_dir}")
            return 130
        except ModelAccessError as exc:  # bad key, unknown model: no later step could do better
            _error_line(exc)
            if (run_dir / TRACE_FILE).is_file():  # else the run never started and leaves no folder
                console.print(f"[dim]the trace keeps every finished step: {escape(str(run_dir))}[/]")
            return 2
        finally:
            prefs.close()
            closer = getattr(planner, "aclose", None)
            if closer is not None:
                await closer()  # the model client's connections
    print_result(result)
    _print_spend(result, spend, budget)
    return exit_code(result)


def _check_max_steps(args: argparse.Namespace) -> None:
    from .budget import Budget
    from .protocols import ConfigError

    if args.max_steps < 1:
        raise ConfigError("--max-steps must be at least 1")
    Budget(max_tokens=args.max_tokens, max_cost=args.max_cost)  # BadBudget: one line, exit 2


async def run_task(args: argparse.Namespace) -> int:
    from .agent import check_task
    from .builder import model_planner
    from .planner.config import ModelConfig, model_settings
    from .protocols import ConfigError

    check_task(args.task)  # a blank task is bad input: before a browser, a model or a run folder
    _check_max_steps(args)
    if getattr(args, "workers", 1) != 1:
        from .manager.command import run_managed  # a manager and its workers (manager/)

        return await run_managed(args)

    def make_planner(perms: Permissions) -> Any:
        from .skills.use import SkillAwarePlanner  # the model may call a taught skill as one action

        return SkillAwarePlanner(model_planner(
            **model_settings(args), vault=perms.vault, computer_use=args.computer_use,
            approver=perms.approver, environment="desktop" if args.desktop else "browser"))

    try:  # before a browser starts: which planner can do this?
        ModelConfig.resolve(**model_settings(args))
    except ConfigError:
        if args.desktop:
            raise
        from .skills.commands import run_offline  # no model: the best-fitting taught skill

        return await run_offline(args)
    if args.desktop:
        from .desktop import open_desktop_session

        session = open_desktop_session(args.display)  # ConfigError says how to run under Xvfb
        print(f"operator: desktop accessibility tree {session.accessibility}", file=sys.stderr)
        async with session as env:
            return await _run_agent(args, args.task, None, desktop_planner(make_planner, env),
                                    environment=env)
    url = _normalise_url(args.url) if args.url else None
    return await _run_agent(args, args.task, url, make_planner)


def desktop_planner(make_planner: Callable[[Permissions], Any], session: Any) -> Callable[[Permissions], Any]:
    """make_planner that also hands the run's vault (the gate's own) to the desktop session,
    as the browser session gets it: window-bound secrets can then be typed."""

    def make(perms: Permissions) -> Any:
        session.use_vault(perms.vault)
        return make_planner(perms)

    return make


async def run_demo(args: argparse.Namespace) -> int:
    """The README's main job: buy a USB-C cable under $15 on the practice shop."""
    # The job is on the bench's practice shop: the bench is loaded only for this command.
    from operator_bench.demo import shop
    from operator_bench.sites import PracticeSites

    from .builder import model_planner
    from .planner.config import ModelConfig, model_settings
    from .protocols import ConfigError

    _check_max_steps(args)
    console = _console()

    try:
        ModelConfig.resolve(**model_settings(args))
        have_model = True
    except ConfigError:
        have_model = False
        console.print("[yellow]No model configured:[/] the demo replays the skill taught on the practice "
                      "shop (no model needed) through the real loop and permission gate. Set "
                      "OPERATOR_MODEL (and OPENAI_API_KEY or OPENAI_BASE_URL) to let a model decide.")

    def make_planner(perms: Permissions) -> Any:
        return model_planner(**model_settings(args), vault=perms.vault, computer_use=args.computer_use,
                             approver=perms.approver)

    overrides: dict[str, Any] = {}
    if not sys.stdin.isatty():
        # Nobody at a terminal to approve: the practice purchase (a test card on a local
        # shop) goes through unasked, still within a purchase limit; a real run asks, or is denied.
        overrides = {"without_asking": ["payment"], "max_purchase": 30}
        console.print("[dim]non-interactive demo: purchases up to $30 need no approval "
                      "(as with --without-asking payment --max-purchase 30)[/]")
    with PracticeSites(seed=0) as sites:
        if have_model:
            code = await _run_agent(args, shop.TASK, sites.shop_url, make_planner, overrides)
        else:
            from .skills.commands import run_named

            code = await run_named(args, shop.SKILL, shop.skill_values(), sites.shop_url + "/", overrides)
        for order in sites.state("shop")["orders"]:
            items = ", ".join(f"{i['quantity']} × {i['title']} ({i['colour']}, {i['size']}) "
                              f"${i['unit_price']:.2f}" for i in order["items"])
            console.print(f"[dim]the shop recorded order {order['number']}: {items}; "
                          f"total ${order['total']:.2f} paid with card ending {order['payment']['last4']}[/]")
    return code
