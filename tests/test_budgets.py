"""Budgets: --max-tokens and --max-cost (AgentConfig.max_tokens, max_cost) stop a run with
stop reason "budget" before the model call that would exceed them, and that call is never
made (counted at the fake server). The report and the CLI's summary show spend per step
and the total against the budget."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from operator_agent.agent import Agent, AgentConfig
from operator_agent.budget import BadBudget, Budget, next_call
from operator_agent.planner.config import ModelConfig
from operator_agent.planner.openai import OpenAIPlanner
from operator_agent.protocols import ConfigError
from operator_agent.report import write_report
from operator_agent.session import BrowserSession
from operator_agent.traces import load_run
from operator_agent.types import RunResult, Usage
from operator_bench.testing.fake_openai import FakeOpenAIServer, Reply
from test_cli import cli, one_line

# gpt-4o-mini: $0.15 / 1M in, $0.60 / 1M out, so one 1,000 + 100 token call is $0.00021.
PRICED = "gpt-4o-mini"
CALL_COST = (1000 * 0.15 + 100 * 0.60) / 1_000_000


def scroll(direction: str) -> Reply:
    """One decide() reply of exactly 1,000 + 100 tokens (down and up in turn: no loop)."""
    decision = {"reasoning": "look around", "actions": [{"action": "scroll", "direction": direction}]}
    return Reply(content=decision, prompt_tokens=1000, completion_tokens=100)


def scrolls(n: int = 10) -> list[Reply]:
    return [scroll("down" if i % 2 == 0 else "up") for i in range(n)]


DONE = Reply(content={"reasoning": "found it",
                      "actions": [{"action": "done", "answer": "the page says hello"}]},
             prompt_tokens=1000, completion_tokens=100)


@pytest.fixture
async def login_env(context: Any, pages_server: Any) -> BrowserSession:
    env = BrowserSession(context)
    await env.goto(pages_server.url("/agent/login.html"))
    return env


@pytest.fixture
async def planner_for() -> AsyncIterator[Any]:
    made: list[OpenAIPlanner] = []

    def make(fake: FakeOpenAIServer, model: str) -> OpenAIPlanner:
        made.append(OpenAIPlanner(ModelConfig.resolve(model=model, base_url=fake.base_url)))
        return made[-1]

    yield make
    for planner in made:
        await planner.aclose()


async def run(env: BrowserSession, planner: Any, tmp_path: Path, **config: Any) -> tuple[Agent, RunResult]:
    agent = Agent(planner=planner, environment=env, config=AgentConfig(runs_dir=tmp_path, **config))
    return agent, await agent.run("look around the sign-in page")


# --- the arithmetic --------------------------------------------------------------------


def test_the_next_call_is_estimated_from_the_last_one_or_the_page() -> None:
    assert next_call(None, 300) == (300, None)  # no call yet: at least the page it will read
    last = Usage(input_tokens=1000, output_tokens=100, cost_usd=0.0011)
    assert next_call(last, 300) == (1100, 0.0011)
    tokens, cost = next_call(last, 2200)  # a bigger page than the whole last call
    assert tokens == 2200 and cost is not None and math.isclose(cost, 0.0022)


def test_refusal_before_the_call_that_would_exceed() -> None:
    budget = Budget(max_tokens=2500)
    call = Usage(input_tokens=1000, output_tokens=100, calls=1)
    assert budget.refusal(call, call, 50, "step 2's model call") is None  # 1,100 + 1,100 fits
    spent = call + call
    why = budget.refusal(spent, call, 50, "step 3's model call")
    assert why is not None
    assert why.startswith("stopped before step 3's model call: 2,200 tokens spent of the 2,500-token budget")
    assert "about 1,100 more" in why and "raise --max-tokens" in why
    reached = budget.refusal(Usage(input_tokens=2600), None, 0, "step 4's model call")
    assert reached is not None and "2,600 tokens spent" in reached and "more" not in reached


def test_cost_refusal_and_an_unknown_price() -> None:
    budget = Budget(max_cost=0.0005)
    call = Usage(input_tokens=1000, output_tokens=100, cost_usd=CALL_COST, calls=1)
    assert budget.refusal(call, call, 0, "x") is None
    why = budget.refusal(call + call, call, 0, "step 3's model call")
    assert why is not None and "$0.0004 spent of the $0.0005 budget" in why and "raise --max-cost" in why
    unpriced = Usage(input_tokens=5000, output_tokens=500, calls=3)  # cost_usd None: no price
    assert budget.refusal(unpriced, unpriced, 0, "x") is None  # cannot be checked ...
    assert "not checked: no price is known" in (budget.unchecked(unpriced) or "")  # ... and says so
    assert budget.unchecked(Usage()) is None  # no call made: nothing to say
    assert Budget(max_tokens=10).unchecked(unpriced) is None


@pytest.mark.parametrize(("config", "flag"), [
    ({"max_tokens": 0}, "--max-tokens"), ({"max_tokens": -5}, "--max-tokens"),
    ({"max_cost": 0.0}, "--max-cost"), ({"max_cost": float("nan")}, "--max-cost"),
])
def test_a_budget_that_allows_no_call_is_refused_at_once(config: dict[str, Any], flag: str) -> None:
    with pytest.raises(BadBudget, match=flag) as caught:
        AgentConfig(**config)
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, ValueError)


# --- runs with a fake model ------------------------------------------------------------


async def test_token_budget_stops_before_the_call_that_would_exceed_it(
        login_env: BrowserSession, tmp_path: Path, planner_for: Any) -> None:
    with FakeOpenAIServer(scrolls(), model="m") as fake:
        agent, result = await run(login_env, planner_for(fake, "m"), tmp_path, max_tokens=2500)
        assert len(fake.requests) == 2  # step 3's call (2,200 + ~1,100 > 2,500) was never made
    assert result.stop_reason == "budget" and not result.success
    assert result.steps == 2 and result.usage.input_tokens + result.usage.output_tokens == 2200
    assert "stopped before step 3's model call" in result.message and "--max-tokens" in result.message
    run_dir = agent.trace.run_dir  # type: ignore[union-attr]
    trace = load_run(run_dir)
    assert [s.step for s in trace.steps] == [1, 2]
    assert trace.meta["budget"] == {"max_tokens": 2500}
    assert trace.result is not None and trace.result.stop_reason == "budget"
    html = write_report(run_dir).read_text()
    assert "<th>Budget</th><td>2,200 of 2,500 tokens (88%)</td>" in html
    assert "<td>1,100</td><td>unknown</td><td>1,100</td>" in html  # step 1: spent, cost, total so far
    assert "<td>1,100</td><td>unknown</td><td>2,200</td>" in html


async def test_cost_budget_stops_before_the_call_that_would_exceed_it(
        login_env: BrowserSession, tmp_path: Path, planner_for: Any) -> None:
    with FakeOpenAIServer(scrolls(), model=PRICED) as fake:
        agent, result = await run(login_env, planner_for(fake, PRICED), tmp_path, max_cost=0.0005)
        assert len(fake.requests) == 2  # $0.00042 spent + ~$0.00021 > $0.0005
    assert result.stop_reason == "budget" and result.steps == 2
    assert result.usage.cost_usd is not None and math.isclose(result.usage.cost_usd, 2 * CALL_COST)
    assert "$0.0004 spent of the $0.0005 budget" in result.message and "--max-cost" in result.message
    html = write_report(agent.trace.run_dir).read_text()  # type: ignore[union-attr]
    assert "$0.0004 of $0.0005 (84%)" in html and "<td>$0.0002</td>" in html


async def test_the_final_check_is_not_made_past_the_budget(login_env: BrowserSession, tmp_path: Path,
                                                           planner_for: Any) -> None:
    with FakeOpenAIServer([DONE], model="m") as fake:
        _, result = await run(login_env, planner_for(fake, "m"), tmp_path, max_tokens=1500)
        assert len(fake.requests) == 1  # verify() would have been the second call
    assert result.stop_reason == "budget" and not result.success
    assert result.answer == "the page says hello"  # kept, though unverified
    assert "stopped before the model's check of the answer" in result.message


async def test_a_cost_budget_without_a_price_is_said_once(login_env: BrowserSession, tmp_path: Path,
                                                          planner_for: Any) -> None:
    verified = Reply(content={"ok": True, "reason": "it does"}, prompt_tokens=500, completion_tokens=20)
    with FakeOpenAIServer([DONE, verified], model="m") as fake:
        _, result = await run(login_env, planner_for(fake, "m"), tmp_path, max_cost=0.01)
    assert result.success and result.stop_reason == "done"  # not stopped: the cost is unknown
    assert result.message.count("not checked") == 1
    assert "the $0.0100 cost budget was not checked: no price is known" in result.message


# --- the command line ------------------------------------------------------------------


@pytest.mark.parametrize(("flags", "model", "said"), [
    (["--max-tokens", "2500"], "m", "budget: 2,200 of 2,500 tokens (88%)"),
    (["--max-cost", "$0.0005"], PRICED, "budget: $0.0004 of $0.0005 (84%)"),
])
def test_cli_budget_stops_the_run_with_exit_1(tmp_path: Path, pages_server: Any, flags: list[str], model: str,
                                              said: str) -> None:
    with FakeOpenAIServer(scrolls(), model=model) as fake:
        url = pages_server.url("/agent/login.html")
        r = cli(tmp_path, "run", "look around the sign-in page", "--url", url,
                "--model", model, "--base-url", fake.base_url, *flags)
        assert len(fake.requests) == 2
    assert r.returncode == 1, r.stderr  # not done, like any other stop short of the task
    assert "Traceback" not in r.stderr
    assert "stopped before step 3's model call" in r.stderr and flags[0] in r.stderr
    assert "model spend per step: 1: 1,100 tok" in r.stderr and "2: 1,100 tok" in r.stderr
    assert said in r.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    trace = load_run(run_dir)
    assert trace.result is not None and trace.result.stop_reason == "budget" and len(trace.steps) == 2


@pytest.mark.parametrize(("flags", "said"), [
    (["--max-tokens", "0"], "--max-tokens (max_tokens) must be at least 1"),
    (["--max-cost", "-1"], "--max-cost (max_cost) must be more than 0"),
    (["--max-cost", "lots"], "argument --max-cost: 'lots' is not an amount of US dollars"),
])
def test_cli_bad_budget_is_bad_input(tmp_path: Path, flags: list[str], said: str) -> None:
    r = cli(tmp_path, "run", "x", "--model", "m", "--base-url", "http://127.0.0.1:9/v1", *flags)
    assert r.returncode == 2 and said in one_line(r.stderr)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
