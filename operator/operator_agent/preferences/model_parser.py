"""A sentence -> typed preferences by the model (structured output, validated with
pydantic), falling back to the rule-based parser on any failure.

Only the person's own sentence is ever sent here (from `operator prefs add`),
never page text.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..planner.adapters import Turn
from ..planner.client import ModelClient
from ..planner.config import ModelConfig
from ..planner.parsing import parse_reply
from ..planner.schema import strict_model_schema
from ..protocols import ConfigError, PlannerError
from ..types import Usage
from . import parser
from .model import SUBJECTS, Draft
from .names import Names

log = logging.getLogger(__name__)

ParsedBy = Literal["model", "rules"]

SYSTEM = f"""You turn one sentence in which a person states how they like things done into typed
preferences. Reply with JSON only: {{"preferences": [{{"subject", "value", "polarity", "scope"}}]}}.
- subject: one of {", ".join(SUBJECTS)}; use "note" (value: the sentence) for anything else.
- value: short and canonical: a seat kind (window, aisle, middle), an airline or brand name as
  written, a budget with its currency ("$15"), a number of stops ("0" for nonstop), a departure
  window (red-eye, early-morning, morning, afternoon, evening), a shipping speed (standard,
  express, next-day, same-day, two-day, free), an address, "Programme: NUMBER" for loyalty numbers.
- polarity: prefer, avoid, must (only/always/at most) or never.
- scope: "everywhere", "site:HOST" when the person names a site, or "category:flights|shopping".
A budget ("under $15") is shopping.budget with polarity must. "Avoid layovers" is
flights.max_stops "0" prefer; "no connecting flights" is flights.max_stops "0" must."""


class Drafts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preferences: list[Draft] = Field(max_length=8)


async def parse_with_model(sentence: str, config: ModelConfig,
                           client: ModelClient | None = None) -> list[Draft]:
    """Ask the model once (a refused structured output is asked again as plain JSON).
    Raises on any failure: the caller falls back to the rules."""
    # One quick attempt: the person is waiting at the prompt, and the rules are a fine answer.
    model = client or ModelClient(config, timeout=min(config.timeout, 30.0), max_attempts=1)
    try:
        reply = await model.ask(system=lambda structured: SYSTEM, turns=[Turn(role="user", text=sentence)],
                                schema_name="preferences", function="record_preferences",
                                schema=strict_model_schema(Drafts), usage=Usage())
    finally:
        if client is None:
            await model.aclose()
    drafts = parse_reply(Drafts, reply.text).preferences
    if not drafts:
        raise ValueError("the model found no preference in the sentence")
    return drafts


def resolve_model(model: str | None = None, base_url: str | None = None,
                  api_key: str | None = None) -> ModelConfig | None:
    """The configured model, or None when there is none (ModelConfig.resolve raises)."""
    try:
        return ModelConfig.resolve(model, base_url, api_key)
    except ConfigError:
        return None


async def parse_sentence(sentence: str, config: ModelConfig | None,
                         names: Names | None = None) -> tuple[list[Draft], ParsedBy]:
    """Typed preferences for what the person said, and who parsed them; `names` (the
    store's) help the rules tell a brand from an airline."""
    if config is not None:
        try:
            return await parse_with_model(sentence, config), "model"
        except (PlannerError, ConfigError, ValueError) as exc:  # a bad key too: the rules still work
            log.info("model could not parse the preference, using the rules: %s", exc)
    return parser.parse(sentence, names=names), "rules"
