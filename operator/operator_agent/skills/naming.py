"""With a model configured, `operator learn` asks it to name the parameters and write
the description (through the OpenAI-compatible client). Without one, names come
from the field labels (compiler). Secret values never exist in a recording, so
none can be shown; secret parameters are named, never given an example here."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from ..planner.adapters import ModelRequest, Turn
from ..planner.client import ModelClient
from ..planner.config import ModelConfig
from ..planner.parsing import parse_reply
from ..protocols import ConfigError, PlannerError
from ..types import Usage
from .format import Skill, Step
from .templates import SLOT

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

PROMPT = """You name the parts of a skill that a person taught an agent by doing a task once in a \
browser. Below: what the person said they were doing (may be empty), the steps as recorded, and the \
parameters found (typed or chosen values that can change next time), each with its current name.

Reply with ONE JSON object:
{"description": "<one sentence saying what the skill does, using {name} for each parameter, e.g. \
Buy a {query} under ${max_price}>",
 "parameters": {"<current name>": {"name": "<snake_case name>", "description": "<a few words>"}}}
Names are short snake_case (letters, digits, _), unique, and say what the value is \
(query, max_price, origin, departure_date, first_name)."""


class _Naming(BaseModel):
    description: str = ""
    parameters: dict[str, dict[str, str]] = {}


def _brief(skill: Skill, task: str) -> str:
    params = {n: {"type": p.type, "example": p.example if p.type != "secret" else None,
                  "description": p.description} for n, p in skill.parameters.items()}
    steps = [f"{s.id}. {s.intent}" for s in skill.steps]
    return (f"PERSON SAID: {task or '(nothing)'}\nSITE: {skill.site}\nSTEPS:\n" + "\n".join(steps)
            + "\nPARAMETERS:\n" + json.dumps(params, ensure_ascii=False, indent=1))


def rename(skill: Skill, old: str, new: str) -> Skill:
    """The skill with parameter `old` called `new` everywhere it is used."""

    def sub(text: str) -> str:
        return SLOT.sub(lambda m: m.group(0).replace("{" + old, "{" + new, 1) if m.group(1) == old
                        else m.group(0), text)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return sub(value)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    steps = [Step.model_validate(walk(s.model_dump())) for s in skill.steps]
    params = {(new if k == old else k): v for k, v in skill.parameters.items()}
    return skill.model_copy(update={"steps": steps, "parameters": params,
                                    "description": sub(skill.description)})


def apply_naming(skill: Skill, naming: _Naming) -> Skill:
    taken = set(skill.parameters)
    for old, info in naming.parameters.items():
        new = (info.get("name") or "").strip()
        if old not in skill.parameters or not _NAME.match(new) or (new != old and new in taken):
            continue
        if new != old:
            skill = rename(skill, old, new)
            taken = (taken - {old}) | {new}
        if info.get("description"):
            skill.parameters[new].description = info["description"].strip()[:200]
    described = naming.description.strip()
    if described and all(name in skill.parameters for name, _ in SLOT.findall(described)):
        skill = skill.model_copy(update={"description": described[:300]})
    return skill


async def name_with_model(skill: Skill, task: str, config: ModelConfig,
                          client: ModelClient | None = None) -> tuple[Skill, Usage]:
    """The skill named by the model; unchanged (and why) if its reply is unusable."""
    model = client or ModelClient(config, max_attempts=2)
    usage = Usage()
    request = ModelRequest(system=PROMPT, turns=(Turn(role="user", text=_brief(skill, task)),))
    try:
        reply = await model.complete(request, usage)
        naming = parse_reply(_Naming, reply.text)
    except (PlannerError, ConfigError, ValueError):  # no model, no naming: the labels stay
        return skill, model.priced(usage)
    finally:
        if client is None:
            await model.aclose()
    return apply_naming(skill, naming), model.priced(usage)
