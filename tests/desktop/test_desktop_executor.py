"""The mouse and keyboard on the real Tk form: coordinate actions, key combinations,
and errors fed back to the model."""

from __future__ import annotations

from typing import Any

import pytest

from operator_agent.executors.desktop import FailSafeStop, key_combo
from operator_agent.protocols import ActionError
from operator_agent.types import (
    Click,
    ClickAt,
    Drag,
    MoveMouse,
    Navigate,
    Press,
    Scroll,
    Select,
    SwitchTab,
    Type,
    TypeAt,
    Wait,
)
from operator_bench.testing.script import find_index


def test_key_combinations() -> None:
    assert key_combo("Control+S") == ["ctrl", "s"]
    assert key_combo("Control+Shift+Tab") == ["ctrl", "shift", "tab"]
    assert key_combo("Enter") == ["enter"]
    assert key_combo("ArrowDown") == ["down"]
    assert key_combo("Control++") == ["ctrl", "+"]
    assert key_combo("A") == ["A"]  # alone, a capital stays a capital
    with pytest.raises(ActionError):
        key_combo("Control+")


def _value(text: str, name: str) -> str:
    line = next((ln for ln in text.splitlines() if f'textbox "{name}"' in ln), None)
    assert line is not None, text
    return line.split('value="', 1)[1].split('"', 1)[0]


async def test_coordinate_actions(desktop: Any, form_app: Any) -> None:
    obs = await desktop.observe()
    email = obs.element(find_index(obs.text, "Email", "textbox"))
    assert email is not None and email.bbox is not None
    cx, cy = (round(v) for v in email.bbox.center)

    result = await desktop.perform(MoveMouse(index=email.index), obs)
    assert result.ok, result.error
    position = desktop._thread.submit(lambda: tuple(desktop.executor.gui.position())).result()
    assert position == (cx, cy)

    result = await desktop.perform(ClickAt(x=cx, y=cy), obs)
    assert result.ok and result.detail == f"clicked at ({cx}, {cy})"
    assert (await desktop.perform(Press(keys="a b c Shift+d"), obs)).ok  # typed into the focused field
    obs = await desktop.observe()
    assert _value(obs.text, "Email") == "abcD"

    # Drag across the text selects it; BackSpace deletes the selection.
    left = int(email.bbox.x) + 4
    right = int(email.bbox.x + email.bbox.width) - 6
    result = await desktop.perform(Drag(from_x=left, from_y=cy, to_x=right, to_y=cy), obs)
    assert result.ok, result.error
    assert (await desktop.perform(Press(keys="BackSpace"), obs)).ok
    obs = await desktop.observe()
    assert _value(obs.text, "Email") == ""

    # A double click selects a word (the last one, clicked past the end of the text).
    index = find_index(obs.text, "Email", "textbox")
    assert (await desktop.perform(Type(index=index, text="hello world"), obs)).ok
    result = await desktop.perform(Click(index=index, double=True), obs)
    assert result.ok and result.detail == f"double-clicked [{index}]"
    assert (await desktop.perform(Press(keys="BackSpace"), obs)).ok
    obs = await desktop.observe()
    assert _value(obs.text, "Email") == "hello"


async def test_type_at_a_point_and_keys_held_during_a_click(desktop: Any, form_app: Any) -> None:
    obs = await desktop.observe()
    email = obs.element(find_index(obs.text, "Email", "textbox"))
    assert email is not None and email.bbox is not None
    cx, cy = (round(v) for v in email.bbox.center)
    result = await desktop.perform(TypeAt(x=cx, y=cy, text="hello world"), obs)
    assert result.ok and result.detail == f"typed 11 characters at ({cx}, {cy})"
    obs = await desktop.observe()
    assert _value(obs.text, "Email") == "hello world"

    # The caret to the start, then a click holding Shift at the end selects all of it: BackSpace
    # empties the field (a click without Shift would only move the caret).
    left, right = int(email.bbox.x) + 3, int(email.bbox.x + email.bbox.width) - 4
    assert (await desktop.perform(ClickAt(x=left, y=cy), obs)).ok
    result = await desktop.perform(ClickAt(x=right, y=cy, hold="Shift"), obs)
    assert result.ok and result.detail == f"clicked at ({right}, {cy}) holding Shift"
    assert (await desktop.perform(Press(keys="BackSpace"), obs)).ok
    obs = await desktop.observe()
    assert _value(obs.text, "Email") == ""
    # Shift was let go: typing now writes small letters.
    assert (await desktop.perform(TypeAt(x=cx, y=cy, text="abc", clear=False), obs)).ok
    obs = await desktop.observe()
    assert _value(obs.text, "Email") == "abc"


async def test_mistakes_are_reported_not_raised(desktop: Any, form_app: Any) -> None:
    obs = await desktop.observe()
    cases = [
        (Click(index=999), "no element [999]"),
        (Navigate(url="https://example.org"), "no address bar"),
        (ClickAt(x=0, y=0), "fail-safe"),
        (ClickAt(x=5000, y=10), "outside"),
        (Press(keys="Control+Nope"), "unknown key"),
        (SwitchTab(tab=5), "no window 5"),
        (Drag(from_index=1), "to_index or both to_x and to_y"),
        (TypeAt(x=300, y=300, text="{{secret:db}}"), "only filled in by type with the field's index"),
    ]
    for action, message in cases:
        result = await desktop.perform(action, obs)
        assert not result.ok and message in (result.error or ""), (action, result)

    # An option that is not in the list: the error says what was there, the menu is closed.
    country = find_index(obs.text, "Country", "combobox")
    result = await desktop.perform(Select(index=country, option="Atlantis"), obs)
    assert not result.ok and 'no option "Atlantis"' in (result.error or "")
    assert '"Canada"' in (result.error or "") and '"Portugal"' in (result.error or "")
    after = await desktop.observe()
    assert "popup" not in after.text and 'value="Choose..."' in after.text

    assert (await desktop.perform(Scroll(direction="down"), obs)).ok
    waited = await desktop.perform(Wait(seconds=0.3), obs)
    assert waited.ok and "nothing changed" in waited.detail


async def test_fail_safe_stops_the_run(desktop: Any, form_app: Any) -> None:
    """A person throws the mouse into a corner: the next action stops the run."""
    obs = await desktop.observe()
    gui = desktop._thread.submit(lambda: desktop.executor.gui).result()
    desktop._thread.submit(gui.moveTo, 0, 0).result()
    try:
        with pytest.raises(FailSafeStop, match="corner"):
            await desktop.perform(Click(index=1), obs)
    finally:
        def away() -> None:
            gui.FAILSAFE = False
            gui.moveTo(640, 400)
            gui.FAILSAFE = True

        desktop._thread.submit(away).result()
