"""The person at the terminal: live progress, the result, and questions the agent asks.

Page-derived text is printed escaped (rich markup in a page title must not style
or hide anything), and text typed into password or card fields is never shown.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

from .preferences import PreferenceStore, maybe_preference
from .report import describe_action
from .stdin_line import LineReader, read_from
from .types import RunResult, StepRecord

console = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


class Progress:
    """One line a step while the agent works (a RunHook); says which of the person's
    preferences decided a choice."""

    def __init__(self, prefs: PreferenceStore | None = None) -> None:
        self.prefs = prefs
        self.cited: list[str] = []

    def on_step(self, step: StepRecord) -> None:
        parts = []
        for i, action in enumerate(step.actions):
            res = step.results[i] if i < len(step.results) else None
            mark = "[green]✓[/]" if res is not None and res.ok else "[red]✗[/]" if res else "·"
            parts.append(f"{escape(describe_action(action, res))} {mark}")
        line = "; ".join(parts) or ("[cyan]the person's turn[/]" if step.handovers else "[red]no action[/]")
        model = step.usage.input_tokens + step.usage.output_tokens
        secs = sum(step.timings.values())
        console.print(f"[bold]step {step.step}[/] {line} [dim]· page {step.observation_tokens:,} tok · "
                      f"model {model:,} tok · {secs:.1f}s[/]")
        if step.reasoning:
            console.print(f"  [dim]{escape(step.reasoning[:160])}[/]")
        if step.preference_ids and self.prefs is not None:
            self.cited.extend(i for i in step.preference_ids if i not in self.cited)
            console.print(f"  [cyan]{escape(self.prefs.explain(step.preference_ids))}[/]")
        for err in [step.error, *[r.error for r in step.results if r.error]]:
            if err:
                console.print(f"  [yellow]{escape(err[:200])}[/]")
        for h in step.handovers:
            console.print(f"  [cyan]the person had control for {h.seconds:.1f}s ({h.outcome})[/]")

    def on_run_end(self, result: RunResult) -> None:
        if self.cited and self.prefs is not None:
            console.print(f"[cyan]Chosen {escape(self.prefs.explain(self.cited))}.[/]")


def print_result(result: RunResult) -> None:
    colour = "green" if result.success else "red"
    console.print(f"[bold {colour}]{'Done' if result.success else 'Not done'}[/]: {escape(result.message)}")
    if result.answer:
        out.print(result.answer, markup=False)
    u = result.usage
    cost = f"${u.cost_usd:.4f}" if u.cost_usd is not None else "cost unknown"
    console.print(f"[dim]{result.steps} steps · {u.input_tokens:,} in / {u.output_tokens:,} out tokens · "
                  f"{cost} · {result.seconds:.1f}s[/]")
    if result.run_dir:
        console.print(f"[dim]run: {result.run_dir}  (report: operator report {result.run_dir})[/]")


def exit_code(result: RunResult) -> int:
    """The README's exit codes for a finished run: 0 done, 1 not done, 130 stopped by the
    person (Ctrl+C, or the desktop's fail-safe corner)."""
    if result.success:
        return 0
    return 130 if result.stop_reason == "stopped" else 1


async def _prompt(text: str, stdin: LineReader | None = None) -> str:
    console.print(text, end="")
    return (await read_from(stdin or sys.stdin)).strip()


class TerminalUser:
    """ask_user at the terminal. An answer that states a preference ("aisle, I always
    sit on the aisle") is offered to be remembered; only a yes writes it."""

    def __init__(self, prefs: PreferenceStore | None = None, stdin: LineReader | None = None) -> None:
        self.prefs = prefs
        self.stdin = stdin  # None: sys.stdin; a run's shared terminal input (takeover.TerminalLines)

    async def ask(self, question: str) -> str | None:
        answer = await _prompt(f"[bold]The agent asks:[/] {escape(question)}\n> ", self.stdin)
        if not answer:
            return None
        for pref in maybe_preference(answer) if self.prefs is not None else []:
            reply = await _prompt(f"Remember that? {escape(pref.text)} [y/N] ", self.stdin)
            if reply.lower().startswith("y") and self.prefs is not None:
                self.prefs.add(pref)
        return answer
