"""The model judge of open answers (`judged` checks, evals/judge.py), against the fake
OpenAI-compatible server: its verdict and reason are the check's result; it sees the task,
the rubric and the answer, never the page; without a model nothing passes unjudged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from operator_agent.evals import checks as ck
from operator_agent.evals.judge import judge, judge_config
from operator_agent.evals.planners import PlannerSpec
from operator_agent.evals.results import load_results
from operator_agent.evals.runner import EvalRequest, execute, prepare
from operator_agent.types import Usage
from operator_bench.testing.fake_openai import FakeOpenAIServer
from operator_bench.testing.script import user_text

RUBRIC = "Names exactly one city, and it is Springfield."


def _grader(body: dict[str, Any]) -> dict[str, Any]:
    """A strict grader, as a model would be: it reads the answer out of the request."""
    answer = user_text(body).rsplit("ANSWER:", 1)[-1].strip()
    ok = answer.count(",") == 0 and "Springfield" in answer and " or " not in answer
    return {"ok": ok, "reason": "one city, Springfield" if ok else f"not one city: {answer[:60]}"}


async def test_the_judge_grades_the_answer_against_the_rubric() -> None:
    with FakeOpenAIServer(default=_grader, model="judge-model") as fake:
        config = judge_config("judge-model", fake.base_url)
        usage = Usage()
        good = await judge(config, goal="Which city?", rubric=RUBRIC, answer="Springfield", usage=usage)
        bad = await judge(config, goal="Which city?", rubric=RUBRIC, answer="Springfield or Shelbyville",
                          usage=usage)
        sent = user_text(fake.requests[0])
    assert good == (True, "judge (judge-model): one city, Springfield")
    assert bad[0] is False and "not one city" in bad[1]
    assert "RUBRIC:\n" + RUBRIC in sent and "TASK:\nWhich city?" in sent
    assert usage.calls == 2


async def test_without_a_model_or_an_answer_nothing_is_judged_a_pass() -> None:
    assert judge_config(None, None) is None  # the tests' environment names no model
    assert await judge(None, goal="g", rubric=RUBRIC, answer="Springfield", usage=Usage()) == (
        False, "not judged: no model for the judge (--model/--base-url or $OPERATOR_MODEL)")
    with FakeOpenAIServer(default=lambda body: {"verdict": "yes"}, model="m") as fake:  # not the shape
        ok, why = await judge(judge_config("m", fake.base_url), goal="g", rubric=RUBRIC, answer="x",
                              usage=Usage())
    assert not ok and why.startswith("not judged: the judge failed")
    assert ck.parse_check({"judged": {"rubric": RUBRIC}}).evaluate(ck.Outcome()).ok is False


SUITE = """suite: judged
tasks:
  - id: saved-city
    site: shop
    goal: In which city is the saved shipping address of the demo account? Do not buy anything.
    checks:
      - judged: {rubric: "Names exactly one city, and it is Springfield."}
      - no_order: true
    script:
      decisions:
        - {reasoning: "I read it off its page.", actions: [{action: done, answer: "%s", success: true}]}
"""


@pytest.mark.parametrize(("answer", "passes"), [("Springfield", True), ("Springfield, Shelbyville", False)])
def test_a_judged_task_through_the_harness_stores_the_verdict(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answer: str, passes: bool) -> None:
    (tmp_path / "judged.yaml").write_text(SUITE % answer)
    with FakeOpenAIServer(default=_grader, model="judge-model") as fake:
        monkeypatch.setenv("OPERATOR_MODEL", "judge-model")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        plan = prepare(EvalRequest(str(tmp_path / "judged.yaml"), planner=PlannerSpec("scripted"),
                                   results=tmp_path / "r.jsonl", screenshots=False, timeout_s=120))
        execute(plan, progress="none")
    (r,) = load_results(tmp_path / "r.jsonl")
    judged = next(c for c in r.checks if c.name.startswith("judged"))
    assert r.success is passes and judged.ok is passes
    assert judged.detail.startswith("judge (judge-model): ")  # the judge's reason, stored
