"""The loop's rules with a scripted planner on real pages: mistakes are fed back,
repeated failures and loops stop the run, verification gates success, a stop
request is honoured, and what is typed into a password field never reaches the trace."""

from __future__ import annotations

from typing import Any

import pytest

from operator_agent.agent import Agent, AgentConfig
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.protocols import PlannerError
from operator_agent.session import BrowserSession
from operator_agent.traces import TRACE_FILE
from operator_agent.types import RunResult, StepRecord
from operator_bench.testing.script import find_index


def act(**action: Any) -> dict[str, Any]:
    return {"reasoning": "scripted", "actions": [action]}


def named(kind: str, name: str, **extra: Any):
    return lambda text: act(action=kind, index=find_index(text, name), **extra)


@pytest.fixture
async def login_env(context, pages_server) -> BrowserSession:
    env = BrowserSession(context)
    await env.goto(pages_server.url("/agent/login.html"))
    return env


async def run(env: BrowserSession, planner: ScriptedPlanner, tmp_path, **config: Any) -> RunResult:
    agent = Agent(planner=planner, environment=env, config=AgentConfig(runs_dir=tmp_path, **config))
    return await agent.run("sign in as ada")


async def test_bad_index_is_fed_back_and_the_run_goes_on(login_env, tmp_path) -> None:
    planner = ScriptedPlanner([act(action="click", index=999),
                               named("type", "Username", text="ada"),
                               {"reasoning": "done", "actions": [{"action": "done", "answer": "ok"}]}])
    result = await run(login_env, planner, tmp_path)
    assert result.success and result.steps == 3
    assert any("no element [999]" in e for e in planner.observations[1].errors)
    assert "no element [999]" in planner.prompts[1]  # the model is told
    assert planner.observations[2].errors == []


async def test_repeated_failures_stop_the_run(login_env, tmp_path) -> None:
    planner = ScriptedPlanner([act(action="click", index=900 + i) for i in range(5)])
    result = await run(login_env, planner, tmp_path, max_failures=3)
    assert result.stop_reason == "repeated_failures" and not result.success
    assert result.steps == 3


async def test_planner_errors_count_as_model_mistakes(login_env, tmp_path) -> None:
    planner = ScriptedPlanner([PlannerError("the model replied with invalid JSON"),
                               {"reasoning": "done", "actions": [{"action": "done", "answer": "ok"}]}])
    result = await run(login_env, planner, tmp_path)
    assert result.success and result.steps == 2
    assert "invalid JSON" in planner.prompts[1]


async def test_same_action_on_unchanged_page_is_a_loop(login_env, tmp_path) -> None:
    noop = named("click", "Does nothing")
    planner = ScriptedPlanner([noop] * 6)
    result = await run(login_env, planner, tmp_path)
    assert result.stop_reason == "loop"
    assert result.steps == 3


async def test_max_steps(login_env, tmp_path) -> None:
    planner = ScriptedPlanner([act(action="scroll", direction="down"),
                               act(action="scroll", direction="up")] * 3)
    result = await run(login_env, planner, tmp_path, max_steps=2, loop_repeats=99)
    assert result.stop_reason == "max_steps" and result.steps == 2


async def test_verification_rejection_is_fed_back_then_accepted(login_env, tmp_path) -> None:
    done = {"reasoning": "finished", "actions": [{"action": "done", "answer": "signed in"}]}
    planner = ScriptedPlanner([done, named("click", "Sign in"), done],
                              verifications=[{"ok": False, "reason": "not signed in yet"}, True])
    result = await run(login_env, planner, tmp_path)
    assert result.success and result.steps == 3
    assert "not signed in yet" in planner.prompts[1]


async def test_verification_keeps_rejecting(login_env, tmp_path) -> None:
    done = {"reasoning": "finished", "actions": [{"action": "done", "answer": "signed in"}]}
    planner = ScriptedPlanner([done, done, done], verifications=[False, False, False])
    result = await run(login_env, planner, tmp_path, max_rejections=2)
    assert result.stop_reason == "failed" and not result.success and result.steps == 2


