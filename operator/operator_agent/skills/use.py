"""A model can run a taught skill as one action: use_skill(name, parameters).

SkillAwarePlanner wraps the model's planner. It tells the model which skills
exist (with the task), and when the model's decision holds a use_skill action
it replays that skill (a SkillPlanner) in the model's place until the skill is
done, then hands back to the model with the outcome. The agent loop only ever
sees ordinary actions, so every one of them passes the permission gate, and
agent.py needs no change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from ..protocols import ConfigError, Planner, PlannerError, sees_screenshots
from ..types import Done, Observation, PlannerOutput, PreferenceNote, StepRecord, Usage, Verification
from .library import SkillLibrary
from .replay import SkillPlanner
from .values import resolve

try:  # the shared vocabulary's, once types.py has it (see the report for the exact model)
    from ..types import UseSkill  # type: ignore[attr-defined]
except ImportError:

    class UseSkill(BaseModel):  # type: ignore[no-redef]
        """Run a taught skill (from the SKILLS list) with these parameter values; its steps are
        replayed for you, then you see the page again."""

        model_config = ConfigDict(extra="forbid")
        action: Literal["use_skill"] = "use_skill"
        name: str
        parameters: dict[str, str] = Field(default_factory=dict)


def skills_prompt(library: SkillLibrary) -> str:
    """What the model is told about the skills it may run."""
    lines = []
    for entry in library.entries():
        s = entry.skill
        params = "; ".join(
            f"{n} ({p.type})" + (f" e.g. {p.example!r}" if p.example and p.type != "secret" else "")
            + (" [secret: leave out, filled from the vault]" if p.type == "secret" else "")
            for n, p in s.parameters.items())
        lines.append(f"- {s.name}: {s.description}" + (f" | parameters: {params}" if params else ""))
    if not lines:
        return ""
    return ("SKILLS YOU CAN RUN (a person taught these; use the action "
            '{"action": "use_skill", "name": ..., "parameters": {...}} when one fits the task; '
            "its steps are replayed for you):\n" + "\n".join(lines))


def _as_use(action: Any) -> UseSkill | None:
    if isinstance(action, UseSkill):
        return action
    if getattr(action, "action", None) == "use_skill":
        return UseSkill.model_validate(action.model_dump() if isinstance(action, BaseModel) else action)
    return None


class SkillAwarePlanner:
    """Planner wrapper: expands use_skill into the skill's replayed steps."""

    def __init__(self, inner: Planner, library: SkillLibrary | None = None, *,
                 report: Callable[[str], None] | None = None) -> None:
        self.inner = inner
        self.library = library or SkillLibrary()
        self.report = report
        self.model = getattr(inner, "model", "model")
        self.replay: SkillPlanner | None = None
        self._outcome = ""  # what the last skill did, for the model's next step
        self._prompt = skills_prompt(self.library)

    @property
    def sees_screenshots(self) -> bool:
        return sees_screenshots(self.inner)

    def _task(self, task: str) -> str:
        parts = [task]
        if self._prompt:
            parts.append(self._prompt)
        if self._outcome:
            parts.append(f"(The skill you ran has ended: {self._outcome})")
        return "\n\n".join(parts)

    async def decide(self, task: str, observation: Observation, history: Sequence[StepRecord],
                     preferences: Sequence[PreferenceNote] = ()) -> PlannerOutput:
        handed = False  # a skill the model ran has just ended: the model takes the run back
        if self.replay is not None:
            out = await self.replay.decide(task, observation, history, preferences)
            done = next((a for a in out.decision.actions if isinstance(a, Done)), None)
            if done is None:
                return out
            self._outcome = f"{'done' if done.success else 'not finished'}: {done.answer}"
            self.replay = None  # back to the model, which sees the page and the outcome
            handed = True
        out = await self.inner.decide(self._task(task), observation, history, preferences)
        if handed:
            out.chosen = "after-skill"
        use = next((u for u in map(_as_use, out.decision.actions) if u is not None), None)
        if use is None:
            return out
        try:
            entry = self.library.get(use.name)
            values = resolve(entry.skill, use.parameters)
        except ConfigError as exc:  # the model's mistake: it reads this next step
            raise PlannerError(f"use_skill: {exc}") from None
        here = urlsplit(observation.url)
        elsewhere = f"{here.scheme}://{here.netloc}" != entry.skill.site
        self.replay = SkillPlanner(entry.skill, values, base_url=entry.skill.start_url if elsewhere
                                   else observation.url, report=self.report, go_to_start=elsewhere)
        self._outcome = ""
        first = await self.replay.decide(task, observation, [], preferences)
        first.decision.reasoning = (f"{out.decision.reasoning} [skill {entry.skill.name}] "
                                    f"{first.decision.reasoning}")
        return PlannerOutput(decision=first.decision, usage=out.usage + first.usage, model=out.model,
                             model_input=out.model_input, model_output=out.model_output,
                             chosen=first.chosen, skill_step=first.skill_step)

    async def verify(self, task: str, observation: Observation, answer: str) -> tuple[Verification, Usage]:
        return await self.inner.verify(task, observation, answer)

    async def aclose(self) -> None:
        closer = getattr(self.inner, "aclose", None)
        if closer is not None:
            await closer()
