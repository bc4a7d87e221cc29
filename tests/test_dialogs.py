"""JavaScript dialogs: the model hears of each one and how it was answered; a page's
confirm or prompt is never answered OK by default, only by the person."""

from __future__ import annotations

from typing import Any

import pytest

from operator_agent.executors.dialogs import SeenDialog
from operator_agent.session import BrowserSession
from operator_agent.types import Click, Observation
from operator_bench.testing.script import find_index


async def _session(context: Any, pages_server: Any) -> BrowserSession:
    session = BrowserSession(context)
    await session.goto(pages_server.url("/executor/dialogs.html"))
    return session


async def _click(env: BrowserSession, name: str) -> tuple[Any, str]:
    obs: Observation = await env.observe()
    result = await env.perform(Click(index=find_index(obs.text, name)), obs)
    page = env.executor.page
    return result, await page.locator("#status").text_content() or ""


async def test_a_confirm_is_cancelled_and_the_model_is_told(context: Any, pages_server: Any) -> None:
    env = await _session(context, pages_server)
    result, status = await _click(env, "Tidy up")
    assert result.ok and status == "kept"
    assert "asked confirm('Delete your account? This cannot be undone.')" in result.detail
    assert "answered Cancel: only the person answers" in result.detail


async def test_a_prompt_is_cancelled_and_an_alert_acknowledged(context: Any, pages_server: Any) -> None:
    env = await _session(context, pages_server)
    result, status = await _click(env, "Rename")
    assert status == "unnamed" and "asked prompt('New name')" in result.detail
    result, status = await _click(env, "Save")
    assert status == "saved" and "showed alert('Your changes are saved')" in result.detail


async def test_the_person_answers_a_confirm(context: Any, pages_server: Any) -> None:
    env = await _session(context, pages_server)
    asked: list[SeenDialog] = []

    async def person(dialog: SeenDialog) -> bool:
        asked.append(dialog)
        return True

    env.executor.dialogs.answer = person
    result, status = await _click(env, "Tidy up")
    assert status == "deleted" and "answered OK" in result.detail
    assert [(d.kind, d.message) for d in asked] == [
        ("confirm", "Delete your account? This cannot be undone.")]


async def test_a_dialog_before_any_action_is_reported_with_the_next_one(
        context: Any, pages_server: Any) -> None:
    env = BrowserSession(context)
    await env.goto(pages_server.url("/executor/dialogs.html?greet=1"))  # alert() while loading
    result, status = await _click(env, "Save")
    assert status == "saved"
    assert "before this action, the page" in result.detail and "showed alert('Welcome back')" in result.detail


@pytest.mark.parametrize(("person", "status"), [(False, "kept"), (True, "deleted")])
async def test_in_a_run_a_confirm_goes_to_the_person_and_nobody_means_cancel(
        context: Any, pages_server: Any, tmp_path: Any, person: bool, status: str) -> None:
    # An innocent-looking button whose page asks a consequential question.
    from operator_agent.builder import build_agent, permissions
    from operator_agent.permissions.gate import CallbackApprover
    from operator_agent.planner.scripted import ScriptedPlanner

    env = await _session(context, pages_server)
    planner = ScriptedPlanner([
        lambda text: {"reasoning": "tidy up", "actions": [
            {"action": "click", "index": find_index(text, "Tidy up")}]},
        {"reasoning": "stop", "actions": [{"action": "done", "answer": "done", "success": False}]},
    ])
    perms = permissions(run_id=f"dialogs-{status}", interactive=False)  # nobody at the terminal
    asked: list[str] = []
    if person:
        def yes(verdict: Any, action: Any) -> bool:
            asked.append(verdict.summary)
            return True

        perms.approver = CallbackApprover(yes)
    agent = build_agent(planner=planner, environment=env, perms=perms, verify=False, run_dir=tmp_path / "run")
    await agent.run("tidy up my account page")
    assert await env.executor.page.locator("#status").text_content() == status
    assert len(asked) == int(person)
    assert all("Delete your account? This cannot be undone." in a for a in asked)
    assert "asked confirm('Delete your account?" in planner.prompts[1]
