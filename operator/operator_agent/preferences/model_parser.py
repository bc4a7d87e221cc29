"""A sentence -> typed preferences by the model (structured output, validated with
pydantic), falling back to the rule-based parser on any failure.

Only the person's own sentence is ever sent here (from `operator prefs add`),
never page text.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import openai
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..planner.config import ModelConfig
from ..planner.openai import extract_json
from ..protocols import ConfigError
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
                           client: openai.AsyncOpenAI | None = None) -> list[Draft]:
    """Ask the model once (a rejected response_format is retried as plain JSON).
    Raises on any failure: the caller falls back to the rules."""
    own = client is None
    client = client or openai.AsyncOpenAI(base_url=config.base_url, api_key=config.api_key,
                                          max_retries=0, timeout=min(config.timeout, 30.0))
    kwargs: dict[str, Any] = {
        "model": config.model,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": sentence}],
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "preferences", "schema": Drafts.model_json_schema(), "strict": False}},
    }
    try:
        try:
            response = await client.chat.completions.create(**kwargs)
        except openai.BadRequestError:  # a local server without structured output
            kwargs.pop("response_format")
            response = await client.chat.completions.create(**kwargs)
    finally:
        if own:
            await client.close()
    content = response.choices[0].message.content if response.choices else None
    drafts = Drafts.model_validate_json(extract_json(content or "")).preferences
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
        except (openai.OpenAIError, ValidationError, ValueError, IndexError, AttributeError) as exc:
            log.info("model could not parse the preference, using the rules: %s", exc)
    return parser.parse(sentence, names=names), "rules"
