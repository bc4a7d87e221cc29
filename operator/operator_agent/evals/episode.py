"""Running one task × seed through the real agent loop and judging it.

The site's state is reset, a fresh browser context opened, the agent built as
`operator run` builds it (builder.permissions() and build_agent) from the task's
policy (its audit log and spend ledger inside the run folder, so tasks never share
a daily limit) and preferences, the simulated person answers the gate as the task
says, and afterwards the checks read the servers, the page and the answer.
"""

from __future__ import annotations

import asyncio
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

from ..builder import Permissions, build_agent, permissions
from ..permissions.gate import CallbackApprover, DenyApprover
from ..permissions.policy import Policy
from ..permissions.vault import Vault
from ..preferences import PreferenceStore
from ..protocols import Approver, ConfigError, Environment
from ..session import BrowserSession
from ..traces import new_run_dir
from ..types import Action, Done, HandOver, RunResult, StepRecord, Usage, Verdict
from ..wire import wire_of
from .checks import (
    AgentCheck,
    ApprovalRecord,
    Check,
    CheckResult,
    Judged,
    Outcome,
    PageCheck,
    RewardCheck,
    UrlCheck,
    evaluate,
)
from .planners import PlannerRequest, make_planner
from .results import ApprovalShown, TaskResult, result_for
from .setups import set_up
from .suites import WorkItem
from .tasks import Task
from .worker import RunSettings, Worker

STATE_SITES = ("shop", "flights", "payments")
_AMOUNT = re.compile(r"amount:\s*([\d,]+(?:\.\d+)?)\s+([A-Z]{3})")


class _Watch:
    """A RunHook: counts the model's mistakes and sees how the agent finished."""

    def __init__(self) -> None:
        self.errors = 0
        self.handovers = 0  # the model asked for the person (who is not there)
        self.gave_up = False
        self.chosen: Counter[str] = Counter()

    def on_step(self, step: StepRecord) -> None:
        self.errors += (step.error is not None) + sum(not r.ok for r in step.results)
        self.handovers += sum(isinstance(a, HandOver) for a in step.actions)
        if step.chosen:
            self.chosen[step.chosen] += 1
        self.gave_up = any(isinstance(a, Done) and not a.success for a in step.actions)

    def on_run_end(self, result: RunResult) -> None:
        pass


def _approver(task: Task, shown: list[ApprovalRecord]) -> Approver:
    """The simulated person: answers as the task says and remembers what it was shown."""
    if task.approve == "nobody":
        return DenyApprover()
    answer = task.approve == "yes"

    def decide(verdict: Verdict, action: Action) -> bool:
        text = verdict.summary or verdict.reason
        m = _AMOUNT.search(text)
        shown.append(ApprovalRecord(summary=text, reason=verdict.reason, approved=answer,
                                    amount=float(m.group(1).replace(",", "")) if m else None,
                                    currency=m.group(2) if m else None))
        return answer

    return CallbackApprover(decide)


def episode_permissions(task: Task, run_dir: Path, vault: Vault | None, approver: Approver) -> Permissions:
    """builder.permissions(), as for `operator run`, but from the shipped default policy with
    the task's overrides (never the person's own policy file or vault), its audit log and
    spend ledger in the run folder (tasks never share a daily limit)."""
    return permissions(run_id=run_dir.name, policy=Policy.default(), overrides=task.policy,
                       audit_path=run_dir / "audit.sqlite", vault=vault,
                       interactive=task.approve != "nobody", approver=approver)


def _preferences(task: Task) -> tuple[PreferenceStore | None, bool | None, Callable[[], None]]:
    """The task's preferences in a throwaway store (applied: None when it states none)."""
    if not task.preferences:
        return None, None, lambda: None
    from ..preferences import parse
    from ..preferences.model import Draft

    store = PreferenceStore(":memory:")
    for p in task.preferences:
        for draft in parse(p) if isinstance(p, str) else [Draft.model_validate(p)]:
            store.add(draft)
    return store, True, store.close


async def _final_page(env: Environment) -> tuple[str, str]:
    try:
        obs = await env.observe()
    except Exception as exc:  # a crashed or closed page: the checks see no page
        return "", f"(the final page could not be read: {exc})"
    return obs.url, obs.text


async def run_item(worker: Worker, item: WorkItem) -> TaskResult:
    """Run one task × seed; a harness failure becomes a result with `error`, never a raise
    (except cancellation, which stops the run)."""
    settings = worker.settings
    task = item.task.expanded()
    result = result_for(task, item.seed, settings.planner.label, worker=worker.name,
                        started=datetime.now(UTC).isoformat(timespec="seconds"))
    t0 = time.monotonic()
    try:
        await asyncio.wait_for(_run(worker, task, item.seed, settings, result), settings.timeout_s)
    except TimeoutError:
        result.error = f"timed out after {settings.timeout_s:g} s"
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        tb = traceback.format_exc(limit=-4)
        result.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        result.message = tb[-2000:]
    result.success = result.error is None and bool(result.checks) and all(c.ok for c in result.checks)
    result.seconds = round(time.monotonic() - t0, 3)
    return result


