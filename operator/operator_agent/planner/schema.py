"""A pydantic model's JSON schema rewritten so OpenAI's strict structured outputs accept it.

Strict mode (json_schema or a function with strict: true) compiles the schema into a
grammar and accepts only a subset of JSON Schema: every object closed
(additionalProperties: false) with every property required, optional ones spelled as
nullable; anyOf but no oneOf/allOf/not/if; no default; and no free-form objects. We keep
to the subset every model accepts (fine-tuned ones too, which also refuse length, pattern,
format and number bounds) and move those bounds into the description, where the model
still reads them; pydantic checks them on the way back in (parsing.py), where a null
sent for an optional field becomes its default again.

The rewrite works on the schema, never on types.py, so the models stay what the rest of
the program validates against.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from pydantic import BaseModel

Schema = dict[str, Any]

# The only keywords a strict schema node may use (the test walks the schema against it).
STRICT_KEYWORDS = frozenset({
    "type", "properties", "required", "additionalProperties", "items", "anyOf", "enum",
    "description", "$defs", "$ref",
})

# A free-form map (dict[str, X]) becomes a list of these pairs; parsing turns it back.
PAIR_KEYS = ("name", "value")

# Bounds strict mode may refuse, said in words instead: (low, high, unit).
_RANGES = (("minimum", "maximum", ""), ("minLength", "maxLength", " characters"),
           ("minItems", "maxItems", " items"))
_OTHER_BOUNDS = {"exclusiveMinimum": "more than {}", "exclusiveMaximum": "less than {}",
                 "multipleOf": "a multiple of {}", "pattern": "matching {}", "format": "in {} format"}


def _bounds(source: Schema) -> list[str]:
    """A node's bounds in words: "1 to 8 items", "at most 10", "matching "^a""."""
    notes = []
    for low_key, high_key, unit in _RANGES:
        low, high = source.get(low_key), source.get(high_key)
        if low is not None and high is not None:
            notes.append(f"{low} to {high}{unit}")
        elif low is not None:
            notes.append(f"at least {low}{unit}")
        elif high is not None:
            notes.append(f"at most {high}{unit}")
    for key, words in _OTHER_BOUNDS.items():
        if key in source:
            notes.append(words.format(json.dumps(source[key]) if key == "pattern" else source[key]))
    return notes


@cache
def _strict_model_schema(model: type[BaseModel]) -> str:
    return json.dumps(strict_schema(model.model_json_schema()))


def strict_model_schema(model: type[BaseModel]) -> Schema:
    """The strict schema of `model` (computed once, a fresh copy each time)."""
    return json.loads(_strict_model_schema(model))  # type: ignore[no-any-return]


def strict_schema(schema: Schema) -> Schema:
    """`schema` (as pydantic writes it) rewritten to pass OpenAI's strict-mode rules."""
    defs: dict[str, Schema] = schema.get("$defs", {})
    root = _Rewriter(defs).node(schema)
    if root.get("type") != "object" or "anyOf" in root:
        raise ValueError("a strict schema's root must be an object, not a union")
    if defs:
        root["$defs"] = {name: _Rewriter(defs).node(d) for name, d in defs.items()}
    return root


def is_nullable(schema: Schema) -> bool:
    """Whether a (non-strict) schema node already allows null."""
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(is_nullable(branch) for branch in schema.get("anyOf", schema.get("oneOf", ())))


class _Rewriter:
    def __init__(self, defs: dict[str, Schema]) -> None:
        self.defs = defs

    def node(self, source: Schema) -> Schema:
        source = self._unwrap(source)
        if "$ref" in source:
            return {"$ref": source["$ref"]}
        out: Schema = {}
        for key, value in source.items():
            if key in ("oneOf", "anyOf"):  # a discriminator's mapping has no strict form: anyOf says it
                out["anyOf"] = [self.node(branch) for branch in value]
            elif key == "const":  # enum is the spelling every grammar compiler knows
                out["enum"] = [value]
            elif key in ("type", "enum", "description"):
                out[key] = copy.deepcopy(value)
            elif key == "items" and isinstance(value, dict):
                out["items"] = self.node(value)
        if source.get("type") == "object" or "properties" in source:
            out.update(self._object(source))
        notes = _bounds(source)
        if notes:
            text = out.get("description", "").rstrip()
            out["description"] = f"{text} ({', '.join(notes)})".strip()
        return out

    def _object(self, source: Schema) -> Schema:
        properties: dict[str, Schema] = source.get("properties", {})
        if not properties:
            return self._pairs(source)
        required = set(source.get("required", ()))
        strict: dict[str, Schema] = {}
        for name, prop in properties.items():
            node = self.node(prop)
            prop = self._unwrap(prop)
            # A const (a union's tag) is always sent: there is no other value it could take.
            if name not in required and "const" not in prop and not is_nullable(prop):
                node = _nullable(node)
            strict[name] = node
        return {"type": "object", "properties": strict, "required": list(strict),
                "additionalProperties": False}

    def _pairs(self, source: Schema) -> Schema:
        """dict[str, X] as [{"name": str, "value": X}]: strict mode has no open objects."""
        values = source.get("additionalProperties")
        value = self.node(values) if isinstance(values, dict) else {"type": "string"}
        pair = {"type": "object", "properties": {"name": {"type": "string"}, "value": value},
                "required": list(PAIR_KEYS), "additionalProperties": False}
        out: Schema = {"type": "array", "items": pair}
        if "description" in source:
            out["description"] = source["description"]
        return out

    def _unwrap(self, source: Schema) -> Schema:
        """A $ref with siblings, or allOf of one schema, inlined (strict mode allows neither)."""
        if "allOf" in source and len(source["allOf"]) == 1:
            rest = {k: v for k, v in source.items() if k != "allOf"}
            return self._unwrap({**source["allOf"][0], **rest})
        ref = source.get("$ref")
        if ref is not None and len(source) > 1:
            rest = {k: v for k, v in source.items() if k != "$ref"}
            return {**self.defs[ref.rsplit("/", 1)[-1]], **rest}
        return source


def _nullable(node: Schema) -> Schema:
    kind = node.get("type")
    if isinstance(kind, str) and "enum" not in node and kind not in ("object", "array"):
        return {**node, "type": [kind, "null"]}
    outer: Schema = {"anyOf": [{k: v for k, v in node.items() if k != "description"}, {"type": "null"}]}
    if "description" in node:
        outer["description"] = node["description"]
    return outer
