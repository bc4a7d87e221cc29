"""MiniWoB++ through the real agent loop: scripted solutions score 100% over 3 seeds, a
wrong script scores 0, 2 workers give the results 1 worker gives, a killed run resumes
with every task done exactly once, and Ray gives the local backend's results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("miniwob", reason="the MiniWoB++ suite needs the miniwob package "
                                      "(pip install 'operator-agent[evals]')")

from operator_agent.evals.planners import PlannerSpec
from operator_agent.evals.results import TaskResult, load_results
from operator_agent.evals.runner import EvalRequest, execute, prepare

SOLVED = ["click-button", "click-link", "click-option", "click-checkboxes", "choose-list", "enter-text",
          "enter-text-2", "enter-password", "login-user", "focus-text", "focus-text-2", "click-test",
          "click-test-2", "click-tab", "click-dialog-2"]
SEEDS = [0, 1, 2]
WRONG = """suite: miniwob-wrong
defaults: {site: miniwob, verify: false, max_steps: 4}
tasks:
  - id: click-button
    script: {call: "operator_bench.solutions.miniwob:wrong_button"}
"""
Outcomes = dict[tuple[str, str, int], tuple[bool, float | None]]


def _outcomes(results: list[TaskResult]) -> Outcomes:
    return {r.key: (r.success, r.raw_reward) for r in results}


def _run(results: Path, tasks: list[str], seeds: list[int], workers: int,
         suites: str = "miniwob") -> list[TaskResult]:
    plan = prepare(EvalRequest(suites, planner=PlannerSpec("scripted"), tasks=",".join(tasks), seeds=seeds,
                               workers=workers, results=results, screenshots=False, timeout_s=120))
    execute(plan, progress="none")
    return load_results(results)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[TaskResult]]:
    """The solutions and the wrong script, 3 seeds each, on 2 workers."""
    d = tmp_path_factory.mktemp("miniwob")
    (d / "wrong.yaml").write_text(WRONG)
    return d, _run(d / "two.jsonl", SOLVED, SEEDS, workers=2, suites=f"miniwob,{d / 'wrong.yaml'}")


def test_scripted_solutions_score_100_percent_over_3_seeds(
        two_workers: tuple[Path, list[TaskResult]]) -> None:
    results = [r for r in two_workers[1] if r.suite == "miniwob"]
    assert {(r.task, r.seed) for r in results} == {(t, s) for t in SOLVED for s in SEEDS}
    failed = [(r.task, r.seed, r.error or [c.detail for c in r.checks]) for r in results if not r.success]
    assert not failed
    assert all(r.raw_reward is not None and r.raw_reward > 0 for r in results)
    assert all(r.goal and r.steps >= 1 and r.run_dir and (Path(r.run_dir) / "trace.jsonl").is_file()
               for r in results)  # the instruction came from the page; every run has its trace


def test_a_wrong_script_scores_0(two_workers: tuple[Path, list[TaskResult]]) -> None:
    wrong = [r for r in two_workers[1] if r.suite == "miniwob-wrong"]
    assert len(wrong) == len(SEEDS)
    assert not any(r.success for r in wrong)
    assert all(r.error is None and r.raw_reward is not None and r.raw_reward <= 0 for r in wrong)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "operator_agent.evals", "run", "miniwob", "--planner", "scripted",
            "--no-screenshots", "--no-progress", *args]


ONE_WORKER = [(t, s) for s in (0, 1) for t in SOLVED[:10]]  # 20 task × seed pairs


@pytest.fixture(scope="module")
def killed_then_resumed(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, list[dict], str]:
    """20 pairs on 1 worker in a subprocess, killed after 5 results, then resumed."""
    d = tmp_path_factory.mktemp("killed")
    results = d / "one.jsonl"
    args = ["--tasks", ",".join(SOLVED[:10]), "--seeds", "0,1", "--workers", "1", "--results", str(results)]
    proc = subprocess.Popen(_cli(*args), cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stderr is not None
    # The runner prints a line for each task once its result is in the file: wake on
    # those lines, check the file itself, and kill the run mid-way.
    for line in proc.stderr:
        if line.startswith(("✓", "✗", "!")) and len(results.read_text().splitlines()) >= 5:
            break
    proc.kill()
    proc.wait()
    before = len(results.read_text().splitlines())
    resumed = subprocess.run(_cli(*args, "--resume"), cwd=d, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    return before, [json.loads(x) for x in results.read_text().splitlines()], resumed.stderr


def test_a_killed_run_resumes_with_every_task_done_exactly_once(
        killed_then_resumed: tuple[int, list[dict], str]) -> None:
    before, lines, stderr = killed_then_resumed
    assert 5 <= before < len(ONE_WORKER)  # killed mid-way
    assert f"{before} of {len(ONE_WORKER)} task × seed pairs already done" in stderr
    keys = [(x["task"], x["seed"]) for x in lines]
    assert sorted(keys) == sorted(ONE_WORKER)  # each exactly once
    assert all(x["error"] is None for x in lines)


def test_two_workers_give_the_results_of_one(two_workers: tuple[Path, list[TaskResult]],
                                             killed_then_resumed: tuple[int, list[dict], str]) -> None:
    one = _outcomes([TaskResult.model_validate(x) for x in killed_then_resumed[1]])
    two = _outcomes(two_workers[1])
    assert len(one) == 20
    assert one == {k: two[k] for k in one}


def test_a_task_the_planner_cannot_attempt_is_counted_not_run(tmp_path: Path) -> None:
    """In the results file, the summary and the rate: a task with no scripted replies is
    not run, and says why; the rate is over both."""
    results = tmp_path / "r.jsonl"
    done = subprocess.run(_cli("--tasks", "click-button,bisect-angle", "--results", str(results)),
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = {x["task"]: x for x in map(json.loads, results.read_text().splitlines())}
    assert lines["bisect-angle"]["not_run"] and not lines["bisect-angle"]["success"]
    assert lines["click-button"]["not_run"] is None
    said = " ".join(done.stderr.split())
    assert "1 of 2 run: 1 passed, 0 failed, 0 errors, 1 not run (50% of 2 passed)" in said, done.stderr


def _loopback_only(cmd: list[str]) -> list[str]:
    """The command in a network namespace of its own with only `lo` up: Ray 2.x's gRPC
    servers listen on every interface whatever --node-ip-address says, so this is what
    keeps the test's Ray on loopback."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    probe = subprocess.run([unshare or "unshare", "--net", ip or "ip", "link", "set", "lo", "up"],
                           capture_output=True) if unshare and ip else None
    if probe is None or probe.returncode != 0:
        pytest.skip("cannot make a loopback-only network namespace here (needs root, unshare and ip), "
                    "and Ray must not listen beyond loopback")
    return [unshare, "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *cmd]  # type: ignore[list-item]


def test_ray_backend_gives_the_local_results(two_workers: tuple[Path, list[TaskResult]],
                                             tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'operator-agent[distributed]')")
    results = tmp_path / "ray.jsonl"
    tasks = ["click-button", "enter-text", "choose-list"]
    # --address local: a private Ray instance (node IP 127.0.0.1, no dashboard) started for
    # this run and shut down after it.
    cmd = _cli("--tasks", ",".join(tasks), "--seeds", "0,1", "--backend", "ray", "--address", "local",
               "--results", str(results), "--runs-dir", str(tmp_path / "runs"))
    proc = subprocess.run(_loopback_only(cmd), cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ray_results = load_results(results)
    assert len(ray_results) == 6 and all(r.worker.startswith("ray:") for r in ray_results)
    local = _outcomes(two_workers[1])
    assert _outcomes(ray_results) == {k: local[k] for k in _outcomes(ray_results)}
    # Traces come back from the Ray workers into the local runs folder.
    assert all(r.run_dir and Path(r.run_dir).parent == tmp_path / "runs"
               and (Path(r.run_dir) / "trace.jsonl").is_file() for r in ray_results)


def test_a_model_behind_an_openai_endpoint_runs_through_the_harness(tmp_path: Path) -> None:
    """--planner openai against the fake model server: the real client, prompt and parsing,
    with token counts reaching the results."""
    from operator_bench.solutions.miniwob import click_button
    from operator_bench.testing.fake_openai import FakeOpenAIServer
    from operator_bench.testing.script import user_text

    replies = [lambda body: click_button(user_text(body))] * 2  # one decision per episode
    with FakeOpenAIServer(replies, model="fake-model") as fake:
        plan = prepare(EvalRequest("miniwob", planner=PlannerSpec("openai", "fake-model", fake.base_url),
                                   tasks="click-button", seeds=[0, 1], results=tmp_path / "m.jsonl",
                                   screenshots=False))
        results = execute(plan, progress="none")
    assert [r.success for r in results] == [True, True]
    assert all(r.input_tokens > 0 and r.output_tokens > 0 and r.planner == "openai:fake-model"
               for r in results)
