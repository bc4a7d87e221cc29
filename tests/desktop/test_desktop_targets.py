"""Desktop actions are judged by the window they click or type into, not by the
focused one: a visible, unfocused "Chase Bank" window beside a focused editor, both
real Tk windows on Xvfb. The gate asks (unattended: denies) before acting on the
bank window; a secret bound to desktop:Chase* is typed only into that window; the
executor refuses a click whose window changed since the screen was read; and
`operator run --desktop` hands the run's vault to the desktop session."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from desktop_helpers import poll

from operator_agent.permissions.policy import Policy
from operator_agent.permissions.policy_gate import PolicyGate
from operator_agent.permissions.vault import Vault
from operator_agent.types import ClickAt, Observation, Type
from operator_bench.testing.script import find_index

APP = Path(__file__).with_name("two_windows_app.py")
EDITOR, BANK = "Notes - Editor", "Chase Bank"
SECRET = "Tr0ub4dor-9"


@dataclass
class TwoWindows:
    state_path: Path

    def state(self) -> dict[str, dict[str, str]]:
        return json.loads(self.state_path.read_text())


@pytest.fixture
def two_windows(xvfb_display: str, tk_python: str, tmp_path: Path) -> Iterator[TwoWindows]:
    from operator_agent.perception.screen import WindowList

    state = tmp_path / "state.json"
    proc = subprocess.Popen([tk_python, str(APP), str(state)], env={**os.environ, "DISPLAY": xvfb_display},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    windows = WindowList(xvfb_display)

    def ready() -> bool:
        wins = {w.title: w for w in windows.windows()}
        return state.exists() and {EDITOR, BANK} <= set(wins) and wins[EDITOR].focused
    try:
        poll(ready, what="the editor (focused) and the bank window")
        yield TwoWindows(state)
    finally:
        windows.close()
        proc.terminate()
        proc.wait(timeout=10)


def section(text: str, title: str) -> str:
    """The lines of one window in the observation text."""
    start = text.index(f'-- window "{title}"')
    end = text.find("\n-- ", start + 1)
    return text[start:end if end >= 0 else None]


async def observe(desktop: Any) -> Observation:
    await desktop.settle()
    obs = await desktop.observe()
    assert obs.title == EDITOR, obs.text  # the editor has the focus, the bank window does not
    return obs


class Recording:
    """The real policy gate, remembering each verdict."""

    def __init__(self, gate: PolicyGate) -> None:
        self.gate = gate
        self.seen: list[tuple[str, str, str]] = []

    async def check(self, action: Any, observation: Observation) -> Any:
        verdict = await self.gate.check(action, observation)
        self.seen.append((action.action, verdict.decision, verdict.reason))
        return verdict


def blank_point(obs: Observation, title: str) -> tuple[int, int]:
    """A point inside the window that is on no listed element (its bottom-left corner)."""
    b = next(t.bbox for t in obs.tabs if t.title == title)
    assert b is not None
    x, y = int(b.x) + 4, int(b.y + b.height) - 4
    assert not any(e.bbox and e.bbox.x <= x < e.bbox.x + e.bbox.width
                   and e.bbox.y <= y < e.bbox.y + e.bbox.height for e in obs.elements)
    return x, y


async def test_acting_on_the_unfocused_bank_window_asks(desktop: Any, two_windows: TwoWindows,
                                                         tmp_path: Path) -> None:
    from operator_agent.agent import Agent, AgentConfig
    from operator_agent.planner.scripted import ScriptedPlanner

    obs = await observe(desktop)
    memo = find_index(section(obs.text, BANK), "Memo", "textbox")
    x, y = blank_point(obs, BANK)

    # At a terminal, both a type into its field and a click at a point in it ask first.
    asking = PolicyGate(Policy.default(), interactive=True)
    for action in (Type(index=memo, text="wire 5000"), ClickAt(x=x, y=y)):
        verdict = await asking.check(action, obs)
        assert verdict.decision == "ask" and BANK in verdict.reason, verdict
    note = find_index(section(obs.text, EDITOR), "Note", "textbox")
    assert (await asking.check(Type(index=note, text="hello"), obs)).decision == "allow"

    # Unattended, the real loop is denied both, and the editor's field still works.
    gate = Recording(PolicyGate(Policy.default(), interactive=False))
    steps = [
        {"reasoning": "Type into the bank.",
         "actions": [{"action": "type", "index": memo, "text": "wire 5000"}]},
        {"reasoning": "Click the bank.", "actions": [{"action": "click_at", "x": x, "y": y}]},
        {"reasoning": "Take a note.", "actions": [{"action": "type", "index": note, "text": "hello"}]},
        {"reasoning": "Done.", "actions": [{"action": "done", "answer": "noted"}]},
    ]
    agent = Agent(planner=ScriptedPlanner(steps), environment=desktop, gate=gate,
                  config=AgentConfig(max_steps=6, runs_dir=tmp_path / "runs", verify=False))
    await agent.run("take a note")

    assert [(a, d) for a, d, _ in gate.seen] == [("type", "deny"), ("click_at", "deny"), ("type", "allow")]
    assert all(BANK in reason for _, _, reason in gate.seen[:2])
    state = poll(lambda: (s := two_windows.state())[EDITOR]["Note"] == "hello" and s, what="the note")
    assert state[BANK] == {"Memo": "", "Password": ""}


async def test_a_chase_secret_is_typed_only_into_the_chase_window(desktop: Any,
                                                                   two_windows: TwoWindows) -> None:
    vault = Vault()
    vault.add_password("chase", SECRET, origins=["desktop:Chase*"])
    # Sensitive windows aside: only the secret's binding decides here.
    gate = PolicyGate(replace(Policy.default(), sensitive_windows=()), vault=vault, interactive=False)
    desktop.use_vault(vault)
    try:
        obs = await observe(desktop)
        pin = find_index(section(obs.text, EDITOR), "PIN", "textbox")
        password = find_index(section(obs.text, BANK), "Password", "textbox")
        typed = "{{secret:chase}}"

        # Aimed at the (focused) editor: the gate denies it, and so does the executor on its own.
        verdict = await gate.check(Type(index=pin, text=typed), obs)
        assert verdict.decision == "deny" and "desktop:Chase*" in verdict.reason, verdict
        result = await desktop.perform(Type(index=pin, text=typed), obs)
        assert not result.ok and "desktop:Chase*" in (result.error or "")

        # Aimed at the (unfocused) bank window: allowed and typed there.
        assert (await gate.check(Type(index=password, text=typed), obs)).decision == "allow"
        result = await desktop.perform(Type(index=password, text=typed), obs)
        assert result.ok, result.error
        state = poll(lambda: (s := two_windows.state())[BANK]["Password"] == SECRET and s, what="the secret")
        assert state[EDITOR] == {"Note": "", "PIN": ""}
    finally:
        desktop.use_vault(None)


async def test_a_window_moved_under_the_target_is_refused(desktop: Any, two_windows: TwoWindows,
                                                         xvfb_display: str) -> None:
    from Xlib import X

    from operator_agent.perception.screen import WindowList

    obs = await observe(desktop)
    note = find_index(section(obs.text, EDITOR), "Note", "textbox")
    windows = WindowList(xvfb_display)
    try:  # the bank window jumps over the editor after the screen was read
        bank = next(w for w in windows.windows() if w.title == BANK)
        windows._d.create_resource_object("window", bank.id).configure(x=40, y=40, stack_mode=X.Above)
        windows._d.sync()
        poll(lambda: getattr(windows.window_at(60, 60), "title", "") == BANK, what="the bank window on top")
    finally:
        windows.close()
    result = await desktop.perform(Type(index=note, text="wire 5000"), obs)
    assert not result.ok and BANK in (result.error or ""), result
    assert two_windows.state()[BANK] == {"Memo": "", "Password": ""}


def test_the_desktop_run_hands_the_gate_vault_to_the_session() -> None:
    from operator_agent.builder import Permissions
    from operator_agent.run_command import desktop_planner

    class Session:
        vault: Any = "unset"

        def use_vault(self, vault: Any) -> None:
            self.vault = vault

    vault = Vault()
    perms = Permissions(gate=PolicyGate(Policy.default(), vault=vault, interactive=False), approver=None,  # type: ignore[arg-type]
                        vault=vault)
    session = Session()
    assert desktop_planner(lambda p: ("planner", p.vault), session)(perms) == ("planner", vault)
    assert session.vault is vault
