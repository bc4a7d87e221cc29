"""An offline planner that replays pre-written decisions: demos and tests, no server."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..protocols import PlannerError
from ..types import (
    Decision,
    Done,
    Observation,
    PlannerOutput,
    PreferenceNote,
    StepRecord,
    Usage,
    Verification,
)
from .messages import build_step_message

StepFn = Callable[[str], Decision | dict[str, Any]]


class ScriptedPlanner:
    """Returns the scripted decisions in order, then Done(success=False, "script exhausted").

    A script item may also be a PlannerError, raised at that step to play a model
    mistake, or a callable that reads the observation text (as a model would, to
    find element indexes) and returns the decision. Fixed items are validated up
    front: a broken script is our bug and fails at once.
    """

    model = "scripted"

    def __init__(self, decisions: Sequence[Decision | dict[str, Any] | PlannerError | StepFn],
                 verifications: Sequence[Verification | dict[str, Any] | bool] | None = None) -> None:
        self._decisions: list[Decision | PlannerError | StepFn] = [
            d if isinstance(d, Decision | PlannerError) or callable(d) else Decision.model_validate(d)
            for d in decisions]
        self._verifications = [_verification(v) for v in verifications or ()]
        self.observations: list[Observation] = []  # what decide() was shown, for assertions
        self.prompts: list[str] = []  # the user message a real model would have read

    @property
    def remaining(self) -> int:
        return len(self._decisions)

    async def decide(self, task: str, observation: Observation, history: Sequence[StepRecord],
                     preferences: Sequence[PreferenceNote] = ()) -> PlannerOutput:
        self.observations.append(observation)
        prompt = build_step_message(task, observation, history, preferences=preferences)
        self.prompts.append(prompt)
        item = self._decisions.pop(0) if self._decisions else Decision(
            reasoning="The script has no more steps.",
            actions=[Done(answer="script exhausted", success=False)])
        if isinstance(item, PlannerError):
            raise item
        if not isinstance(item, Decision):
            try:
                item = Decision.model_validate(item(observation.text))
            except LookupError as exc:  # the script looked for something not on the page
                raise PlannerError(f"scripted step failed: {exc}") from exc
        return PlannerOutput(decision=item, usage=Usage(calls=1), model_input=prompt, chosen="scripted",
                             model_output=item.model_dump_json(), model=self.model)

    async def verify(self, task: str, observation: Observation,
                     answer: str) -> tuple[Verification, Usage]:
        if self._verifications:
            return self._verifications.pop(0), Usage(calls=1)
        return Verification(ok=True, reason="scripted: no check"), Usage(calls=1)


def _verification(v: Verification | dict[str, Any] | bool) -> Verification:
    if isinstance(v, Verification):
        return v
    if isinstance(v, bool):
        return Verification(ok=v, reason="scripted")
    return Verification.model_validate(v)
