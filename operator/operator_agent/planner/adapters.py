"""The two wire formats a model is asked in: Chat Completions and the Responses API.

An adapter only translates: our request (system text, turns, the output mode) into the
`openai` package's arguments, and its reply back into text (a tool call's arguments when
there is one, in any mode) and reported token counts. Retry, errors and accounting are
the client's (client.py), the same for both.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import openai

OutputMode = Literal["json_schema", "tools", "json"]


@dataclass(frozen=True, kw_only=True)
class Turn:
    """One message of the conversation (the system text travels separately)."""

    role: Literal["user", "assistant"]
    text: str
    image_png: bytes | None = None  # a screenshot, for vision models


@dataclass(frozen=True, kw_only=True)
class ModelRequest:
    system: str
    turns: tuple[Turn, ...]
    output: OutputMode = "json"  # json: the prompt alone asks for JSON
    schema_name: str = "reply"  # the json_schema's name
    function: str = "reply"  # the tool's name in tools mode
    schema: dict[str, Any] | None = field(default=None, repr=False)  # a strict schema (schema.py)


@dataclass(frozen=True, kw_only=True)
class ModelReply:
    text: str  # the message text, or a tool call's JSON arguments
    tool_call: bool = False
    input_tokens: int | None = None  # None: the server did not say
    output_tokens: int | None = None


class Adapter(Protocol):
    name: str

    async def create(self, client: openai.AsyncOpenAI, model: str, request: ModelRequest) -> ModelReply: ...


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _schema_format(request: ModelRequest) -> dict[str, Any]:
    return {"name": request.schema_name, "schema": request.schema, "strict": True}


def _function(request: ModelRequest) -> dict[str, Any]:
    return {"name": request.function, "description": f"Give your {request.schema_name}.",
            "parameters": request.schema, "strict": True}


def _tokens(usage: Any, input_name: str, output_name: str) -> dict[str, int | None]:
    if usage is None:
        return {}
    return {"input_tokens": getattr(usage, input_name, None),
            "output_tokens": getattr(usage, output_name, None)}


def _arguments(value: Any) -> str:
    # Arguments are a JSON string by the spec; a server that sends an object gets it back as one.
    return value if isinstance(value, str) else json.dumps(value)


class ChatAdapter:
    """POST /v1/chat/completions: what every OpenAI-compatible server speaks."""

    name = "chat"

    async def create(self, client: openai.AsyncOpenAI, model: str, request: ModelRequest) -> ModelReply:
        response = await client.chat.completions.create(**self.arguments(model, request))
        return self.reply(response)

    @staticmethod
    def arguments(model: str, request: ModelRequest) -> dict[str, Any]:
        messages: list[dict[str, Any]] = [{"role": "system", "content": request.system}]
        for turn in request.turns:
            content: Any = turn.text
            if turn.image_png is not None:
                content = [{"type": "text", "text": turn.text},
                           {"type": "image_url", "image_url": {"url": _data_url(turn.image_png)}}]
            messages.append({"role": turn.role, "content": content})
        kwargs: dict[str, Any] = {"model": model, "messages": messages}
        if request.output == "json_schema" and request.schema is not None:
            kwargs["response_format"] = {"type": "json_schema", "json_schema": _schema_format(request)}
        elif request.output == "tools" and request.schema is not None:
            kwargs["tools"] = [{"type": "function", "function": _function(request)}]
            kwargs["tool_choice"] = {"type": "function", "function": {"name": request.function}}
            # Strict schemas hold only for one call at a time (OpenAI's rule for strict tools).
            kwargs["parallel_tool_calls"] = False
        return kwargs

    @staticmethod
    def reply(response: Any) -> ModelReply:
        tokens = _tokens(getattr(response, "usage", None), "prompt_tokens", "completion_tokens")
        choices = getattr(response, "choices", None)
        message = getattr(choices[0], "message", None) if choices else None
        if message is None:
            return ModelReply(text="", **tokens)
        for call in getattr(message, "tool_calls", None) or ():
            function = getattr(call, "function", None)
            if function is not None and function.arguments:
                return ModelReply(text=_arguments(function.arguments), tool_call=True, **tokens)
        text = getattr(message, "content", None) or getattr(message, "refusal", None) or ""
        return ModelReply(text=text, **tokens)


class ResponsesAdapter:
    """POST /v1/responses: OpenAI's newer API (instructions + input items, output items)."""

    name = "responses"

    async def create(self, client: openai.AsyncOpenAI, model: str, request: ModelRequest) -> ModelReply:
        response = await client.responses.create(**self.arguments(model, request))
        return self.reply(response)

    @staticmethod
    def arguments(model: str, request: ModelRequest) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        for turn in request.turns:
            content: Any = turn.text
            if turn.image_png is not None and turn.role == "user":
                content = [{"type": "input_text", "text": turn.text},
                           {"type": "input_image", "image_url": _data_url(turn.image_png), "detail": "auto"}]
            items.append({"role": turn.role, "content": content})
        # store=False: page text and screenshots are not kept on the server for later turns;
        # every step is asked afresh anyway.
        kwargs: dict[str, Any] = {"model": model, "instructions": request.system, "input": items,
                                  "store": False}
        if request.output == "json_schema" and request.schema is not None:
            kwargs["text"] = {"format": {"type": "json_schema", **_schema_format(request)}}
        elif request.output == "tools" and request.schema is not None:
            kwargs["tools"] = [{"type": "function", **_function(request)}]
            kwargs["tool_choice"] = {"type": "function", "name": request.function}
            kwargs["parallel_tool_calls"] = False
        return kwargs

    @staticmethod
    def reply(response: Any) -> ModelReply:
        tokens = _tokens(getattr(response, "usage", None), "input_tokens", "output_tokens")
        texts: list[str] = []
        refusals: list[str] = []
        for item in getattr(response, "output", None) or ():
            kind = getattr(item, "type", None)
            if kind == "function_call" and getattr(item, "arguments", None):
                return ModelReply(text=_arguments(item.arguments), tool_call=True, **tokens)
            if kind == "message":
                for part in getattr(item, "content", None) or ():
                    if getattr(part, "type", None) == "output_text":
                        texts.append(part.text or "")
                    elif getattr(part, "type", None) == "refusal":
                        refusals.append(getattr(part, "refusal", "") or "")
        return ModelReply(text="".join(texts) or "".join(refusals), **tokens)


ADAPTERS: dict[str, Adapter] = {"chat": ChatAdapter(), "responses": ResponsesAdapter()}
