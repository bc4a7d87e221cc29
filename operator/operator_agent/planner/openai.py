"""A planner backed by any OpenAI-compatible chat completions endpoint.

OpenAI itself, or a local server (vLLM, Ollama, llama.cpp). Local servers vary:
some reject structured output, some ignore it and answer in prose, some omit
usage. We ask for structured output first and degrade to plain JSON once, parse
JSON out of prose, repair one invalid reply by re-asking, and retry transient
failures ourselves (the client's own retries are off so we can count them).
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import logging
import random
import re
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from ..protocols import PlannerError
from ..types import Decision, Observation, PlannerOutput, PreferenceNote, StepRecord, Usage, Verification
from .config import ModelConfig
from .messages import build_step_message, build_verify_message, system_prompt, verify_prompt
from .pricing import cost

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_FORMAT_WORDS = ("response_format", "json_schema", "structured output", "response format")


class ModelReplyError(PlannerError):
    """A PlannerError that still carries what the failed attempt cost and said."""

    def __init__(self, message: str, *, usage: Usage, model_output: str = "") -> None:
        super().__init__(message)
        self.usage = usage
        self.model_output = model_output


def extract_json(text: str) -> str:
    """The JSON part of a reply: the whole text, a ```json fence, or the outermost {...}."""
    stripped = text.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        return stripped
    fence = _FENCE.search(stripped)
    if fence and fence.group(1).strip().startswith("{"):
        return fence.group(1).strip()
    start, end = stripped.find("{"), stripped.rfind("}")
    if start != -1 and end > start:
        return stripped[start:end + 1]
    return stripped


def short_error(error: Exception, limit: int = 400) -> str:
    """A one-line summary of why a reply did not validate, short enough to send back."""
    if isinstance(error, ValidationError):
        parts = []
        for e in error.errors(include_url=False)[:4]:
            loc = ".".join(str(p) for p in e["loc"]) or "(root)"
            parts.append(f"{loc}: {e['msg']}")
        text = "; ".join(parts)
        if error.error_count() > 4:
            text += f"; and {error.error_count() - 4} more"
    else:
        text = str(error)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse(model: type[M], text: str) -> M:
    return model.model_validate_json(extract_json(text))


def _user_content(text: str, screenshot: bytes | None) -> str | list[dict[str, Any]]:
    if screenshot is None:
        return text
    url = "data:image/png;base64," + base64.b64encode(screenshot).decode("ascii")
    return [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": url}}]


def _retry_after(error: Exception) -> float | None:
    """Seconds the server asked us to wait (Retry-After-Ms, Retry-After seconds or date)."""
    response = getattr(error, "response", None)
    if response is None:
        return None
    headers = response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
    return None


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())[:300]


class OpenAIPlanner:
    """The Planner protocol over chat completions, one stateless request per step."""

    def __init__(self, config: ModelConfig, *, client: openai.AsyncOpenAI | None = None,
                 backoff_base: float = 0.5, backoff_max: float = 20.0,
                 retry_after_cap: float = 60.0, secrets_prompt: str = "") -> None:
        self.config = config
        self.secrets_prompt = secrets_prompt  # placeholder names only, never values
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_cap = retry_after_cap  # a server asking for more still gets retried, sooner
        self._client = client or openai.AsyncOpenAI(
            base_url=config.base_url, api_key=config.api_key, max_retries=0, timeout=config.timeout)
        # None: not known yet; False once the server rejected response_format.
        self._structured: bool | None = None

    def _system(self, *, structured: bool) -> str:
        base = system_prompt(structured=structured)
        return f"{base}\n\n{self.secrets_prompt}" if self.secrets_prompt else base

    @property
    def structured_outputs(self) -> bool | None:
        """Whether the server accepts json_schema response_format (None: not asked yet)."""
        return self._structured

    async def aclose(self) -> None:
        """Close the HTTP client (only matters for a client we created)."""
        await self._client.close()

    async def __aenter__(self) -> OpenAIPlanner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- the Planner protocol -------------------------------------------------

    async def decide(self, task: str, observation: Observation, history: Sequence[StepRecord],
                     preferences: Sequence[PreferenceNote] = ()) -> PlannerOutput:
        text = build_step_message(task, observation, history, preferences=preferences)
        decision, raw, usage = await self._ask(self._system, text, observation, Decision, "decision")
        return PlannerOutput(decision=decision, usage=usage, model_input=text, model_output=raw,
                             model=self.config.model)

    async def verify(self, task: str, observation: Observation,
                     answer: str) -> tuple[Verification, Usage]:
        text = build_verify_message(task, observation, answer)
        verification, _, usage = await self._ask(
            lambda structured: verify_prompt(), text, observation, Verification, "verification")
        return verification, usage

    # --- one question, with fallback and repair ------------------------------

    async def _ask(self, system: Callable[..., str], text: str, observation: Observation, model: type[M],
                   name: str) -> tuple[M, str, Usage]:
        screenshot = None
        if self.config.vision and observation.screenshot:
            from ..perception.marks import draw_marks  # set-of-marks: the indexes drawn on the page

            screenshot = draw_marks(observation.screenshot, observation.elements)
        usage = Usage()
        convo: list[dict[str, Any]] = [{"role": "user", "content": _user_content(text, screenshot)}]
        raw = await self._send(system, convo, model, name, usage)
        try:
            return _parse(model, raw), raw, self._priced(usage)
        except (ValidationError, ValueError) as first:
            error = short_error(first)
        # One repair: show the model its reply and what was wrong with it.
        usage.repairs += 1
        log.info("invalid %s from %s, asking for a repair: %s", name, self.config.model, error)
        convo += [
            {"role": "assistant", "content": raw},
            {"role": "user", "content": f"Your reply was not a valid {name}: {error}\n"
                                        "Reply with the corrected JSON object only."},
        ]
        repaired = await self._send(system, convo, model, name, usage)
        try:
            return _parse(model, repaired), repaired, self._priced(usage)
        except (ValidationError, ValueError) as second:
            raise ModelReplyError(
                f"model gave an invalid {name} twice: {short_error(second, 200)}",
                usage=self._priced(usage), model_output=repaired) from None

    async def _send(self, system: Callable[..., str], convo: list[dict[str, Any]],
                    model: type[BaseModel], name: str, usage: Usage) -> str:
        """One completion; drops structured output for good if the server rejects it."""
        while True:
            structured = self._structured is not False
            kwargs: dict[str, Any] = {
                "model": self.config.model,
                "messages": [{"role": "system", "content": system(structured=structured)}, *convo],
            }
            if structured:
                kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                    "name": name, "schema": model.model_json_schema(), "strict": False}}
            try:
                response = await self._create(kwargs, usage)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as e:
                about_format = any(w in str(e).lower() for w in _FORMAT_WORDS)
                # Any 400 before structured output ever worked is blamed on it: local
                # servers word this error in many ways. Afterwards only a clear one is.
                first = self._structured is None and isinstance(e, openai.BadRequestError)
                if structured and (about_format or first):
                    log.info("%s rejected response_format, falling back to plain JSON: %s",
                             self.config.base_url or "server", _one_line(e))
                    self._structured = False
                    usage.retries += 1
                    continue
                raise ModelReplyError(f"model server rejected the request: {_one_line(e)}",
                                      usage=self._priced(usage)) from None
            except openai.APIStatusError as e:  # other 4xx: not transient, not ours to fix
                raise ModelReplyError(f"model server refused the request: {_one_line(e)}",
                                      usage=self._priced(usage)) from None
            if structured:
                self._structured = True
            self._count(response, usage)
            message = response.choices[0].message if response.choices else None
            if message is None:
                return ""
            return message.content or getattr(message, "refusal", None) or ""

    async def _create(self, kwargs: dict[str, Any], usage: Usage) -> Any:
        """chat.completions.create with backoff on rate limits, 5xx, timeouts, lost connections."""
        attempts = max(1, self.config.max_attempts)
        for attempt in range(1, attempts + 1):
            usage.calls += 1
            try:
                return await self._client.chat.completions.create(**kwargs)
            except openai.AuthenticationError as e:
                raise ModelReplyError(
                    f"the model server refused the API key ({_one_line(e)}): check OPENAI_API_KEY",
                    usage=self._priced(usage)) from None
            except openai.PermissionDeniedError as e:
                raise ModelReplyError(f"no access to model {self.config.model!r}: {_one_line(e)}",
                                      usage=self._priced(usage)) from None
            except openai.NotFoundError as e:
                raise ModelReplyError(
                    f"model {self.config.model!r} not found at {self.config.base_url or 'api.openai.com'} "
                    f"({_one_line(e)}): check OPERATOR_MODEL/--model and OPENAI_BASE_URL",
                    usage=self._priced(usage)) from None
            except openai.RateLimitError as e:
                if e.code == "insufficient_quota":  # waiting will not bring money back
                    raise ModelReplyError(f"model account is out of quota: {_one_line(e)}",
                                          usage=self._priced(usage)) from None
                error: Exception = e
            except openai.APIStatusError as e:
                if e.status_code < 500:
                    raise  # 400/422 are handled by the caller; others are not transient
                error = e
            except openai.APIConnectionError as e:  # includes APITimeoutError
                error = e
            if attempt == attempts:
                raise ModelReplyError(
                    f"model server kept failing after {attempts} attempts: {_one_line(error)}",
                    usage=self._priced(usage)) from None
            usage.retries += 1
            delay = self._delay(attempt, error)
            log.info("model call failed (%s), retry %d in %.2fs", _one_line(error), attempt, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, error: Exception) -> float:
        asked = _retry_after(error)
        if asked is not None:
            return min(asked, self.retry_after_cap)
        # Exponential backoff with jitter, so many agents do not retry in lockstep.
        return min(self.backoff_base * 2 ** (attempt - 1), self.backoff_max) * random.uniform(0.5, 1.0)

    # --- usage ----------------------------------------------------------------

    @staticmethod
    def _count(response: Any, usage: Usage) -> None:
        reported = getattr(response, "usage", None)
        if reported is not None:  # some local servers omit usage
            usage.input_tokens += reported.prompt_tokens or 0
            usage.output_tokens += reported.completion_tokens or 0

    def _priced(self, usage: Usage) -> Usage:
        usage.cost_usd = cost(self.config.model, usage.input_tokens, usage.output_tokens)
        return usage