async def test_done_unsuccessful_reports_failure_with_answer(login_env, tmp_path) -> None:
    planner = ScriptedPlanner([{"reasoning": "impossible", "actions": [
        {"action": "done", "answer": "there is no such account", "success": False}]}])
    result = await run(login_env, planner, tmp_path)
    assert result.stop_reason == "failed" and result.answer == "there is no such account"


async def test_stop_request_ends_after_current_action(login_env, tmp_path) -> None:
    planner = ScriptedPlanner([named("type", "Username", text="ada")] + [act(action="scroll")] * 5)

    class StopAfterFirst:
        def on_step(self, step: StepRecord) -> None:
            agent.stop()

        def on_run_end(self, result: RunResult) -> None:
            pass

    agent = Agent(planner=planner, environment=login_env, hooks=[StopAfterFirst()],
                  config=AgentConfig(runs_dir=tmp_path))
    result = await agent.run("sign in")
    assert result.stop_reason == "stopped" and result.steps == 1
    lines = (agent.trace.run_dir / TRACE_FILE).read_text().splitlines()
    assert len(lines) == 3  # run header, the one step, the result


async def test_password_typed_never_reaches_the_trace(login_env, tmp_path, context) -> None:
    secret = "hunter2-correct-horse"
    planner = ScriptedPlanner([
        named("type", "Username", text="ada"),
        named("type", "Password", text=secret),
        named("click", "Sign in"),
        {"reasoning": "signed in", "actions": [{"action": "done", "answer": "Welcome, ada"}]},
    ])
    agent = Agent(planner=planner, environment=login_env, config=AgentConfig(runs_dir=tmp_path))
    result = await agent.run("sign in")
    assert result.success
    page = context.pages[-1]
    assert await page.locator("#pw").input_value() == secret  # it was really typed
    assert "Welcome, ada" in await page.locator("#msg").inner_text()
    trace_text = (agent.trace.run_dir / TRACE_FILE).read_text()
    assert secret not in trace_text
    assert all(secret not in p for p in planner.prompts)


def test_sync_twin_opens_its_own_browser(pages_server, tmp_path) -> None:
    planner = ScriptedPlanner([named("type", "Username", text="ada"), named("click", "Sign in"),
                               lambda text: {"reasoning": "greeted", "actions": [
                                   {"action": "done", "answer": text.split("Welcome, ")[1].split()[0]}]}])
    agent = Agent(planner=planner, start_url=pages_server.url("/agent/login.html"),
                  config=AgentConfig(runs_dir=tmp_path))
    result = agent.run_sync("sign in as ada and tell me who is greeted")
    assert result.success and result.answer == "ada"
    assert "Welcome, ada" in planner.observations[-1].text


async def test_preferences_reach_the_model_and_only_shown_ids_are_cited(login_env, tmp_path) -> None:
    from operator_agent.traces import load_run
    from operator_agent.types import PreferenceNote

    class Prefs:
        def relevant(self, task: str, observation) -> list[PreferenceNote]:
            return [PreferenceNote(id="p1", text="prefer the username ada (accounts.username)")]

    planner = ScriptedPlanner([
        lambda text: {"reasoning": "you prefer ada", "preference_ids": ["p1", "invented"], "actions": [
            {"action": "type", "index": find_index(text, "Username"), "text": "ada"}]},
        {"reasoning": "done", "actions": [{"action": "done", "answer": "typed ada, as you prefer"}]},
    ])
    agent = Agent(planner=planner, environment=login_env, preferences=Prefs(),
                  config=AgentConfig(runs_dir=tmp_path))
    result = await agent.run("sign in")
    assert result.success
    assert "[p1] prefer the username ada" in planner.prompts[0]
    steps = load_run(agent.trace.run_dir).steps
    assert steps[0].preference_ids == ["p1"]  # an id the model was never shown is dropped
    assert steps[0].preferences[0].id == "p1"
