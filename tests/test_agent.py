"""The loop's rules with a scripted planner on real pages: mistakes are fed back,
repeated failures and loops stop the run, verification gates success, a stop
request is honoured, and what is typed into a password field never reaches the trace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from operator_agent.agent import Agent, AgentConfig
from operator_agent.planner.openai import ModelReplyError
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.protocols import ConfigError, ModelAccessError, PlannerError
from operator_agent.session import BrowserSession
from operator_agent.traces import TRACE_FILE, load_run
from operator_agent.types import Observation, RunResult, StepRecord, Usage, Verification
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


# --- model errors: a failed final check is a mistake; a refused model ends the run ----------

DONE = {"reasoning": "finished", "actions": [{"action": "done", "answer": "signed in"}]}
REFUSED = "the model server refused the API key (401 Incorrect API key provided): check OPENAI_API_KEY"


class FailingChecks(ScriptedPlanner):
    """A scripted model whose verify() raises these errors first, then answers as scripted."""

    def __init__(self, decisions: list[Any], errors: list[Exception]) -> None:
        super().__init__(decisions)
        self.errors = errors
        self.checks = 0

    async def verify(self, task: str, observation: Observation, answer: str) -> tuple[Verification, Usage]:
        self.checks += 1
        if self.errors:
            raise self.errors.pop(0)
        return await super().verify(task, observation, answer)


class RefusedAt(ScriptedPlanner):
    """A scripted model whose server refuses for good at this decide() call (401, 404-model...)."""

    def __init__(self, decisions: list[Any], at: int) -> None:
        super().__init__(decisions)
        self.at, self.calls = at, 0

    async def decide(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.at:
            raise ModelAccessError(REFUSED)
        return await super().decide(*args, **kwargs)


async def test_a_failed_final_check_is_a_recorded_model_mistake(login_env, tmp_path) -> None:
    spent = Usage(input_tokens=500, output_tokens=20, calls=2, repairs=1)
    planner = FailingChecks([DONE, DONE], [ModelReplyError(
        "model gave an invalid verification twice: ok: Field required", usage=spent, model_output="{nope")])
    agent = Agent(planner=planner, environment=login_env, config=AgentConfig(runs_dir=tmp_path))
    result = await agent.run("sign in as ada")  # no traceback: the run goes on
    assert result.success and result.steps == 2 and planner.checks == 2
    assert result.usage.input_tokens == 500 and result.usage.output_tokens == 20  # its tokens count
    assert result.usage.calls == 1 + 2 + 1 + 1  # decide, the failed check's two calls, decide, check
    step = load_run(agent.trace.run_dir).steps[0]
    assert step.error == "the check of the answer failed: model gave an invalid verification twice: " \
                         "ok: Field required"
    assert step.usage.input_tokens == 500 and not step.results[0].ok
    assert "the check of the answer failed" in planner.prompts[1]  # the next step sees it


async def test_repeated_failed_checks_stop_as_repeated_failures(login_env, tmp_path) -> None:
    planner = FailingChecks([DONE] * 5, [PlannerError("model server kept failing after 3 attempts")] * 5)
    result = await run(login_env, planner, tmp_path, max_failures=3)
    assert result.stop_reason == "repeated_failures" and result.steps == 3
    assert "the check of the answer failed" in result.message


async def test_a_refused_model_ends_the_run_at_once(login_env, tmp_path) -> None:
    planner = RefusedAt([named("type", "Username", text="ada")] + [act(action="scroll")] * 5, at=2)
    agent = Agent(planner=planner, environment=login_env, config=AgentConfig(runs_dir=tmp_path))
    with pytest.raises(ModelAccessError, match="check OPENAI_API_KEY"):
        await agent.run("sign in as ada")
    assert planner.calls == 2  # never asked again
    run_ = load_run(agent.trace.run_dir)
    assert [s.step for s in run_.steps] == [1]  # every finished step, and only those
    assert run_.result is not None and run_.result.stop_reason == "model_unavailable"
    assert run_.result.message == REFUSED and run_.result.steps == 1


async def test_a_refused_model_at_the_final_check_ends_the_run(login_env, tmp_path) -> None:
    planner = FailingChecks([DONE, DONE], [ModelAccessError(REFUSED)])
    agent = Agent(planner=planner, environment=login_env, config=AgentConfig(runs_dir=tmp_path))
    with pytest.raises(ModelAccessError):
        await agent.run("sign in as ada")
    run_ = load_run(agent.trace.run_dir)
    assert [s.step for s in run_.steps] == [1]  # the step that decided "done" is kept
    assert not run_.steps[0].results[0].ok
    assert run_.result is not None and run_.result.stop_reason == "model_unavailable"
    assert planner.remaining == 1


class _Seeing(ScriptedPlanner):
    sees_screenshots = True  # a vision model: it reads the pixels


def _script() -> list[Any]:
    return [named("type", "Username", text="ada"), act(action="click", index=999),
            named("type", "Username", text="bob"), act(action="done", answer="ok")]


@pytest.mark.parametrize(("mode", "pictures"), [
    ("steps", [".jpg", ".jpg", ".jpg", ".jpg"]),
    ("failures", [None, None, ".jpg", None]),  # the page as it was after the failed step 2
    ("off", [None, None, None, None]),
])
async def test_screenshots_only_when_someone_will_look(login_env, tmp_path, mode: str,
                                                       pictures: list[str | None]) -> None:
    planner = ScriptedPlanner(_script())
    result = await run(login_env, planner, tmp_path, screenshots=mode, verify=False)
    assert result.success and result.steps == 4
    steps = load_run(Path(str(result.run_dir))).steps
    assert [s.screenshot and Path(s.screenshot).suffix for s in steps] == pictures
    assert all(o.screenshot is None for o in planner.observations if mode == "off")


async def test_a_planner_that_sees_gets_exact_pixels_whatever_the_trace_keeps(login_env, tmp_path) -> None:
    planner = _Seeing(_script())
    result = await run(login_env, planner, tmp_path, screenshots="off", verify=False)
    assert result.success
    assert all(o.screenshot and o.screenshot.startswith(b"\x89PNG") for o in planner.observations)
    steps = load_run(Path(str(result.run_dir))).steps
    assert all(s.screenshot and s.screenshot.endswith(".png") for s in steps)


def test_an_unknown_screenshot_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="choose one of steps, failures, off"):
        AgentConfig(screenshots="sometimes")  # type: ignore[arg-type]
