"""The schemas we send with strict: true pass OpenAI's strict-mode rules, and what a
strict-mode model sends back (nulls, name/value pairs) parses to the same objects."""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from operator_agent.actions import decision_model, performed_in
from operator_agent.planner.messages import action_types
from operator_agent.planner.parsing import parse_reply
from operator_agent.planner.schema import STRICT_KEYWORDS, strict_model_schema, strict_schema
from operator_agent.preferences.model_parser import Drafts
from operator_agent.types import Decision, Verification

# Rules from OpenAI's "Supported schemas" for Structured Outputs, the strictest reading
# (fine-tuned models refuse the string, number and array bounds too).
FORBIDDEN = {"oneOf", "allOf", "not", "if", "then", "else", "dependentRequired", "dependentSchemas",
             "discriminator", "default", "const", "title", "examples", "format", "pattern", "minLength",
             "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
             "minItems", "maxItems", "uniqueItems", "contains", "minContains", "maxContains",
             "patternProperties", "propertyNames", "minProperties", "maxProperties",
             "unevaluatedProperties", "unevaluatedItems", "prefixItems"}
MAX_DEPTH = 10  # nested object levels
MAX_PROPERTIES = 5000
MAX_ENUM_VALUES = 1000


def walk(node: dict[str, Any], defs: dict[str, Any], path: str, depth: int, seen: list[str]) -> int:
    """Check one schema node and everything under it; returns how many properties it holds."""
    assert isinstance(node, dict), path
    keywords = set(node) - ({"$defs"} if path == "$" else set())
    assert keywords <= STRICT_KEYWORDS, f"{path}: unsupported keywords {keywords - STRICT_KEYWORDS}"
    assert not keywords & FORBIDDEN, path
    if "$ref" in node:
        assert set(node) == {"$ref"}, f"{path}: a $ref takes no sibling keywords"
        name = node["$ref"].removeprefix("#/$defs/")
        assert node["$ref"].startswith("#/$defs/") and name in defs, f"{path}: dangling {node['$ref']}"
        seen.append(name)
        return 0
    kinds = node.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds or []
    assert set(kinds) <= {"string", "number", "integer", "boolean", "object", "array", "null"}, path
    assert kinds or "anyOf" in node or "enum" in node, f"{path}: says nothing of its type"
    count = 0
    if "object" in kinds or "properties" in node:
        assert depth < MAX_DEPTH, f"{path}: nested deeper than {MAX_DEPTH}"
        assert node.get("additionalProperties") is False, f"{path}: object not closed"
        properties = node.get("properties")
        assert isinstance(properties, dict) and properties, f"{path}: an object without properties"
        assert node.get("required") == list(properties), f"{path}: not every property is required"
        for name, prop in properties.items():
            count += 1 + walk(prop, defs, f"{path}.{name}", depth + 1, seen)
    if "array" in kinds:
        assert isinstance(node.get("items"), dict), f"{path}: an array without items"
        count += walk(node["items"], defs, f"{path}[]", depth, seen)
    for i, branch in enumerate(node.get("anyOf", ())):
        count += walk(branch, defs, f"{path}|{i}", depth, seen)
    if "enum" in node:
        assert node["enum"] and all(isinstance(v, (str, int, float, bool)) or v is None for v in node["enum"])
    return count


@pytest.mark.parametrize("model", [Decision, decision_model(performed_in("desktop")), Verification, Drafts],
                         ids=["Decision", "Decision-desktop", "Verification", "Drafts"])
def test_the_strict_schema_passes_every_strict_mode_rule(model: type[BaseModel]) -> None:
    schema = strict_model_schema(model)
    assert schema.get("type") == "object" and "anyOf" not in schema  # the root is an object
    defs = schema.get("$defs", {})
    seen: list[str] = []
    properties = walk(schema, defs, "$", 0, seen)
    for name, definition in defs.items():
        properties += walk(definition, defs, f"$defs.{name}", 1, seen)
    assert properties <= MAX_PROPERTIES
    assert set(defs) == set(seen)  # no definition sent for nothing
    enums = sum(len(n["enum"]) for n in _nodes(schema) if "enum" in n)
    assert enums <= MAX_ENUM_VALUES


def test_the_rewrite_keeps_what_the_model_needs_to_know() -> None:
    schema = strict_model_schema(Decision)
    actions = schema["properties"]["actions"]
    assert len(actions["items"]["anyOf"]) == len(action_types())  # oneOf + discriminator -> anyOf
    assert "1 to 8 items" in actions["description"]  # bounds said in words
    click = schema["$defs"]["Click"]
    assert click["properties"]["action"] == {"enum": ["click"], "type": "string"}  # the tag: never null
    assert {"type": "null"} in click["properties"]["button"]["anyOf"]  # had a default: nullable now
    assert click["properties"]["index"] == {"type": "integer"}  # was required: stays as it was
    assert "0 to 10" in schema["$defs"]["Wait"]["properties"]["seconds"]["description"]
    pairs = schema["$defs"]["UseSkill"]["properties"]["parameters"]["anyOf"][0]
    assert pairs["type"] == "array" and pairs["items"]["required"] == ["name", "value"]
    assert Decision.model_json_schema()["$defs"]["Click"]["required"] == ["index"]  # types.py untouched


def test_refs_with_siblings_and_single_allof_are_inlined() -> None:
    source = {"type": "object", "properties": {
        "a": {"$ref": "#/$defs/Point", "description": "where"},
        "b": {"allOf": [{"$ref": "#/$defs/Point"}], "default": None},
        "tags": {"type": "object"}},
        "required": ["a"],
        "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}}}
    schema = strict_schema(source)
    assert schema["properties"]["a"]["description"] == "where" and "$ref" not in schema["properties"]["a"]
    walk(schema, schema["$defs"], "$", 0, [])
    with pytest.raises(ValueError, match="root"):
        strict_schema({"anyOf": [{"type": "string"}, {"type": "null"}]})


def _strict_instance(model: type[BaseModel]) -> dict[str, Any]:
    """An action as a strict-mode model sends it: every field there, null where it may be."""
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name == "action":
            out[name] = field.default
        elif field.is_required():
            args = typing.get_args(field.annotation)
            kind = args[0] if args else field.annotation
            out[name] = {int: 2, str: "x", float: 1.5}.get(kind, "x")  # type: ignore[arg-type]
        else:
            out[name] = None
    return out


@pytest.mark.parametrize("first", [0, 8, 16])
def test_a_strict_mode_reply_with_every_null_parses_to_the_defaults(first: int) -> None:
    actions = [_strict_instance(t) for t in action_types()][first:first + 8]
    reply = {"reasoning": "r", "actions": actions, "preference_ids": None}
    decision = parse_reply(Decision, json.dumps(reply))
    for sent, parsed in zip(actions, decision.actions, strict=True):
        given = {k: v for k, v in sent.items() if v is not None}
        assert parsed == type(parsed).model_validate(given)  # the nulls became the defaults
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(reply, strict_model_schema(Decision))  # and the reply is what the schema allows


def _nodes(node: Any) -> typing.Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)
