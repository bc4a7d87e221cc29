"""The one way this package calls a model: a ModelClient over the `openai` package.

Every model call (the planner's steps and checks, `operator prefs add`, `operator learn`)
goes through here, so all of them share: the API chosen in ModelConfig (Chat Completions
or Responses, adapters.py), its timeout, retries of transient failures (429, 5xx, lost
connections, timeouts) honouring Retry-After, errors that name the fix, token counting
(estimated when the server reports none) and pricing.

It also learns once what the server accepts for structured output (a strict json_schema,
a forced tool call, or only a prompt asking for JSON) and keeps to it for the rest of the
run. The openai package's own retries are off so every attempt is counted here.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import openai

from ..protocols import ModelAccessError, PlannerError
from ..tokens import count_tokens
from ..types import Usage
from .adapters import ADAPTERS, ModelReply, ModelRequest, OutputMode, Turn
from .config import ModelConfig
from .pricing import cost

log = logging.getLogger(__name__)

T = TypeVar("T")

# A 400 with these words is about the output format we asked for, not the prompt.
_REFUSAL_WORDS: dict[OutputMode, tuple[str, ...]] = {
    "json_schema": ("response_format", "json_schema", "structured output", "response format", "strict",
                    "text.format", "schema"),
    "tools": ("tool", "function"),
    "json": (),
}


class ModelReplyError(PlannerError):
    """A PlannerError that still carries what the failed attempt cost and said."""

    def __init__(self, message: str, *, usage: Usage, model_output: str = "") -> None:
        super().__init__(message)
        self.usage = usage
        self.model_output = model_output


class RequestRejected(ModelReplyError):
    """The server answered 400/422: something in the request itself (maybe the output format)."""

    def __init__(self, message: str, *, usage: Usage, status: int, detail: str) -> None:
        super().__init__(message, usage=usage)
        self.status = status
        self.detail = detail


def _one_line(error: Exception, limit: int = 300) -> str:
    return " ".join(str(error).split())[:limit]


def retry_after(error: Exception) -> float | None:
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


def _texts(value: Any) -> list[str]:
    """The "text" strings inside request input items (screenshots are not counted as text)."""
    if isinstance(value, dict):
        found = [value["text"]] if isinstance(value.get("text"), str) else []
        return found + [t for v in value.values() if isinstance(v, (dict, list)) for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


class ModelClient:
    """One model endpoint: requests with retry, usage and pricing; the output mode it accepts."""

    def __init__(self, config: ModelConfig, *, client: openai.AsyncOpenAI | None = None,
                 timeout: float | None = None, max_attempts: int | None = None,
                 backoff_base: float = 0.5, backoff_max: float = 20.0, retry_after_cap: float = 60.0) -> None:
        self.config = config
        self.timeout = config.timeout if timeout is None else timeout
        self.max_attempts = max(1, config.max_attempts if max_attempts is None else max_attempts)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_cap = retry_after_cap  # a server asking for more still gets retried, sooner
        self.adapter = ADAPTERS[config.api]
        self._client = client or openai.AsyncOpenAI(
            base_url=config.base_url, api_key=config.api_key, max_retries=0, timeout=self.timeout)
        # The output mode to ask in; it moves to "json" for good when the server refuses it.
        self.output: OutputMode = "json_schema" if config.output == "auto" else config.output
        self.refused: set[OutputMode] = set()  # modes this server refused
        self.confirmed = False  # a structured mode has worked once: later 400s are not about it

    async def aclose(self) -> None:
        await self._client.close()

    # --- structured output, negotiated once ----------------------------------------------

    async def ask(self, *, system: Callable[[bool], str], turns: Sequence[Turn], schema_name: str,
                  function: str, schema: dict[str, Any], usage: Usage) -> ModelReply:
        """One reply in the best output mode the server accepts; a mode it refuses is dropped
        for plain JSON, for the rest of the run. system(structured) is the system text: the
        JSON shape is spelled out in it when the server enforces none."""
        while True:
            mode = self.output
            request = ModelRequest(system=system(mode != "json"), turns=tuple(turns), output=mode,
                                   schema_name=schema_name, function=function, schema=schema)
            try:
                reply = await self.complete(request, usage)
            except RequestRejected as e:
                if mode == "json" or not self._blames(mode, e):
                    raise
                log.info("%s refused %s output, falling back to plain JSON: %s",
                         self.config.base_url or "the server", mode, e.detail)
                self.refused.add(mode)
                self.output = "json"
                usage.retries += 1
                continue
            self.confirmed = self.confirmed or mode != "json"
            return reply

    def _blames(self, mode: OutputMode, error: RequestRejected) -> bool:
        about = any(w in error.detail.lower() for w in _REFUSAL_WORDS[mode])
        # Before a structured mode ever worked, any 400 is blamed on it: local servers word
        # this error in many ways. Afterwards only a clear one is.
        return about or (not self.confirmed and error.status == 400)

    # --- one request ---------------------------------------------------------------------

    async def complete(self, request: ModelRequest, usage: Usage) -> ModelReply:
        """One request, retried on transient failures; tokens counted into `usage` (estimated
        when the server reports none). Raises ModelAccessError (401/403/404: the run cannot go
        on), RequestRejected (400/422) or ModelReplyError, each carrying the usage so far."""
        reply = await self._retrying(
            lambda: self.adapter.create(self._client, self.config.model, request), usage)
        self._count(request, reply, usage)
        return reply

    async def respond(self, arguments: dict[str, Any], usage: Usage) -> Any:
        """One raw Responses API request (e.g. with the computer-use tool, which the adapters'
        ModelRequest cannot say), with the same retries, errors and token counting as
        complete(). `model` is added here; the openai Response object is returned."""
        response = await self._retrying(
            lambda: self._client.responses.create(model=self.config.model, **arguments), usage)
        reported = getattr(response, "usage", None)
        input_tokens = getattr(reported, "input_tokens", None)
        output_tokens = getattr(reported, "output_tokens", None)
        if input_tokens is None or output_tokens is None:  # a server that omits usage: our count
            usage.estimated = True
            if input_tokens is None:
                sent = [str(arguments.get("instructions") or ""), *_texts(arguments.get("input"))]
                input_tokens = count_tokens("\n".join(sent))[0]
            if output_tokens is None:
                output_tokens = count_tokens(str(getattr(response, "output_text", "") or ""))[0]
        usage.input_tokens += input_tokens
        usage.output_tokens += output_tokens
        return response

    async def _retrying(self, call: Callable[[], Awaitable[T]], usage: Usage) -> T:
        """call() retried on transient failures, every attempt counted in `usage`."""
        for attempt in range(1, self.max_attempts + 1):
            usage.calls += 1
            try:
                return await call()
            except openai.APIStatusError as e:
                error = self._status_error(e, usage)
                if error is not None:
                    raise error from None
                failure: Exception = e
            except openai.APIConnectionError as e:  # includes APITimeoutError
                failure = e
            except openai.OpenAIError as e:  # a 200 whose body is no reply at all
                raise ModelReplyError(f"model server sent an unusable reply: {_one_line(e)}",
                                      usage=self.priced(usage)) from None
            if attempt == self.max_attempts:
                raise ModelReplyError(f"model server kept failing after {self.max_attempts} attempts: "
                                      f"{self._describe(failure)}", usage=self.priced(usage)) from None
            usage.retries += 1
            delay = self.delay(attempt, failure)
            log.info("model call failed (%s), retry %d in %.2fs", self._describe(failure), attempt, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _status_error(self, e: openai.APIStatusError, usage: Usage) -> Exception | None:
        """The error to raise for this HTTP status, or None when it is worth retrying."""
        if isinstance(e, (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)):
            return self._access_error(e, usage)
        if isinstance(e, openai.RateLimitError):
            if e.code == "insufficient_quota":  # waiting will not bring money back
                return ModelReplyError(f"model account is out of quota: {_one_line(e)}",
                                       usage=self.priced(usage))
            return None
        if isinstance(e, (openai.BadRequestError, openai.UnprocessableEntityError)):
            return RequestRejected(f"model server rejected the request: {_one_line(e)}",
                                   usage=self.priced(usage), status=e.status_code, detail=_one_line(e))
        if e.status_code >= 500:
            return None
        return ModelReplyError(f"model server refused the request: {_one_line(e)}", usage=self.priced(usage))

    def _access_error(self, e: openai.APIStatusError, usage: Usage) -> ModelAccessError:
        # Never quote the server's message here: a 401's names part of the key.
        model, where = self.config.model, self.config.base_url or "OpenAI"
        if isinstance(e, openai.AuthenticationError):
            text = "the model server refused the API key (401): set OPENAI_API_KEY or --api-key"
        elif isinstance(e, openai.PermissionDeniedError):
            text = (f"the API key has no access to model {model!r} (403): use a key that has, "
                    "or another model (OPERATOR_MODEL or --model)")
        elif self.config.api == "responses" and "model" not in str(e).lower():
            text = (f"{where} has no Responses API (404): set OPERATOR_MODEL_API=chat, "
                    "or check OPENAI_BASE_URL/--base-url")
        else:
            text = (f"model {model!r} was not found at {where} (404): check OPERATOR_MODEL/--model "
                    "and OPENAI_BASE_URL/--base-url")
        error = ModelAccessError(text)
        error.usage = self.priced(usage)  # type: ignore[attr-defined]  # the loop counts it
        return error

    def _describe(self, error: Exception) -> str:
        if isinstance(error, openai.APITimeoutError):
            return f"no answer within {self.timeout:g}s (OPERATOR_MODEL_TIMEOUT)"
        return _one_line(error)

    def delay(self, attempt: int, error: Exception) -> float:
        asked = retry_after(error)
        if asked is not None:
            return min(asked, self.retry_after_cap)
        # Exponential backoff with jitter, so many agents do not retry in lockstep.
        return min(self.backoff_base * 2 ** (attempt - 1), self.backoff_max) * random.uniform(0.5, 1.0)

    # --- usage ---------------------------------------------------------------------------

    @staticmethod
    def _count(request: ModelRequest, reply: ModelReply, usage: Usage) -> None:
        if reply.input_tokens is not None and reply.output_tokens is not None:
            usage.input_tokens += reply.input_tokens
            usage.output_tokens += reply.output_tokens
            return
        # Some local servers omit usage: count it ourselves, and say it is a count of ours.
        sent = "\n".join([request.system, *(t.text for t in request.turns)])
        usage.input_tokens += reply.input_tokens if reply.input_tokens is not None else count_tokens(sent)[0]
        usage.output_tokens += (reply.output_tokens if reply.output_tokens is not None
                                else count_tokens(reply.text)[0])
        usage.estimated = True

    def priced(self, usage: Usage) -> Usage:
        usage.cost_usd = cost(self.config.model, usage.input_tokens, usage.output_tokens)
        return usage
