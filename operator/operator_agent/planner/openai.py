"""A planner backed by any OpenAI-compatible endpoint (Chat Completions or Responses).

OpenAI itself, or a local server (vLLM, Ollama, llama.cpp). Local servers vary: some
reject structured output, some ignore it and answer in prose or in a tool call, some omit
usage. The ModelClient (client.py) asks in the best output mode the server takes and
remembers it; the reply is parsed tolerantly (parsing.py), and one invalid reply is
repaired by showing the model what was wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import openai
from pydantic import BaseModel

from ..actions import decision_model
from ..types import Decision, Observation, PlannerOutput, PreferenceNote, StepRecord, Usage, Verification
from .adapters import OutputMode, Turn
from .client import ModelClient, ModelReplyError
from .config import ModelConfig
from .messages import build_step_message, build_verify_message, system_prompt, verify_prompt
from .parsing import extract_json, parse_reply, short_error
from .schema import strict_model_schema

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

# Kept importable from here: older callers and the reply fuzz tests use these names.
__all__ = ["ModelReplyError", "OpenAIPlanner", "_parse", "extract_json", "short_error"]
_parse = parse_reply


class OpenAIPlanner:
    """The Planner protocol over one ModelClient, one stateless request per step."""

    def __init__(self, config: ModelConfig, *, client: openai.AsyncOpenAI | None = None,
                 backoff_base: float = 0.5, backoff_max: float = 20.0,
                 retry_after_cap: float = 60.0, secrets_prompt: str = "") -> None:
        self.config = config
        self.secrets_prompt = secrets_prompt  # placeholder names only, never values
        self.model_client = ModelClient(config, client=client, backoff_base=backoff_base,
                                        backoff_max=backoff_max, retry_after_cap=retry_after_cap)

    def _system(self, structured: bool, actions: Sequence[str] = ()) -> str:
        # The catalog lists what the environment performs (it stamps them on each observation).
        base = system_prompt(structured=structured, actions=actions)
        return f"{base}\n\n{self.secrets_prompt}" if self.secrets_prompt else base

    @property
    def sees_screenshots(self) -> bool:
        """A vision model gets the screenshot, its indexes drawn on it."""
        return self.config.vision

    @property
    def output_mode(self) -> OutputMode:
        """How replies are asked for now: json_schema, tools, or json (after a refusal)."""
        return self.model_client.output

    @property
    def structured_outputs(self) -> bool | None:
        """Whether the server accepts json_schema output (None: not known yet)."""
        if "json_schema" in self.model_client.refused:
            return False
        if self.model_client.output == "json_schema" and self.model_client.confirmed:
            return True
        return None

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.model_client.aclose()

    async def __aenter__(self) -> OpenAIPlanner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- the Planner protocol -------------------------------------------------

    async def decide(self, task: str, observation: Observation, history: Sequence[StepRecord],
                     preferences: Sequence[PreferenceNote] = ()) -> PlannerOutput:
        text = build_step_message(task, observation, history, preferences=preferences)
        narrowed, raw, usage = await self._ask(
            lambda structured: self._system(structured, observation.actions), text, observation,
            decision_model(observation.actions), "decision", "decide")
        decision = Decision(reasoning=narrowed.reasoning, actions=narrowed.actions,
                            preference_ids=narrowed.preference_ids)
        return PlannerOutput(decision=decision, usage=usage, model_input=text, model_output=raw,
                             model=self.config.model)

    async def verify(self, task: str, observation: Observation,
                     answer: str) -> tuple[Verification, Usage]:
        text = build_verify_message(task, observation, answer)
        verification, _, usage = await self._ask(
            lambda structured: verify_prompt(), text, observation, Verification, "verification", "verify")
        return verification, usage

    # --- one question, with one repair ----------------------------------------

    async def _ask(self, system: Callable[[bool], str], text: str, observation: Observation,
                   model: type[M], name: str, function: str) -> tuple[M, str, Usage]:
        screenshot = None
        if self.config.vision and observation.screenshot:
            from ..perception.marks import draw_marks  # set-of-marks: the indexes drawn on the page

            screenshot = draw_marks(observation.screenshot, observation.elements)
        usage = Usage()
        turns = [Turn(role="user", text=text, image_png=screenshot)]
        schema = strict_model_schema(model)

        async def send() -> str:
            reply = await self.model_client.ask(system=system, turns=turns, schema_name=name,
                                                function=function, schema=schema, usage=usage)
            return reply.text

        raw = await send()
        try:
            return parse_reply(model, raw), raw, self.model_client.priced(usage)
        except ValueError as first:
            error = short_error(first)
        # One repair: show the model its reply and what was wrong with it.
        usage.repairs += 1
        log.info("invalid %s from %s, asking for a repair: %s", name, self.config.model, error)
        turns += [
            Turn(role="assistant", text=raw),
            Turn(role="user", text=f"Your reply was not a valid {name}: {error}\n"
                                   "Reply with the corrected JSON object only."),
        ]
        repaired = await send()
        try:
            return parse_reply(model, repaired), repaired, self.model_client.priced(usage)
        except ValueError as second:
            raise ModelReplyError(
                f"model gave an invalid {name} twice: {short_error(second, 200)}",
                usage=self.model_client.priced(usage), model_output=repaired) from None
