"""The boundaries the loop knows. Concrete backends are wired in builder.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .types import (
    Action,
    ActionResult,
    HandBack,
    HandOverRequest,
    Observation,
    PlannerOutput,
    PreferenceNote,
    RunResult,
    Screenshot,
    StepRecord,
    Usage,
    Verdict,
    Verification,
)


class ActionError(Exception):
    """A failed action: its message is shown to the model next step, the run goes on."""


class PlannerError(Exception):
    """The planner could not produce a valid decision (after retries and repair)."""


class PersonStopped(Exception):
    """The person stopped the run from outside the agent (e.g. the mouse thrown into a
    screen corner, pyautogui's fail-safe): end it now, as stopped, keeping the trace."""


class ConfigError(Exception):
    """Bad input from the person (flags, environment): one line that says what to do."""


class ModelAccessError(ConfigError):
    """The model server refused us for good (bad key, unknown model): the run cannot go on."""


@runtime_checkable
class Environment(Protocol):
    """What the agent looks at and acts on: a browser, or a desktop.

    observe(screenshot=True) adds a PNG, exact pixels (for a model); screenshot="jpeg" a
    cheaper picture for people (traces), where the environment has one (else a PNG)."""

    async def observe(self, *, screenshot: Screenshot = False) -> Observation: ...

    async def perform(self, action: Action, observation: Observation) -> ActionResult: ...


class Planner(Protocol):
    """Decides each step. A planner that looks at screenshots says so with a true attribute
    `sees_screenshots` (see sees_screenshots()): it then gets an exact PNG every step."""

    async def decide(self, task: str, observation: Observation, history: Sequence[StepRecord],
                     preferences: Sequence[PreferenceNote] = ()) -> PlannerOutput: ...

    async def verify(self, task: str, observation: Observation,
                     answer: str) -> tuple[Verification, Usage]: ...


def sees_screenshots(planner: object) -> bool:
    """Whether this planner looks at the screenshot (a vision or computer-use model)."""
    return bool(getattr(planner, "sees_screenshots", False))


class PreferenceSource(Protocol):
    """The person's preferences relevant to this task and page, within a budget."""

    def relevant(self, task: str, observation: Observation) -> list[PreferenceNote]: ...


class Gate(Protocol):
    """Code, not a prompt: every action passes here before it reaches the page."""

    async def check(self, action: Action, observation: Observation) -> Verdict: ...

    def check_arrival(self, url: str) -> Verdict:
        """Where the page ended up (redirects, new tabs), checked after the fact."""
        ...

    def record_answer(self, verdict: Verdict, approved: bool) -> None:
        """The person's answer to an "ask", for the audit log and approval book."""
        ...

    @property
    def filters_requests(self) -> bool:
        """Whether check_request can refuse anything (else the network is not filtered)."""
        ...

    def check_request(self, url: str) -> Verdict:
        """A request the page makes by itself: deny means the browser never sends it."""
        ...


class Approver(Protocol):
    async def approve(self, verdict: Verdict, action: Action) -> bool: ...


class UserChannel(Protocol):
    """How the agent asks its person a question (ask_user)."""

    async def ask(self, question: str) -> str | None: ...


class Takeover(Protocol):
    """How the person takes control of the browser or desktop mid-run and hands it back
    (takeover.py): for the model's hand_over, or when they asked for it themselves. The loop
    waits meanwhile: it neither acts, observes nor calls the model. Return once the person
    hands back, or at once with outcome "unavailable" and why (e.g. a headless browser)."""

    async def take_over(self, request: HandOverRequest) -> HandBack: ...


class Trace(Protocol):
    def record(self, step: StepRecord, screenshot: bytes | None) -> None: ...

    def finish(self, result: RunResult) -> None: ...


class RunHook(Protocol):
    """Observers of a run (progress display, recording, evaluation)."""

    def on_step(self, step: StepRecord) -> None: ...

    def on_run_end(self, result: RunResult) -> None: ...
