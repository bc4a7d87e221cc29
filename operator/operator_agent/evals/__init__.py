"""Evaluations: task suites on the practice sites and MiniWoB++, run in parallel or on a
Ray cluster, judged by checks on what the servers hold, reported as HTML.

    from operator_agent.evals import EvalRequest, PlannerSpec, prepare, execute
    plan = prepare(EvalRequest("miniwob", planner=PlannerSpec("scripted"), tasks="click-*", workers=2))
    results = execute(plan)          # TaskResult per task × seed, also in plan.results_path

Modules: tasks (the format), checks, suites, miniwob (the adapter), planners (the
registry), worker + episode (one task through the agent loop), backends (local, ray),
runner, results (JSONL, metrics), report (HTML), compare, commands (CLI). The suites,
their scripted solutions and the practice sites are the bench's (operator_bench), loaded
only when a task needs them. See operator_bench/suites/README.md.
"""

from importlib import import_module
from typing import Any

# Imported on first use: `operator` loads every command module at start-up, and this
# package pulls in Playwright and pydantic models.
_EXPORTS = {
    "Check": "checks", "CheckResult": "checks", "Outcome": "checks",
    "PlannerRequest": "planners", "PlannerSpec": "planners", "register_planner": "planners",
    "TaskResult": "results", "load_results": "results", "summarize": "results",
    "EvalRequest": "runner", "Plan": "runner", "execute": "runner", "prepare": "runner",
    "WorkItem": "suites", "load_suite": "suites", "load_suites": "suites",
    "ScriptSpec": "tasks", "Suite": "tasks", "Task": "tasks",
    "RunSettings": "worker",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
