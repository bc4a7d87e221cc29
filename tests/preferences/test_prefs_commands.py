"""`operator prefs ...` through its own add_commands on a fresh parser (independent of
cli.py), with a model served by the fake OpenAI-compatible server where one is used."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from operator_agent.preferences import PreferenceStore
from operator_agent.preferences.commands import add_commands
from operator_agent.protocols import ConfigError
from operator_agent.traces import RunTrace
from operator_agent.types import ActionResult, Click, Observation, RunResult, StepRecord
from operator_bench.testing.fake_openai import FakeOpenAIServer


async def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="operator")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return await args.handler(args)


def stored(path: Path, *statuses: str) -> list:
    with PreferenceStore(path) as store:
        return store.preferences(statuses or ("active",))


async def test_add_list_forget_with_the_rules(tmp_path: Path, capsys) -> None:
    db = tmp_path / "p.db"
    assert await run("prefs", "add", "I prefer aisle seats", "--prefs-db", str(db)) == 0
    out = capsys.readouterr().out
    assert "p1" in out and "prefer aisle seats (flights.seat)" in out and "built-in rules" in out
    assert await run("prefs", "add", "I prefer window seats", "--prefs-db", str(db)) == 0
    assert "replaces p1" in capsys.readouterr().out
    assert await run("prefs", "list", "--prefs-db", str(db)) == 0
    out = capsys.readouterr().out
    assert "window" in out and "aisle" not in out
    assert await run("prefs", "list", "--all", "--prefs-db", str(db)) == 0
    assert "superseded by p2" in capsys.readouterr().out
    assert await run("prefs", "forget", "p2", "--prefs-db", str(db)) == 0
    assert "forgot p2" in capsys.readouterr().out
    assert stored(db) == []
    with pytest.raises(ConfigError, match="no preference 'p2'"):
        await run("prefs", "forget", "p2", "--prefs-db", str(db))


async def test_the_default_file_is_the_environments(tmp_path: Path) -> None:
    # conftest points OPERATOR_PREFS_DB at this test's own folder.
    assert await run("prefs", "add", "No red-eyes") == 0
    assert [p.value for p in stored(tmp_path / "prefs.db")] == ["red-eye"]


async def test_add_with_a_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    reply = {"preferences": [
        {"subject": "flights.seat", "value": "aisle", "polarity": "prefer", "scope": "everywhere"},
        {"subject": "flights.airline", "value": "Lusitania Air", "polarity": "must", "scope": "everywhere"},
    ]}
    with FakeOpenAIServer([reply], model="fake-model") as server:
        monkeypatch.setenv("OPERATOR_MODEL", "fake-model")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        sentence = "Put me on the aisle, and it has to be Lusitania"
        assert await run("prefs", "add", sentence, "--prefs-db", str(tmp_path / "p.db")) == 0
    (request,) = server.requests
    assert request["response_format"]["type"] == "json_schema"
    assert request["messages"][-1] == {"role": "user", "content": sentence}
    out = capsys.readouterr().out
    assert "by the model" in out
    prefs = stored(tmp_path / "p.db")
    assert [(p.subject, p.value, p.polarity) for p in prefs] == [
        ("flights.seat", "aisle", "prefer"), ("flights.airline", "Lusitania Air", "must")]
    assert all(p.source == "told" and sentence in p.evidence[0] for p in prefs)


@pytest.mark.parametrize("bad_reply", [
    "I think they like aisle seats!",  # prose, no JSON
    {"preferences": [{"subject": "Flights Seat!", "value": "", "polarity": "sometimes"}]},  # invalid
    {"preferences": []},  # nothing found
])
async def test_model_failure_falls_back_to_the_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys, bad_reply) -> None:
    with FakeOpenAIServer([bad_reply]) as server:
        monkeypatch.setenv("OPERATOR_MODEL", "fake-model")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        assert await run("prefs", "add", "I prefer aisle seats", "--prefs-db", str(tmp_path / "p.db")) == 0
    assert "built-in rules" in capsys.readouterr().out
    assert [(p.subject, p.value) for p in stored(tmp_path / "p.db")] == [("flights.seat", "aisle")]


async def test_a_server_without_structured_output_still_parses(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    reply = {"preferences": [{"subject": "shopping.brand", "value": "Anker", "polarity": "prefer"}]}
    with FakeOpenAIServer([reply], structured_outputs=False) as server:
        monkeypatch.setenv("OPERATOR_MODEL", "fake-model")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        assert await run("prefs", "add", "Anker please", "--prefs-db", str(tmp_path / "p.db")) == 0
    assert "response_format" not in server.requests[-1]
    assert [p.value for p in stored(tmp_path / "p.db")] == ["Anker"]


async def test_scope_flag(tmp_path: Path) -> None:
    db = str(tmp_path / "p.db")
    assert await run("prefs", "add", "I prefer window seats", "--scope", "site:www.Skyway.test", "--prefs-db",
                     db) == 0
    assert [p.scope for p in stored(Path(db))] == ["site:skyway.test"]
    with pytest.raises(ConfigError, match="scope"):
        await run("prefs", "add", "I prefer window seats", "--scope", "galaxy:far", "--prefs-db", db)


async def test_export_and_import(tmp_path: Path, capsys) -> None:
    a, b, out = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "prefs.json"
    for sentence in ("I prefer aisle seats", "I prefer window seats", "No red-eyes",
                     "Never buy Voltix products"):
        await run("prefs", "add", sentence, "--prefs-db", str(a))
    assert await run("prefs", "export", "--out", str(out), "--prefs-db", str(a)) == 0
    data = json.loads(out.read_text())
    assert data["format"] == "operator-agent/preferences" and len(data["preferences"]) == 4
    assert await run("prefs", "import", str(out), "--prefs-db", str(b)) == 0
    assert "imported 4" in capsys.readouterr().out
    original = {(p.subject, p.value, p.polarity, p.status) for p in stored(a, "active", "superseded")}
    copied = {(p.subject, p.value, p.polarity, p.status) for p in stored(b, "active", "superseded")}
    assert copied == original
    (window,) = [p for p in stored(b) if p.subject == "flights.seat"]
    (aisle,) = stored(b, "superseded")
    assert aisle.superseded_by == window.id  # the history survives, in the new ids
    assert await run("prefs", "import", str(out), "--prefs-db", str(b)) == 0  # again: nothing new
    assert "imported 0" in capsys.readouterr().out
    await run("prefs", "export", "--prefs-db", str(b))
    assert json.loads(capsys.readouterr().out)["version"] == 1


async def test_an_older_import_does_not_override_a_newer_statement(tmp_path: Path) -> None:
    a, b, out = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "prefs.json"
    await run("prefs", "add", "I prefer window seats", "--prefs-db", str(a))
    await run("prefs", "export", "--out", str(out), "--prefs-db", str(a))
    await run("prefs", "add", "I prefer aisle seats", "--prefs-db", str(b))  # said later
    await run("prefs", "import", str(out), "--prefs-db", str(b))
    assert [p.value for p in stored(b)] == ["aisle"]


@pytest.mark.parametrize("content", ["{not json", '{"something": 1}', '[{"subject": "x"}]'])
async def test_bad_imports_are_one_line_errors(tmp_path: Path, content: str) -> None:
    path = tmp_path / "in.json"
    path.write_text(content)
    with pytest.raises(ConfigError):
        await run("prefs", "import", str(path), "--prefs-db", str(tmp_path / "p.db"))
    with pytest.raises(ConfigError, match="cannot read"):
        await run("prefs", "import", str(tmp_path / "missing.json"), "--prefs-db", str(tmp_path / "p.db"))


async def test_review_lists_accepts_and_rejects(tmp_path: Path, seats_page: Observation, capsys) -> None:
    runs, db = tmp_path / "runs", str(tmp_path / "p.db")
    for i, seat in enumerate((6, 9, 6)):
        run_dir = runs / f"20260101-00000{i}-book"
        run_dir.mkdir(parents=True)
        with RunTrace(run_dir, task="book a flight") as trace:
            trace.record(StepRecord(step=2, url=seats_page.url, title=seats_page.title,
                                    observation_text=seats_page.text, actions=[Click(index=seat)],
                                    results=[ActionResult(ok=True, target=seats_page.element(seat))]), None)
            trace.finish(RunResult(task="book a flight", success=True, stop_reason="done"))
    assert await run("prefs", "review", "--runs-dir", str(runs), "--no-interactive", "--prefs-db", db) == 0
    out = capsys.readouterr().out
    assert "prefer aisle seats (flights.seat, learned)" in out and "20260101-000000-book step 2" in out
    (proposal,) = stored(Path(db), "proposed")
    assert stored(Path(db)) == []
    assert await run("prefs", "review", "--accept", proposal.id, "--as", "must", "--prefs-db", db) == 0
    (active,) = stored(Path(db))
    assert (active.id, active.polarity, active.source) == (proposal.id, "must", "learned")
    with pytest.raises(ConfigError, match="not a proposal"):
        await run("prefs", "review", "--reject", proposal.id, "--prefs-db", db)


async def test_review_reads_recordings(tmp_path: Path, capsys, write_recording) -> None:
    for name in ("a", "b", "c"):
        write_recording(tmp_path / "recordings", name, chosen=2)  # the conftest's OPERATOR_RECORDINGS_DIR
    assert await run("prefs", "review", "--no-interactive") == 0
    out = capsys.readouterr().out
    assert "prefer aisle seats (flights.seat, learned)" in out and "recording:a step 2" in out


async def test_review_reject_and_nothing_to_review(tmp_path: Path, capsys) -> None:
    db = tmp_path / "p.db"
    from operator_agent.preferences import Draft

    with PreferenceStore(db) as store:
        p = store.propose(Draft(subject="flights.seat", value="aisle"), evidence=["r"], confidence=0.8)
    assert p is not None
    assert await run("prefs", "review", "--reject", p.id, "--prefs-db", str(db)) == 0
    assert "rejected" in capsys.readouterr().out
    assert await run("prefs", "review", "--no-scan", "--no-interactive", "--prefs-db", str(db)) == 0
    assert "nothing to review" in capsys.readouterr().out


async def test_interactive_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    db = tmp_path / "p.db"
    from operator_agent.preferences import Draft

    with PreferenceStore(db) as store:
        a = store.propose(Draft(subject="flights.seat", value="aisle"), evidence=["r1"], confidence=0.8)
        b = store.propose(Draft(subject="shopping.brand", value="Amperio"), evidence=["r2"], confidence=0.8)
    answers = iter(["a", "r"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    assert await run("prefs", "review", "--no-scan", "--interactive", "--prefs-db", str(db)) == 0
    assert a is not None and b is not None
    assert [p.id for p in stored(db)] == [a.id]
    assert [p.id for p in stored(db, "rejected")] == [b.id]


async def test_empty_sentence_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        await run("prefs", "add", "  ", "--prefs-db", str(tmp_path / "p.db"))
