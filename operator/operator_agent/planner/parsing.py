"""A model's reply text -> a validated pydantic model, tolerant of how real servers answer.

Replies come wrapped in reasoning blocks (<think>...</think>, which may hold braces),
```json fences and prose; strict-mode replies carry null for every optional field; small
models add keys of their own, send a number as "3", one action where a list was asked for,
or a tool call written into the text. All of that is undone here before pydantic
validates, against the model's own (non-strict) schema; what is still wrong is left for
pydantic to explain, and the planner shows that explanation to the model once.

Raises only ValueError (pydantic's ValidationError is one).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .schema import PAIR_KEYS, Schema, is_nullable

M = TypeVar("M", bound=BaseModel)

_REASONING_TAGS = "think|thinking|reasoning|reflection"
_OPEN = re.compile(rf"<({_REASONING_TAGS})>", re.IGNORECASE)
_CLOSE = re.compile(rf"</(?:{_REASONING_TAGS})>", re.IGNORECASE)
_FINAL_CHANNEL = "<|channel|>final<|message|>"  # gpt-oss "harmony" text a server left unparsed
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_TOOL_CALL_TAG = re.compile(r"</?tool_call>", re.IGNORECASE)
_MAX_STARTS = 32  # '{' positions tried when prose surrounds the object
_MAX_CANDIDATES = 8  # objects tried against the model, likeliest first


def strip_reasoning(text: str) -> str:
    """The reply without its reasoning blocks, wherever they sit and whatever they hold.

    One pass, so a reply full of unclosed tags costs no more than its length."""
    if _FINAL_CHANNEL in text:
        text = text.rsplit(_FINAL_CHANNEL, 1)[1]
    lower = text.lower()
    pos = 0
    opened, closed = _OPEN.search(text), _CLOSE.search(text)
    if closed and (opened is None or closed.start() < opened.start()):
        pos = closed.end()  # served without its opening tag (the chat template adds it)
    kept: list[str] = []
    while (opened := _OPEN.search(text, pos)) is not None:
        kept.append(text[pos:opened.start()])
        closer = f"</{opened.group(1).lower()}>"
        end = lower.find(closer, opened.end())
        if end == -1:
            return " ".join(kept)  # cut off mid-thought: nothing after it is the answer
        pos = end + len(closer)
    kept.append(text[pos:])
    return " ".join(kept)


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:  # nested past Python's limit: a broken reply, never our crash
        raise ValueError("the JSON is nested too deeply") from None


def _whole(text: str) -> dict[str, Any] | None:
    """`text` as one JSON object, or None."""
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        value = _decode(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _objects_in(text: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Each {...} in `text` that decodes, in order, ignoring what follows it."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    for _ in range(_MAX_STARTS):
        if start == -1:
            return
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            value, end = None, start
        if isinstance(value, dict):
            yield value, text[start:end]
            start = text.find("{", end)
        else:
            start = text.find("{", start + 1)


def find_objects(text: str) -> Iterator[tuple[dict[str, Any], str]]:
    """The JSON objects a reply may mean, most likely first, each with the text it was read from.

    In order: the whole reply (tags inside its strings and all); then, with reasoning blocks
    and <tool_call> tags removed, a ```json fence, the whole rest, the objects in prose; last,
    the objects anywhere (an answer written inside the reasoning block)."""
    raw = text.strip().lstrip("\ufeff").strip()
    value = _whole(raw)
    if value is not None:
        yield value, raw
        return
    cleaned = _TOOL_CALL_TAG.sub(" ", strip_reasoning(raw)).strip()
    fence = _FENCE.search(cleaned)
    if fence:
        yield from _objects_in(fence.group(1))
    value = _whole(cleaned)
    if value is not None:
        yield value, cleaned
    yield from _objects_in(cleaned)
    yield from _objects_in(raw)


def find_object(text: str) -> tuple[dict[str, Any], str]:
    """The likeliest JSON object of a reply and its text; ValueError when there is none."""
    for found in find_objects(text):
        return found
    raw = text.strip()
    if raw.startswith("{") and raw.endswith("}"):
        _decode(raw)  # says why it is not JSON (a ValueError)
    raise ValueError("the reply holds no JSON object")


def extract_json(text: str) -> str:
    """The JSON part of a reply: the whole text, a ```json fence, or the first object in prose
    (reasoning blocks dropped); the text itself when no object decodes."""
    try:
        return find_object(text)[1]
    except ValueError:
        stripped = text.strip()
        start, end = stripped.find("{"), stripped.rfind("}")
        return stripped[start:end + 1] if start != -1 and end > start else stripped


def parse_reply(model: type[M], text: str) -> M:
    """`text` as a `model`, tolerantly (see the module's doc); ValueError when it is not one.

    The first object that validates wins (prose may quote another object before the answer);
    when none does, the likeliest one's error says why."""
    error: ValueError | None = None
    for value, _ in itertools.islice(find_objects(text), _MAX_CANDIDATES):
        try:
            return _validate(model, value)
        except ValueError as e:
            error = error or e
    if error is not None:
        raise error
    find_object(text)  # raises: there is no object, and why
    raise AssertionError("unreachable")


def _validate(model: type[M], value: dict[str, Any]) -> M:
    schema = _schema(model)
    try:
        value = _unwrap_call(value, schema)
        value = lenient(value, schema, schema.get("$defs", {}))
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    return model.model_validate(value)


@cache
def _schema(model: type[BaseModel]) -> Schema:
    return model.model_json_schema()


def _unwrap_call(value: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """{"name": "decide", "arguments": {...}}: a tool call written as text (Hermes-style)."""
    properties = schema.get("properties", {})
    if set(value) <= {"name", "arguments", "parameters", "type", "id"} and not set(value) & set(properties):
        inner = value.get("arguments", value.get("parameters"))
        if isinstance(inner, str):
            inner = _decode(inner)
        if isinstance(inner, dict):
            return inner
    return value


def lenient(value: Any, schema: Schema, defs: dict[str, Schema]) -> Any:
    """`value` made to fit `schema` where the intent is plain: unknown keys dropped (where the
    schema forbids extras), null for a field with a default dropped (so the default applies),
    name/value pairs turned back into a map, a lone object put in the list it belongs to."""
    schema = _resolve(schema, defs)
    union = schema.get("oneOf") or schema.get("anyOf")
    if union:
        branch = _pick(value, schema, union, defs)
        return value if branch is None else lenient(value, branch, defs)
    kind = schema.get("type")
    if kind == "array" and isinstance(value, dict):
        value = [value]
    if isinstance(value, list) and kind == "array" and isinstance(schema.get("items"), dict):
        return [lenient(item, schema["items"], defs) for item in value]
    if kind == "object" and isinstance(value, (dict, list)):
        return _object(value, schema, defs)
    return value


def _object(value: dict[str, Any] | list[Any], schema: Schema, defs: dict[str, Schema]) -> Any:
    properties: dict[str, Schema] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    if not properties:  # a map: possibly sent as strict mode's name/value pairs
        if isinstance(value, list) and all(isinstance(p, dict) and set(p) == set(PAIR_KEYS) for p in value):
            value = {str(p["name"]): p["value"] for p in value}
        if isinstance(value, dict) and isinstance(extra, dict):
            return {k: lenient(v, extra, defs) for k, v in value.items()}
        return value
    if not isinstance(value, dict):
        return value
    required = set(schema.get("required", ()))
    out: dict[str, Any] = {}
    for key, item in value.items():
        prop = properties.get(key)
        if prop is None:
            if extra is False:
                continue  # a key of the model's own: ignored rather than failing the reply
            out[key] = item
        elif item is None and key not in required and not is_nullable(_resolve(prop, defs)):
            continue  # strict mode's null for "not given": the default applies
        else:
            out[key] = lenient(item, prop, defs)
    return out


def _pick(value: Any, schema: Schema, union: list[Schema], defs: dict[str, Schema]) -> Schema | None:
    """The branch of a union that `value` is meant for: by the discriminator, else by JSON kind."""
    if value is None:
        return None
    discriminator = schema.get("discriminator")
    if isinstance(discriminator, dict) and isinstance(value, dict):
        tag = value.get(discriminator.get("propertyName", ""))
        ref = discriminator.get("mapping", {}).get(tag) if isinstance(tag, str) else None
        return {"$ref": ref} if ref else None
    wanted = {dict: "object", list: "array"}.get(type(value))
    if wanted is None:
        return None  # scalars: pydantic's own lax mode coerces "3" to 3
    for branch in union:
        resolved = _resolve(branch, defs)
        if resolved.get("type") == wanted or (wanted == "object" and "properties" in resolved):
            return resolved
    return None


def _resolve(schema: Schema, defs: dict[str, Schema]) -> Schema:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return defs.get(ref.removeprefix("#/$defs/"), schema)
    return schema


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
