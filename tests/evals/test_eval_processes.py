"""Several workers run in processes of their own: a worker process that dies costs only the
task it held (which gets a result saying so), the others take the rest, and when every
worker dies the run says how many tasks were not run and how to run them."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("miniwob", reason="the MiniWoB++ suite needs the miniwob package "
                                      "(pip install 'operator-agent[evals]')")

from operator_agent.evals.planners import PlannerSpec
from operator_agent.evals.results import load_results
from operator_agent.evals.runner import EvalRequest, execute, prepare
from operator_agent.protocols import ConfigError

SOLUTIONS = "operator_bench.solutions.miniwob"


def _suite(path: Path, dying: list[str], solved: list[str]) -> Path:
    lines = ["suite: dying", "defaults: {site: miniwob, verify: false, max_steps: 4}", "tasks:"]
    lines += [f'  - id: {t}\n    script: {{call: "dying_script:die"}}' for t in dying]
    lines += [f'  - id: {t}\n    script: {{call: "{SOLUTIONS}:{t.replace("-", "_")}"}}' for t in solved]
    path.write_text("\n".join(lines) + "\n")
    return path


def _plan(tmp_path: Path, suite: Path) -> object:
    plan = prepare(EvalRequest(str(suite), planner=PlannerSpec("scripted"), seeds=[0], workers=2,
                               results=tmp_path / "results.jsonl", screenshots=False, timeout_s=120))
    return plan


def test_a_dying_worker_costs_only_its_task(tmp_path: Path) -> None:
    solved = ["click-link", "enter-text", "focus-text", "click-test"]
    plan = _plan(tmp_path, _suite(tmp_path / "suite.yaml", ["click-button"], solved))
    assert plan.items[0].task.id == "click-button"  # type: ignore[attr-defined]
    execute(plan, progress="none")  # type: ignore[arg-type]
    results = {r.task: r for r in load_results(tmp_path / "results.jsonl")}
    assert sorted(results) == sorted(["click-button", *solved])  # each exactly once
    died = results.pop("click-button")
    assert not died.success and died.error is not None and "died while running it" in died.error
    assert all(r.success for r in results.values()), {t: r.error for t, r in results.items()}
    assert {r.worker for r in results.values()} <= {"w1", "w2"}


def test_when_every_worker_dies_the_run_says_what_was_not_run(tmp_path: Path) -> None:
    # The first two tasks go one to each worker (the queue is in order): both die.
    plan = _plan(tmp_path, _suite(tmp_path / "suite.yaml", ["click-button", "click-link"],
                                  ["enter-text", "focus-text"]))
    with pytest.raises(ConfigError, match=r"2 of 4 tasks were not run.*--resume"):
        execute(plan, progress="none")  # type: ignore[arg-type]
    assert sorted(r.task for r in load_results(tmp_path / "results.jsonl")) == ["click-button", "click-link"]
