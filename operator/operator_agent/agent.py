"""The loop: observe -> decide -> check -> act -> record.

Two kinds of error: our own bugs raise; the model's mistakes (invalid output,
a bad index, an action that failed) are recorded on the step, shown to the
model next step, and counted. Every step is written to the trace at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .budget import Budget
from .launch import BrowserOptions
from .permissions.detectors.elements import clean_text
from .permissions.detectors.points import elements_at
from .permissions.gate import DenyApprover
from .permissions.vault import Vault
from .protocols import (
    Approver,
    ConfigError,
    Environment,
    Gate,
    ModelAccessError,
    PersonStopped,
    Planner,
    PlannerError,
    PreferenceSource,
    RunHook,
    Takeover,
    UserChannel,
    sees_screenshots,
)
from .takeover import Handovers
from .traces import RunTrace, new_run_dir
from .types import (
    SCREENSHOT_MODES,
    Action,
    ActionResult,
    ApprovalNote,
    AskUser,
    Back,
    CloseTab,
    Done,
    HandOver,
    Navigate,
    Observation,
    OpenApp,
    RunResult,
    Screenshot,
    ScreenshotMode,
    StepRecord,
    StopReason,
    SwitchTab,
    TakeoverAsker,
    Type,
    TypeAt,
    Usage,
    Verdict,
    Verification,
    Wait,
)
from .wire import Wire, wire_of

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from .events import RunEvent
    from .executors.dialogs import SeenDialog

# URLs a page can arrive at by itself; desktop:// observations are not navigations.
_ARRIVAL_SCHEMES = ("http:", "https:", "file:", "data:", "javascript:", "blob:")

# After these the page (or tab) is another one: indexes of the old observation are stale
# (a program started on the desktop puts a new window over the old ones; the person had control).
_PAGE_CHANGING = (Navigate, Back, SwitchTab, CloseTab, OpenApp, HandOver)


@dataclass(kw_only=True)
class AgentConfig:
    max_steps: int = 30
    max_failures: int = 3  # consecutive failed steps before giving up
    loop_repeats: int = 3  # the same action on the same page state this often is a loop
    max_rejections: int = 2  # verification rejections of "done" before giving up
    verify: bool = True
    # Pictures for the trace: every step (a cheap JPEG), only after a failed step, or none;
    # True and False mean "steps" and "off". A planner that sees screenshots gets a PNG anyway.
    screenshots: bool | ScreenshotMode = "steps"
    runs_dir: Path | None = None
    run_dir: Path | None = None  # made beforehand (e.g. so the audit log knows the run id)
    max_tokens: int | None = None  # input + output tokens of all model calls (budget.py)
    max_cost: float | None = None  # USD; checkable only for a model with a known price

    def __post_init__(self) -> None:
        self.budget()  # a budget that allows no call is refused now, not mid-run
        if self.screenshots not in (True, False, *SCREENSHOT_MODES):
            raise ConfigError(f"screenshots {self.screenshots!r}: choose one of "
                              f"{', '.join(SCREENSHOT_MODES)}")

    def budget(self) -> Budget:
        return Budget(max_tokens=self.max_tokens, max_cost=self.max_cost)


    def screenshot(self, *, sees: bool, after_failure: bool) -> Screenshot:
        """Only when someone will look: the planner (exact pixels), or the trace's reader."""
        if sees:
            return True
        mode = {True: "steps", False: "off"}.get(self.screenshots, self.screenshots)  # type: ignore[call-overload]
        return "jpeg" if mode == "steps" or (mode == "failures" and after_failure) else False


class EmptyTask(ConfigError, ValueError):
    """The task says nothing to do. A ValueError for API callers; a ConfigError, so the
    command line prints it as one line and exits 2."""


def check_task(task: object) -> str:
    """The task, if it says something to do; else EmptyTask (before any browser starts)."""
    if not isinstance(task, str) or not task.strip():
        raise EmptyTask('the task is empty: say in plain words what to do, e.g. '
                        '"buy a USB-C cable under $15"')
    return task


