"""Self-healing: when a step's element was found another way than recorded (by
scoring, or by asking the model), the new description is proposed as a heal.
Heals are written back to the skill only when the person accepts them.

The model is asked for one step only, with the step's intent; it picks the
element, the replayer builds the action itself (so no parameter value, and
never a secret, is shown to the model).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..protocols import Planner, PlannerError
from ..types import Element, Observation, Usage
from .features import features
from .format import Position, Skill, Step, Target
from .templates import fill, generalize, path_pattern, slots


@dataclass
class Heal:
    step: int  # step id
    source: Literal["score", "model"]
    before: Target
    after: Target
    score: float = 0.0

    def describe(self) -> str:
        old = self.before.name or self.before.label or self.before.id or self.before.css
        new = self.after.name or self.after.label or self.after.id or self.after.css
        how = "the model picked" if self.source == "model" else f"found by likeness ({self.score:.2f})"
        return f'step {self.step}: "{old}" is now {self.after.role} "{new}" ({how})'


def target_from_element(el: Element, old: Target | None = None) -> Target:
    """A description of a live element; parameter slots of the old description are kept."""
    f = features(el)
    name = f.get("name") or el.name
    label = f.get("label", "")
    href = el.attributes.get("href", "").split("?")[0] if el.role == "link" else ""
    box = el.bbox
    target = Target(
        role=el.role, name=name, name_like=generalize(name) or "", label=label if label != name else "",
        placeholder=el.placeholder or "", testid=f.get("testid", ""), id=el.attributes.get("id", ""),
        field=el.attributes.get("name", ""), tag=el.tag, type=el.attributes.get("type", ""), href=href,
        css=f.get("css", ""), classes=f.get("classes", "").split()[:4], context=f.get("context", ""),
        item=f.get("item", ""), frame=path_pattern(el.frame) if el.frame else "",
        position=Position(x=box.x, y=box.y, width=box.width, height=box.height) if box else None)
    if old is not None:
        if slots(old.name):
            target.name, target.name_like, target.match = old.name, old.name_like, old.match
        target.frame_title, target.image = old.frame_title, old.image
    return target


def apply_heals(skill: Skill, heals: list[Heal]) -> Skill:
    """The skill with the healed descriptions in place of the old ones."""
    by_step = {h.step: h for h in heals}
    steps = [s.model_copy(update={"target": by_step[s.id].after}) if s.id in by_step else s
             for s in skill.steps]
    return skill.model_copy(update={"steps": steps})


def public_values(skill: Skill, values: Mapping[str, str]) -> dict[str, str]:
    """Values that may be shown to a model: not secrets."""
    return {k: v for k, v in values.items() if skill.parameters.get(k) is None
            or skill.parameters[k].type != "secret"}


def heal_task(skill: Skill, step: Step, values: Mapping[str, str]) -> str:
    shown = public_values(skill, values)
    t = step.target or Target()
    what = f'{t.role or "element"} "{fill(t.name, shown) or t.label or t.placeholder}"'
    where = f' (it was near "{t.context}")' if t.context else ""
    return (f'You are replaying the taught skill "{skill.name}": {fill(skill.description, shown)}.\n'
            f"Do ONLY this one step now: {fill(step.intent, shown)}. The element was the {what}{where}; "
            "the page has changed since, so find the element that does the same thing. Reply with one "
            "action on that element (its [index]); the text to type is filled in for you. If there is "
            "no such element, reply with done and success=false.")


class ModelHealer:
    """Asks a planner (the model) for one step's element."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner

    async def find(self, skill: Skill, step: Step, values: Mapping[str, str],
                   obs: Observation) -> tuple[int | None, Usage]:
        try:
            out = await self.planner.decide(heal_task(skill, step, values), obs, [], ())
        except PlannerError as exc:
            spent = getattr(exc, "usage", None)
            return None, spent if isinstance(spent, Usage) else Usage()
        for action in out.decision.actions:
            index = getattr(action, "index", None)
            if isinstance(index, int) and obs.element(index) is not None:
                return index, out.usage
        return None, out.usage