async def _run(worker: Worker, task: Task, seed: int, settings: RunSettings, result: TaskResult) -> None:
    t0 = time.monotonic()
    run_dir = new_run_dir(settings.runs_dir, f"{task.suite} {task.id} s{seed}")
    result.run_dir = str(run_dir)
    shown: list[ApprovalRecord] = []
    async with AsyncExitStack() as stack:
        context = await worker.fresh_context()
        stack.push_async_callback(context.close)
        setup = await set_up(worker, task, seed, context)
        env, goal = setup.env, setup.goal
        result.goal = goal
        try:
            planner = make_planner(PlannerRequest(settings.planner, task, goal, setup.site_url, setup.vault))
        except ConfigError as exc:  # e.g. no taught skill fits: the planner cannot attempt it
            result.stop_reason, result.message = "no_plan", str(exc)
            result.checks = [CheckResult(name="planner", ok=False, detail=str(exc)[:300])]
            return
        closer = getattr(planner, "aclose", None)
        if closer is not None:
            stack.push_async_callback(closer)  # the model client's connections
        perms = episode_permissions(task, run_dir, setup.vault, _approver(task, shown))
        stack.callback(perms.close)
        prefs, result.preferences_applied, close_prefs = _preferences(task)
        stack.callback(close_prefs)
        watch = _Watch()
        # Built as `operator run` builds it: the preference guard sits in the gate when the
        # task has preferences; the throwaway store learns nothing.
        agent = build_agent(planner=planner, environment=env, start_url=task.start, perms=perms,
                            prefs=prefs, hooks=[watch], max_steps=settings.max_steps or task.max_steps,
                            verify=task.verify, screenshots=settings.screenshots, run_dir=run_dir,
                            learn=False)
        if setup.start_url is not None and isinstance(env, BrowserSession):
            # The start page loads under the run's own guard, as `operator run URL` does.
            await env.guard_requests(**wire_of(agent.gate))
            await env.goto(setup.start_url)
        result.setup_seconds = round(time.monotonic() - t0, 3)
        run = await agent.run(goal)
        checks = ([RewardCheck()] if task.site == "miniwob" else []) + list(task.checks) or _default_checks()
        # Reading the final page costs an observation: only when a check looks at it.
        needs_page = any(isinstance(c, PageCheck | UrlCheck) for c in checks)
        final_url, final_text = await _final_page(env) if needs_page else ("", "")
        outcome = Outcome(answer=run.answer, agent_success=run.success, gave_up=watch.gave_up,
                          stop_reason=run.stop_reason, final_url=final_url, final_text=final_text,
                          approvals=shown, judged=await _judged(checks, settings, goal, run))
        await setup.read_back(outcome)
    _fill(result, run, watch, shown, outcome)
    result.checks = evaluate(checks, outcome)


async def _judged(checks: list[Check], settings: RunSettings, goal: str,
                  run: RunResult) -> dict[str, tuple[bool, str]]:
    """The model judge's verdicts on the open answer, one per `judged` check's rubric (its
    tokens are not the agent's: they are not added to the run's)."""
    rubrics = [c.rubric for c in checks if isinstance(c, Judged)]
    if not rubrics:
        return {}
    from .judge import judge, judge_config

    config = judge_config(settings.planner.model, settings.planner.base_url)
    return {r: await judge(config, goal=goal, rubric=r, answer=run.answer, usage=Usage()) for r in rubrics}


def _default_checks() -> list[Check]:
    return [AgentCheck(success=True)]  # a task without checks trusts the verified "done"


def _fill(result: TaskResult, run: RunResult, watch: _Watch, shown: list[ApprovalRecord],
          outcome: Outcome) -> None:
    result.answer, result.stop_reason, result.message = run.answer, run.stop_reason, run.message
    result.steps, result.agent_seconds = run.steps, run.seconds
    result.input_tokens, result.output_tokens = run.usage.input_tokens, run.usage.output_tokens
    result.cost_usd = run.usage.cost_usd
    result.errors, result.handovers = watch.errors, watch.handovers
    result.chosen = dict(watch.chosen.most_common())
    result.approvals = [ApprovalShown(summary=a.summary, approved=a.approved, amount=a.amount,
                                      currency=a.currency) for a in shown]
    if outcome.raw_reward is not None:
        state = outcome.state.get("miniwob", {})
        result.reward, result.raw_reward = float(state.get("reward", 0.0)), outcome.raw_reward
