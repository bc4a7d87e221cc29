"""A step after which the page does not go on ends the replay there, saying which step and
what the page says; and the command line does not keep the process waiting afterwards
(issue 11: after such a run it sat on a question about heals until it was killed)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from operator_agent.skills import commands
from operator_agent.skills.format import Expect, Param, Skill, Step, Target, save_skill
from operator_agent.skills.library import SkillLibrary
from operator_agent.skills.run import run_skill

SAYS = "We do not deliver to that postcode."


def delivery_skill(origin: str, button: str = "Continue", button_id: str = "go") -> Skill:
    """Type a postcode, press the button that should lead to /found.html, then a step there."""
    return Skill(
        name="deliver", description="Have it delivered to {postcode}", site=origin,
        start_url=f"{origin}/stuck.html", parameters={"postcode": Param(example="N1 9GU")},
        steps=[Step(id=1, intent='Type {postcode} into "Postcode"', action="type", text="{postcode}",
                    target=Target(role="textbox", name="Postcode", id="postcode", field="postcode",
                                  tag="input")),
               Step(id=2, intent=f'Click "{button}"', action="click",
                    target=Target(role="button", name=button, id=button_id, css=f"#{button_id}",
                                  tag="button"),
                    expect=Expect(url="/found.html")),
               Step(id=3, intent='Click "Reserve"', action="click",
                    target=Target(role="button", name="Reserve", tag="button"))])


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="operator")
    commands.add_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


@pytest.mark.parametrize(("query", "said"), [("", ""), ("?say=1", f"; it says: {SAYS}")],
                         ids=["button-does-nothing", "form-says-why"])
async def test_a_step_that_does_not_get_the_page_on_ends_the_run_saying_so(
        skill_pages: Any, fresh_context: Any, tmp_path: Path, query: str, said: str) -> None:
    skill = delivery_skill(skill_pages.origin)
    run = await run_skill(skill, {"postcode": "ZZ9 9ZZ"}, url=f"{skill_pages.origin}/stuck.html{query}",
                          context=fresh_context, runs_dir=tmp_path)
    reason = 'step 2 (Click "Continue"): the page stayed on /stuck.html' + said
    assert not run.result.success
    assert run.planner.reason == reason and reason in (run.result.answer or "")
    # Ended by the replay itself right after the one wait for the page, not by a step limit.
    assert run.result.stop_reason == "failed" and run.result.steps <= 4


async def test_after_a_run_that_did_not_finish_nothing_is_asked(
        skill_pages: Any, fresh_context: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Recorded as "Continue to payment" (#next): healed to the page's "Continue" on the way.
    path = save_skill(delivery_skill(skill_pages.origin, "Continue to payment", "next"),
                      tmp_path / "skills" / "deliver.yaml")
    original = path.read_text()
    monkeypatch.setenv("OPERATOR_SKILLS_DIR", str(tmp_path / "skills"))

    def ask(question: str, seconds: float = 0) -> bool:
        raise AssertionError(f"asked {question!r} after a run that did not finish")

    monkeypatch.setattr(commands, "_ask", ask)
    entry = SkillLibrary().get("deliver")
    args = _parse("skill", "run", "deliver", "postcode=ZZ9 9ZZ", "--url",
                  f"{skill_pages.origin}/stuck.html?say=1", "--runs-dir", str(tmp_path / "runs"))
    code = await commands.replay(entry, {"postcode": "ZZ9 9ZZ"}, args, context=fresh_context)
    err = capsys.readouterr().err
    assert code == 1, err
    assert f'step 2 (Click "Continue to payment"): the page stayed on /stuck.html; it says: {SAYS}' in err
    assert 'is now button "Continue"' in err  # the heal is shown...
    assert "not written: the run did not finish" in err and path.read_text() == original  # ...not offered


@pytest.mark.parametrize(("typed", "answer"), [("", False), ("y\n", True)], ids=["no-answer", "yes"])
def test_the_heal_question_takes_no_answer_as_no(monkeypatch: pytest.MonkeyPatch, typed: str,
                                                 answer: bool) -> None:
    master, replica = os.openpty()  # a terminal, so the question is asked
    try:
        with os.fdopen(replica, "r") as tty:
            monkeypatch.setattr(sys, "stdin", tty)
            if typed:
                os.write(master, typed.encode())
            # No answer: no waiting at all with 0 seconds. An answer: read as soon as it is there.
            assert commands._ask("Write these to the skill file?", seconds=30 if typed else 0) is answer
    finally:
        os.close(master)
