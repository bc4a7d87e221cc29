"""An ask_user answer that states a preference is offered to be remembered; only the
person's yes writes it, and a plain answer offers nothing."""

from __future__ import annotations

import io

import pytest

from operator_agent.preferences import PreferenceStore
from operator_agent.terminal import TerminalUser


async def test_answer_stating_a_preference_is_remembered_on_yes(tmp_path, monkeypatch) -> None:
    store = PreferenceStore(tmp_path / "prefs.db")
    monkeypatch.setattr("sys.stdin", io.StringIO("aisle please, I always prefer aisle seats\ny\n"))
    answer = await TerminalUser(store).ask("Window or aisle?")
    assert answer == "aisle please, I always prefer aisle seats"
    remembered = store.preferences()
    assert [(p.subject, p.value, p.source) for p in remembered] == [("flights.seat", "aisle", "asked")]
    store.close()


@pytest.mark.parametrize("typed", ["aisle please, I always prefer aisle seats\nn\n", "the 14th\n"])
async def test_no_yes_no_preference(tmp_path, monkeypatch, typed: str) -> None:
    store = PreferenceStore(tmp_path / "prefs.db")
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    assert await TerminalUser(store).ask("Which date?")
    assert store.preferences() == []
    store.close()