class _Stop(Exception):
    def __init__(self, reason: StopReason, message: str, *, answer: str | None = None,
                 success: bool = False, verification: Verification | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.answer = reason, message, answer
        self.success, self.verification = success, verification


class Agent:
    """`await Agent(planner=..., environment=...).run(task)`; `run_sync` is the sync twin.

    Without an environment, run() opens a headless Chromium (at `start_url`) for
    the run and closes it afterwards. Without a gate, the person's policy (builder.
    permissions()) checks every action: consequential ones ask `approver`, else the
    person at the terminal, else nobody (denied). Turning every check off is the
    explicit `gate=AllowEverythingUnsafe()`.
    """

    def __init__(self, *, planner: Planner, environment: Environment | None = None,
                 start_url: str | None = None, browser: BrowserOptions | None = None,
                 gate: Gate | None = None, approver: Approver | None = None,
                 user: UserChannel | None = None, preferences: PreferenceSource | None = None,
                 vault: Vault | None = None, hooks: Sequence[RunHook] = (),
                 config: AgentConfig | None = None, takeover: Takeover | None = None) -> None:
        self.planner = planner
        self.environment = environment
        self.start_url = start_url
        self.browser_options = browser
        if gate is None:
            # No gate given: the same assembly as every entry point, never "allow all".
            from .builder import agent_defaults  # lazy: the builder imports this module

            run_id = config.run_dir.name if config and config.run_dir else None  # the audit log's
            gate, approver, vault = agent_defaults(approver=approver, vault=vault, prefs=preferences,
                                                   run_id=run_id)
        self.gate = gate
        self.approver = approver or DenyApprover()
        self.user = user
        self.takeover = takeover  # the person takes control (hand_over, or their key): takeover.py
        self.handovers = Handovers(on_stop=self.stop)
        self.preferences = preferences
        self.vault = vault  # its values are scrubbed from every trace line
        self.hooks = list(hooks)
        self.config = config or AgentConfig()
        self._stop_requested = False
        self._acting: Action = Wait()  # the action being performed (what a page's dialog interrupts)
        self._asked: list[ApprovalNote] = []
        self.trace: RunTrace | None = None
        self._sees = sees_screenshots(planner)  # a vision model: an exact picture every step

    def stop(self) -> None:
        """Stop after the current action; the trace keeps every finished step."""
        self._stop_requested = True
        self.handovers.end()  # the person has control: their hand-over ends here

    def run_sync(self, task: str) -> RunResult:
        check_task(task)  # before an event loop is even started
        return asyncio.run(self.run(task))

    def stream(self, task: str) -> AsyncGenerator[RunEvent, None]:
        """run() as typed events (events.py): RunStarted, ApprovalAsked/ApprovalAnswered,
        StepFinished per step, RunFinished last. Leaving the loop early stops the run."""
        from .events import stream_run  # events.py builds on this module

        return stream_run(self, task)

    async def run(self, task: str) -> RunResult:
        check_task(task)  # a blank task would be sent to the model as is
        if self.environment is not None:
            return await self._run(task, self.environment)
        from .session import BrowserSession  # only when we own the browser

        # The network is guarded before the start page loads (its own requests included).
        async with BrowserSession.open(self.browser_options, start_url=self.start_url, vault=self.vault,
                                       **self._wire()) as env:
            return await self._run(task, env)

    async def _run(self, task: str, env: Environment) -> RunResult:
        started = time.monotonic()
        guard = getattr(env, "guard_requests", None)  # browsers have a network to guard
        if guard is not None:
            # Pages can navigate and send without an action: denied hosts and secrets going
            # where they are not bound are refused at the network too (once per session).
            await guard(**self._wire())
        dialogs = getattr(getattr(env, "executor", None), "dialogs", None)
        if dialogs is not None and dialogs.answer is None:
            dialogs.answer = self._answer_dialog  # a page's confirm/prompt goes to the person
        budget = self.config.budget()
        run_dir = self.config.run_dir or new_run_dir(self.config.runs_dir, task)
        meta: dict[str, object] = {"start_url": self.start_url}
        if budget:
            meta["budget"] = budget.as_meta()  # the report shows the spend against it
        trace = self.trace = RunTrace(run_dir, task=task, meta=meta)
        for value in self.vault.values() if self.vault else ():
            trace.redactor.add(value)
        state = _RunState(budget=budget)
        result: RunResult | None = None
        try:
            for step_no in range(1, self.config.max_steps + 1):
                if self._stop_requested:
                    raise _Stop("stopped", f"stopped by the person after {step_no - 1} steps")
                await self._step(step_no, task, env, trace, state)
            raise _Stop("max_steps", f"reached the step limit ({self.config.max_steps}) without finishing")
        except _Stop as stop:
            result = RunResult(task=task, success=stop.success, answer=stop.answer,
                               stop_reason=stop.reason, message=stop.message, steps=state.steps,
                               usage=state.usage, verification=stop.verification)
        except PersonStopped as exc:
            result = RunResult(task=task, success=False, stop_reason="stopped", steps=state.steps,
                               usage=state.usage, message=f"stopped by the person: {exc}")
        except (asyncio.CancelledError, KeyboardInterrupt):
            result = RunResult(task=task, success=False, stop_reason="stopped", steps=state.steps,
                               usage=state.usage, message=f"interrupted after {state.steps} steps")
            raise
        except ModelAccessError as exc:
            # No later step can reach the model either: end now, trace kept, and raise so the
            # command line prints the one line and exits 2 (a ConfigError), as for a bad flag.
            result = RunResult(task=task, success=False, stop_reason="model_unavailable",
                               steps=state.steps, usage=state.usage, message=str(exc))
            raise
        except Exception as exc:
            result = RunResult(task=task, success=False, stop_reason="error", steps=state.steps,
                               usage=state.usage, message=f"internal error: {exc}")
            raise
        finally:
            if result is not None:
                unchecked = budget.unchecked(state.usage)
                if unchecked:  # said once, where the person reads why the run ended
                    result.message = f"{result.message}; {unchecked}" if result.message else unchecked
                result.seconds = round(time.monotonic() - started, 3)
                result.run_dir = str(run_dir)
                trace.finish(result)
                for hook in self.hooks:
                    hook.on_run_end(result)
        return result

    def _wire(self) -> Wire:
        """What the gate puts on the network; a question its payment wire has goes to the approver."""
        wire = wire_of(self.gate)
        payments = wire["payments"]
        if payments is not None and payments.ask is None:
            payments.ask = self._answer_payment
        return wire

    async def _ask(self, verdict: Verdict, action: Action) -> bool:
        """The person's answer; what they were shown and said goes into this step's record."""
        approved = await self.approver.approve(verdict, action)
        self._asked.append(ApprovalNote(summary=verdict.summary or verdict.reason, approved=approved))
        return approved

    async def _answer_payment(self, verdict: Verdict) -> bool:
        return await self._ask(verdict, self._acting)

    async def _step(self, step_no: int, task: str, env: Environment, trace: RunTrace,
                    state: _RunState) -> None:
        timings: dict[str, float] = {}
        self._asked = []  # this step's questions to the person (arrival, gate, payment, dialogs)
        t = time.monotonic()
        shot = self.config.screenshot(sees=self._sees, after_failure=state.failures > 0)
        later = shot == "jpeg" and hasattr(env, "picture")  # the trace's picture, while the model thinks
        obs = await env.observe(screenshot=False if later else shot)
        # The last step's errors first, then what the environment reports (requests it refused).
        obs.errors = [*state.last_errors, *obs.errors]
        obs = await self._check_arrival(env, obs, state)
        timings["observe"] = time.monotonic() - t
        picture = (asyncio.ensure_future(env.picture())  # type: ignore[attr-defined]
                   if later and obs.screenshot is None else None)
        over = state.budget.refusal(state.usage, state.last_call, obs.tokens, f"step {step_no}'s model call")
        if over:  # before the call, not after: this step is not recorded, nothing was decided
            raise _Stop("budget", over)
        record = StepRecord(step=step_no, url=obs.url, title=obs.title, observation_text=obs.text,
                            observation_tokens=obs.tokens, elements=len(obs.elements), timings=timings)
        record.approvals = self._asked  # (the same list: answers given later in the step land there too)
        record.handovers = self.handovers.notes = []
        state.steps = step_no
        stop: _Stop | None = None
        undecided = False
        try:
            if not self.handovers.wanted:  # asked while we looked: no model call, the person first
                stop = await self._decide_and_act(task, env, obs, record, trace, state, picture)
            if stop is None and self.handovers.wanted:  # after the current action, never during it
                await self._hand_over(env, HandOver(reason=self.handovers.wanted), "person", obs)
        except ModelAccessError:
            undecided = not record.actions  # refused at decide(): this step never happened
            raise
        finally:
            if picture is not None and obs.screenshot is None:
                obs.screenshot = await _taken(picture)
            if undecided:
                state.steps = step_no - 1  # the trace keeps every finished step, and only those
            else:
                self._close_step(record, obs, trace, state)
        if stop is not None:
            raise stop
        if state.failures >= self.config.max_failures:
            raise _Stop("repeated_failures",
                        f"{state.failures} steps in a row failed; last error: {state.last_errors[-1]}")

    async def _decide_and_act(self, task: str, env: Environment, obs: Observation, record: StepRecord,
                              trace: RunTrace, state: _RunState,
                              picture: asyncio.Future[bytes | None] | None = None) -> _Stop | None:
        t = time.monotonic()
        if self.preferences is not None:
            record.preferences = self.preferences.relevant(task, obs)
        try:
            out = await self.planner.decide(task, obs, state.history, record.preferences)
        except ModelAccessError as exc:
            _count_failed_call(exc, record, state)
            raise
        except PlannerError as exc:  # the model's mistake: shown to it next step
            record.error = str(exc)
            _count_failed_call(exc, record, state)
            record.model_output = str(getattr(exc, "model_output", "") or "")
            return None
        finally:
            record.timings["decide"] = time.monotonic() - t
        state.usage += out.usage
        state.last_call = out.usage
        record.usage, record.model = out.usage, out.model
        record.chosen, record.skill_step = out.chosen, out.skill_step
        record.model_input, record.model_output = out.model_input, out.model_output
        record.reasoning = out.decision.reasoning
        shown = {p.id for p in record.preferences}
        record.preference_ids = [i for i in out.decision.preference_ids if i in shown]
        if picture is not None:  # taken of the page the model saw, before anything acts on it
            obs.screenshot = await _taken(picture)
        t = time.monotonic()
        try:
            await self._act(task, env, obs, out.decision.actions, record, trace, state)
        except _Stop as stop:
            return stop
        finally:
            record.timings["act"] = time.monotonic() - t
        return None

    async def _check_arrival(self, env: Environment, obs: Observation, state: _RunState) -> Observation:
        """A redirect, meta refresh or new tab can land somewhere no action asked for.

        The first page is where the person started us; later changes of URL are checked.
        """
        previous, state.previous_url = state.previous_url, obs.url
        if previous is None or obs.url == previous or not obs.url.startswith(_ARRIVAL_SCHEMES):
            return obs
        verdict = self.gate.check_arrival(obs.url)
        if verdict.decision == "allow":
            return obs
        leave = Navigate(url="about:blank")
        if verdict.decision == "ask":
            approved = await self._ask(verdict, Navigate(url=obs.url))
            self.gate.record_answer(verdict, approved)
            if approved:
                return obs
        await env.perform(leave, obs)
        errors = [*obs.errors, f"left {obs.url}: {verdict.reason}"]
        obs = await env.observe(screenshot=self.config.screenshot(sees=self._sees,
                                                                  after_failure=state.failures > 0))
        obs.errors = errors
        state.previous_url = obs.url
        return obs

    def _close_step(self, record: StepRecord, obs: Observation, trace: RunTrace,
                    state: _RunState) -> None:
        failed = record.error is not None or any(not r.ok for r in record.results)
        state.failures = state.failures + 1 if failed else 0
        state.last_errors = ([record.error] if record.error else []) + [
            r.error for r in record.results if r.error]
        state.history.append(record)
        trace.record(record, obs.screenshot)
        for hook in self.hooks:
            hook.on_step(record)

    async def _act(self, task: str, env: Environment, obs: Observation, actions: Sequence[Action],
                   record: StepRecord, trace: RunTrace, state: _RunState) -> None:
        page_state = hashlib.sha1(f"{obs.url}\n{obs.text}".encode()).hexdigest()
        for action in actions:
            record.actions.append(action)
            if self.handovers.wanted:
                return  # the person asked for control: this action is not run
            if isinstance(action, Done):
                await self._finish(task, env, obs, action, record, state)
                return
            key = (page_state, action.model_dump_json(exclude={"reasoning"}))
            state.seen[key] += 1
            if state.seen[key] >= self.config.loop_repeats:
                record.results.append(ActionResult(ok=False, error="the same action on the same page again"))
                raise _Stop("loop", f"stuck in a loop: {action.action} repeated {state.seen[key]} times "
                                    "on an unchanged page")
            result = await self._checked(env, obs, action, trace)
            record.results.append(result)
            if (not result.ok or result.page_changed or isinstance(action, _PAGE_CHANGING)
                    or self._stop_requested or self.handovers.wanted):
                return  # later actions were planned for a page that is no longer there

    async def _checked(self, env: Environment, obs: Observation, action: Action,
                       trace: RunTrace) -> ActionResult:
        """The permission check sits between every decision and the page."""
        if _types_into_secret_field(action, obs):
            trace.redactor.add(action.text)  # what goes into a password field stays out of the trace
        verdict = await self.gate.check(action, obs)
        if verdict.decision == "deny":
            return ActionResult(ok=False, error=f"not allowed: {verdict.reason}")
        if verdict.decision == "ask":
            approved = await self._ask(verdict, action)
            self.gate.record_answer(verdict, approved)
            if not approved:
                return ActionResult(ok=False, error=f"not approved by the person: {verdict.reason}")
        if isinstance(action, HandOver):
            return await self._hand_over(env, action, "model", obs)
        if isinstance(action, AskUser):
            answer = await self.user.ask(action.question) if self.user else None
            if answer is None:
                return ActionResult(ok=False, error="nobody is there to answer; go on without asking")
            return ActionResult(ok=True, detail="the person answered", extracted=answer)
        self._acting = action
        return await env.perform(action, obs)

    async def _hand_over(self, env: Environment, action: HandOver, asked_by: TakeoverAsker,
                         obs: Observation) -> ActionResult:
        self._acting = action  # a payment or a page's question meanwhile is asked about this
        return await self.handovers.give(self.takeover, action, asked_by, env, last_url=obs.url,
                                         payments=wire_of(self.gate)["payments"])

    async def _answer_dialog(self, dialog: SeenDialog) -> bool:
        """A confirm() or prompt() the page opened during an action is the page asking the
        person: the approver answers it (nobody there: Cancel), never a default yes."""
        verdict = Verdict(decision="ask", reason=f"the page asks: {clean_text(dialog.message, 200)}",
                          summary=f"The page {dialog.origin} asks ({dialog.kind}):\n"
                                  f"  {clean_text(dialog.message, 300)}\nAnswer OK?")
        return await self._ask(verdict, self._acting)

    async def _finish(self, task: str, env: Environment, obs: Observation, action: Done,
                      record: StepRecord, state: _RunState) -> None:
        """Done is checked against the final page before success is reported."""
        if not action.success:
            record.results.append(ActionResult(ok=True, detail="gave up"))
            raise _Stop("failed", "the agent could not complete the task", answer=action.answer)
        if not self.config.verify:
            record.results.append(ActionResult(ok=True, detail="finished"))
            raise _Stop("done", "done", answer=action.answer, success=True)
        final = obs if len(record.actions) == 1 else await env.observe(screenshot=self._sees)
        over = state.budget.refusal(state.usage, state.last_call, final.tokens,
                                    "the model's check of the answer")
        if over:
            record.results.append(ActionResult(ok=False, error="not verified: the budget is spent"))
            raise _Stop("budget", over, answer=action.answer)
        try:
            verification, usage = await self.planner.verify(task, final, action.answer)
        except ModelAccessError as exc:  # the run ends; the result says why, once
            _count_failed_call(exc, record, state)
            record.results.append(ActionResult(ok=False, detail="not verified (the model is unavailable)"))
            raise
        except PlannerError as exc:
            # The model's mistake like any other: recorded, counted, and the next step sees it.
            _count_failed_call(exc, record, state)
            record.error = f"the check of the answer failed: {exc}"
            record.results.append(ActionResult(ok=False, detail="not verified (the check failed)"))
            return
        state.usage += usage
        state.last_call = usage
        record.usage = record.usage + usage
        if verification.ok:
            record.results.append(ActionResult(ok=True, detail=f"verified: {verification.reason}"))
            raise _Stop("done", "done and verified", answer=action.answer, success=True,
                        verification=verification)
        record.results.append(ActionResult(ok=False,
                                           error=f"the task is not done yet: {verification.reason}"))
        state.rejections += 1
        if state.rejections >= self.config.max_rejections:
            raise _Stop("failed", f"the result did not pass verification: {verification.reason}",
                        answer=action.answer, verification=verification)


def _count_failed_call(exc: Exception, record: StepRecord, state: _RunState) -> None:
    """Tokens paid for a failed model call count, on the step and against the budget."""
    spent = getattr(exc, "usage", None)
    if isinstance(spent, Usage):
        state.usage += spent
        state.last_call = spent
        record.usage = record.usage + spent


@dataclass
class _RunState:
    steps: int = 0
    failures: int = 0
    rejections: int = 0
    usage: Usage = field(default_factory=Usage)
    history: list[StepRecord] = field(default_factory=list)
    last_errors: list[str] = field(default_factory=list)
    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    previous_url: str | None = None  # of the last observation: arrivals are changes of URL
    budget: Budget = field(default_factory=Budget)
    last_call: Usage | None = None  # the last model call's usage: the estimate of the next one


async def _taken(picture: asyncio.Future[bytes | None]) -> bytes | None:
    try:
        return await picture
    except Exception:  # a picture for people: its loss never fails the step
        return None


def _types_into_secret_field(action: Action, obs: Observation) -> bool:
    """Typing into a password field, by index or at a point over one (allowed or not, the
    text is kept out of the trace)."""
    if isinstance(action, Type):
        target = obs.element(action.index)
        return target is not None and target.sensitive
    if isinstance(action, TypeAt):
        return any(el.sensitive for el in elements_at(obs, action.x, action.y))
    return False
