"""End to end: the real openai client talks to a fake model server on loopback,
the agent drives real Chromium through the demo sign-up (two pages, a select,
a cross-origin iframe, a shadow-root button) and reads the answer off the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from operator_agent.agent import Agent, AgentConfig
from operator_agent.permissions.gate import CallbackApprover
from operator_agent.planner.config import ModelConfig
from operator_agent.planner.openai import OpenAIPlanner
from operator_agent.report import write_report
from operator_agent.session import BrowserSession
from operator_agent.traces import load_run
from operator_bench.demo import script
from operator_bench.demo.server import DemoSite
from operator_bench.testing.fake_openai import FakeOpenAIServer
from operator_bench.testing.script import user_text


def _from_request(step: Callable[[str], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    # The scripted model reads element indexes from the prompt, as a real model would.
    return lambda body: step(user_text(body))


async def test_demo_task_end_to_end_through_openai_client(context, tmp_path) -> None:
    replies = [_from_request(s) for s in script.STEPS] + [script.VERIFY]
    with DemoSite() as site, FakeOpenAIServer(replies, model="fake-model") as fake:
        planner = OpenAIPlanner(ModelConfig.resolve(model="fake-model", base_url=fake.base_url))
        env = BrowserSession(context)
        await env.goto(site.url)
        # The default gate asks before the subscription is paid; the person says yes.
        asked: list[str] = []
        person = CallbackApprover(lambda verdict, action: asked.append(verdict.summary) or True)
        agent = Agent(planner=planner, environment=env, approver=person,
                      config=AgentConfig(runs_dir=tmp_path))
        result = await agent.run(script.TASK)

        signups = site.state()
    assert result.success, result.message
    assert result.stop_reason == "done"
    assert len(asked) == 1 and "9.60" in asked[0]  # asked once, with the amount charged
    assert len(signups) == 1
    signup = signups[0]
    assert signup["plan"] == "pro" and signup["promo"] == "SPRING"  # iframe value reached the server
    assert signup["name"] == "Ada Lovelace" and signup["total"] == 9.6
    assert result.answer == f"Confirmation number: {signup['confirmation']}"  # read from the page
    assert result.steps == len(script.STEPS) >= 5
    # 7 decisions + 1 verification, all through real HTTP
    assert len(fake.requests) == len(script.STEPS) + 1

    assert result.run_dir is not None
    run = load_run(Path(result.run_dir))
    assert [s.step for s in run.steps] == list(range(1, len(script.STEPS) + 1))
    assert run.result is not None and run.result.success
    # A picture per step for the trace's reader: a JPEG, as the model here does not see them.
    assert all(s.screenshot and s.screenshot.endswith(".jpg") for s in run.steps)
    assert all(r.ok for s in run.steps for r in s.results)
    assert run.steps[0].observation_tokens > 0 and run.steps[0].usage.input_tokens > 0
    html = write_report(run.run_dir).read_text()
    assert "Confirm order" in html and "data:image/jpeg;base64" in html
