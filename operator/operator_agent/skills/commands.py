"""`operator record | learn | skill run | skill list | skill show` (a cli.EXTENSIONS module)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import select
import signal
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from ..planner.config import add_model_flags, model_settings
from ..protocols import ConfigError

console = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def add_commands(sub: Any) -> None:
    rec = sub.add_parser("record", help="record a demonstration in a visible browser (then: operator learn)")
    rec.add_argument("name", help="name of the recording (kept in the recordings folder: "
                     "$OPERATOR_RECORDINGS_DIR, else the user data folder)")
    rec.add_argument("--url", required=True, help="page to start on")
    rec.add_argument("--task", default="", help='what you are doing, e.g. "buy a USB-C cable under $15"')
    rec.add_argument("--out", metavar="DIR", help="keep it in this folder instead")
    rec.add_argument("--force", action="store_true", help="record over an existing recording")
    rec.add_argument("--headless", action="store_true", help="no window (for a script driving the browser)")
    rec.add_argument("--no-screenshots", action="store_true", help="keep events only")
    rec.set_defaults(handler=cmd_record)

    learn = sub.add_parser("learn", help="turn a recording into a skill file (NAME.yaml among the skills)")
    learn.add_argument("recording", help="a recording's name (from `operator record NAME`) or its folder")
    learn.add_argument("--name", help="skill name (default: the recording's)")
    learn.add_argument("--out", metavar="FILE", help="skill file (default: NAME.yaml in the skills folder: "
                       "$OPERATOR_SKILLS_DIR, else the user data folder)")
    add_model_flags(learn, vision=False)
    learn.set_defaults(handler=cmd_learn)

    skill = sub.add_parser("skill", help="run, list or show taught skills")
    # The same parser class as the rest: one-line errors.
    verbs = skill.add_subparsers(dest="skill_command", required=True, parser_class=sub._parser_class)
    run = verbs.add_parser("run", help="replay a skill: operator skill run NAME key=value ...")
    run.add_argument("name", help="skill name or skill file")
    run.add_argument("values", nargs="*", metavar="key=value", help="parameter values")
    run.add_argument("--url", help="start here instead of the skill's start page (same site elsewhere)")
    run.add_argument("--accept-heals", action="store_true",
                     help="write healed element descriptions back to the skill file without asking")
    run.add_argument("--headed", action="store_true", help="show the browser window")
    run.add_argument("--runs-dir", metavar="DIR", help="where run folders go (default: ./runs)")
    run.add_argument("--max-steps", type=int, metavar="N")
    add_model_flags(run, vision=False)
    from ..permissions.commands import add_policy_flags

    add_policy_flags(run)
    run.set_defaults(handler=cmd_skill_run)
    ls = verbs.add_parser("list", help="the skills the agent knows")
    ls.set_defaults(handler=cmd_skill_list)
    show = verbs.add_parser("show", help="a skill's parameters and steps")
    show.add_argument("name")
    show.set_defaults(handler=cmd_skill_show)




def _model_config(args: argparse.Namespace) -> Any:
    from ..planner.config import ModelConfig

    try:
        return ModelConfig.resolve(**model_settings(args))
    except ConfigError:
        return None


# --- record ------------------------------------------------------------------------


async def cmd_record(args: argparse.Namespace) -> int:
    from ..cli import _normalise_url
    from ..launch import BrowserOptions, open_browser
    from .events import EVENTS, recordings_dir
    from .recorder import Recorder, display_hint

    hint = None if args.headless else display_hint()
    if hint:
        raise ConfigError(hint)
    path = Path(args.out) if args.out else recordings_dir() / args.name
    if (path / EVENTS).exists() and not args.force:
        raise ConfigError(f"{path} already holds a recording; use --force to record over it, or another name")
    url = _normalise_url(args.url)
    handle = await open_browser(BrowserOptions(headless=args.headless))
    recorder = Recorder(path, name=args.name, start_url=url, task=args.task,
                        screenshots=not args.no_screenshots)
    stop, gone = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
    reason = "stopped"
    try:
        await recorder.attach(handle.context)
        if handle.browser is not None:
            handle.browser.on("disconnected", lambda _: gone.set())  # the window was closed
        page = await handle.context.new_page()
        await page.goto(url, wait_until="domcontentloaded")
        console.print(f"[bold]Recording[/] {escape(args.name)} at {escape(url)}: do the task in the browser "
                      "window, then close it (or press Ctrl+C here). Typed passwords and card numbers are "
                      "kept as placeholders, never as values.")
        waits = [asyncio.ensure_future(e.wait()) for e in (recorder.closed, gone, stop)]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        reason = "Ctrl+C" if stop.is_set() else "window closed"
        for task in waits:
            task.cancel()
    finally:
        meta = await recorder.stop(reason)
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signal.SIGINT)
        with contextlib.suppress(Exception):
            await handle.close()
    learn_ref = str(path) if args.out else args.name  # a name is found in the recordings folder
    console.print(f"[green]Recorded[/] {meta.events} events to {escape(str(path))} ({reason}). "
                  f"Next: operator learn {escape(learn_ref)}")
    return 0


# --- learn -------------------------------------------------------------------------


async def cmd_learn(args: argparse.Namespace) -> int:
    from .compiler import compile_recording
    from .events import find_recording, load_recording
    from .format import save_skill, skills_dir
    from .naming import name_with_model

    path = find_recording(args.recording)
    recording = load_recording(path)
    name = args.name or recording.meta.name or path.name
    target = Path(args.out) if args.out else skills_dir() / f"{name}.yaml"
    skill = compile_recording(recording, name=name, skill_dir=target.parent)
    config = _model_config(args)
    if config is not None:
        skill, usage = await name_with_model(skill, recording.meta.task, config)
        spent = usage.input_tokens + usage.output_tokens
        console.print(f"[dim]named by {config.model} ({spent:,} tokens)[/]")
    else:
        console.print("[dim]no model configured: parameters are named after their fields' labels[/]")
    save_skill(skill, target)
    print_skill(skill)
    console.print(f"[green]Learned[/] {escape(str(target))}. Run it: operator skill run {skill.name}"
                  + "".join(f" {n}=..." for n in list(skill.parameters)[:2]))
    return 0


def print_skill(skill: Any) -> None:
    out.print(f"[bold]{escape(skill.name)}[/]: {escape(skill.description)}")
    for n, p in skill.parameters.items():
        ex = " (secret)" if p.type == "secret" else f" e.g. {p.example!r}" if p.example else ""
        out.print(f"  [cyan]{escape(n)}[/] {p.type}{escape(ex)}  [dim]{escape(p.description)}[/]")
    for s in skill.steps:
        extra = [x for x in ("optional" if s.optional else "", "repeat" if s.repeat else "",
                             f"check {s.expect.url or s.expect.text!r}" if s.expect else "") if x]
        out.print(f"  {s.id:>2}. {escape(s.intent)}" + (f" [dim]({', '.join(extra)})[/]" if extra else ""))


# --- skill run / list / show ---------------------------------------------------------


async def cmd_skill_run(args: argparse.Namespace) -> int:
    from .library import SkillLibrary
    from .values import parse_assignments, resolve

    entry = SkillLibrary().get(args.name)
    values = resolve(entry.skill, parse_assignments(args.values))
    return await replay(entry, values, args)


async def replay(entry: Any, values: dict[str, str], args: argparse.Namespace,
                 overrides: dict[str, Any] | None = None, *, context: Any = None) -> int:
    """Run a skill from the command line: the permission layer, progress lines, heals.
    `context`: a browser context to use instead of launching a browser."""
    from ..builder import browser_options, model_planner, permissions
    from ..cli import _normalise_url
    from ..events import follow
    from ..permissions.commands import policy_overrides
    from ..run_command import _with_interrupts
    from ..terminal import Progress, exit_code, print_result
    from ..traces import reserved_run_dir
    from .format import save_skill
    from .glance import GlancingPlanner
    from .heal import ModelHealer, apply_heals
    from .run import max_steps_for, replay_agent, skill_session, skill_task

    skill = entry.skill
    url = _normalise_url(args.url) if getattr(args, "url", None) else skill.start_url
    runs_dir = getattr(args, "runs_dir", None)
    # Removed again if the run never starts (e.g. the start page does not open).
    with reserved_run_dir(Path(runs_dir) if runs_dir else None, f"skill {skill.name}") as run_dir:
        perms = permissions(run_id=run_dir.name, policy_path=args.policy, overrides={
            **(overrides or {}), **{k: v for k, v in policy_overrides(args).items() if v is not None}})
        healer = None
        # No model: steps that cannot be found are reported, not healed.
        with contextlib.suppress(ConfigError):
            healer = model_planner(**model_settings(args), vault=perms.vault)
        planner = GlancingPlanner(skill, values, base_url=url, healer=ModelHealer(healer) if healer else None,
                                  report=lambda line: console.print(f"  [yellow]{escape(line)}[/]"))
        shown = ", ".join(f"{k}={v!r}" for k, v in values.items() if skill.parameters[k].type != "secret")
        console.print(f"[bold]Skill[/] {escape(skill.name)} [dim]({escape(str(entry.path))})[/]: "
                      f"{escape(shown)}")
        try:
            async with skill_session(url, browser=browser_options(headed=getattr(args, "headed", False)),
                                     perms=perms, context=context, planner=planner) as session:
                agent = replay_agent(planner, session, start_url=url, perms=perms,
                                     max_steps=(getattr(args, "max_steps", None)
                                                or max_steps_for(skill, values)),
                                     run_dir=run_dir)
                try:
                    result = await _with_interrupts(agent, follow(agent.stream(skill_task(skill, planner)),
                                                                  Progress()))
                except asyncio.CancelledError:
                    console.print("[yellow]stopped at once[/]; the trace keeps every finished step: "
                                  f"{run_dir}")
                    return 130
        finally:
            if healer is not None:
                closer = getattr(healer, "aclose", None)
                if closer is not None:
                    await closer()
    print_result(result)
    if planner.heals:
        console.print("[bold]Healed[/] (the page changed since the skill was recorded):")
        for heal in planner.heals:
            console.print(f"  {escape(heal.describe())}")
        if not result.success:
            # Not proven by a finished run: a wrong heal may be why it stopped.
            console.print("[dim]not written: the run did not finish[/]")
        elif getattr(args, "accept_heals", False) or _ask("Write these to the skill file?"):
            save_skill(apply_heals(skill, planner.heals), entry.path)
            console.print(f"[green]updated[/] {escape(str(entry.path))}")
        else:
            console.print("[dim]not written (use --accept-heals to write them)[/]")
    return exit_code(result)  # 130 when Ctrl+C stopped it


ASK_SECONDS = 60.0


def _ask(question: str, seconds: float = ASK_SECONDS) -> bool:
    """y/N at a terminal. No answer within `seconds` is a no: the run is over, and nobody may
    be watching (a background job, a terminal left alone) to keep the process waiting."""
    if not sys.stdin.isatty():
        return False
    console.print(f"{question} {escape('[y/N]')} ", end="")
    try:
        ready = select.select([sys.stdin], [], [], seconds)[0]
    except (OSError, ValueError):  # no select() on this stdin (a Windows console): do not wait
        ready = []
    if not ready:
        console.print(f"\n[dim]no answer in {seconds:g}s: taken as no[/]")
        return False
    return sys.stdin.readline().strip().lower() in ("y", "yes")


async def cmd_skill_list(args: argparse.Namespace) -> int:
    from .library import SkillLibrary

    entries = SkillLibrary().entries()
    if not entries:
        console.print("no skills yet: record one with `operator record NAME --url URL`, "
                      "then `operator learn`")
        return 0
    for e in entries:
        params = ", ".join(e.skill.parameters)
        out.print(f"[bold]{escape(e.skill.name)}[/] {escape(e.skill.description)} [dim]({escape(params)}; "
                  f"{escape(str(e.path))})[/]")
    return 0


async def cmd_skill_show(args: argparse.Namespace) -> int:
    from .library import SkillLibrary

    print_skill(SkillLibrary().get(args.name).skill)
    return 0


# --- `operator run` without a model, and `operator demo` -----------------------------------


async def run_offline(args: argparse.Namespace) -> int:
    """`operator run "TASK"` with no model configured: the best-fitting taught skill."""
    from ..planner.skills import choose_skill, describe_choice
    from .run import max_steps_for

    choice = choose_skill(args.task)
    console.print("[yellow]No model configured:[/] replaying a taught skill instead.")
    for line in describe_choice(choice):
        console.print(escape(line))
    values = {k: f.value for k, f in choice.filled.items()}
    # run's default (30) may be short
    args.max_steps = max(args.max_steps or 0, max_steps_for(choice.skill, values))
    try:
        return await replay(choice.entry, values, args)
    except ConfigError as exc:
        if str(exc).startswith("cannot open") and not getattr(args, "url", None):
            raise ConfigError(f"{exc}; the skill starts at {choice.skill.start_url}: for the practice sites "
                              "run `operator sites serve` first, or pass --url") from exc
        raise


async def run_named(args: argparse.Namespace, name: str, values: dict[str, str], url: str,
                    overrides: dict[str, Any] | None = None) -> int:
    """Replay the known skill `name` with these values from `url` (`operator demo` without a
    model: the caller, which knows the site, gives the values)."""
    from .library import SkillLibrary
    from .values import resolve

    entry = SkillLibrary().get(name)
    args.url = url
    return await replay(entry, resolve(entry.skill, values), args, overrides)
