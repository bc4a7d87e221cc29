"""The tolerant reply parser, quirk by quirk, as local servers and small models answer."""

from __future__ import annotations

import json

import pytest
from planner_wire import CLICK, CLICKED

from operator_agent.planner.parsing import extract_json, parse_reply, strip_reasoning
from operator_agent.types import Click, Decision, Done, Verification

BODY = json.dumps(CLICK)


@pytest.mark.parametrize("reply", [
    BODY,
    f"<think>I need {{\"index\": 9}} here, or {{</think>\n{BODY}",  # braces inside the block
    f"{BODY}\n<think>done {{ }}</think>",  # the block after the answer
    f"<THINKING>x}}</THINKING>{BODY}",
    f"<reasoning>first {{a}}</reasoning>\n```json\n{BODY}\n```",
    f"Let me look {{at}} the page.\n</think>\n{BODY}",  # only the closing tag (the template opened it)
    f"<|channel|>analysis<|message|>{{maybe}}<|end|><|start|>assistant<|channel|>final<|message|>{BODY}",
    f"Sure! Here it is:\n```JSON\n{BODY}\n```\nGood luck {{!}}",
    f"My decision: {BODY} -- and that is {{all}}.",
    f"<tool_call>\n{json.dumps({'name': 'decide', 'arguments': CLICK})}\n</tool_call>",  # Hermes-style
    json.dumps({"name": "decide", "arguments": BODY}),  # ...with its arguments as a string
    "\ufeff" + BODY,
    f'The page lists {{"price": 3}} first. {BODY}',  # another object quoted before the answer
], ids=["bare", "think-braces", "think-after", "thinking-caps", "reasoning-fence", "closing-only", "harmony",
        "prose-fence", "prose", "tool-call-text", "tool-call-string", "bom", "quoted-object"])
def test_the_decision_is_found_however_it_is_wrapped(reply: str) -> None:
    assert parse_reply(Decision, reply).actions == CLICKED


def test_tags_inside_a_json_string_are_left_alone() -> None:
    said = {"reasoning": "The page literally says <think>{x}</think>.", "actions": [{"action": "done",
                                                                                      "answer": "</think>"}]}
    decision = parse_reply(Decision, json.dumps(said))
    assert decision.reasoning == said["reasoning"] and decision.actions == [Done(answer="</think>")]


def test_an_answer_written_only_inside_the_reasoning_block_is_still_found() -> None:
    assert parse_reply(Decision, f"<think>{BODY}</think>").actions == CLICKED


def test_unknown_keys_are_dropped_at_every_level_but_mistakes_still_fail() -> None:
    reply = {"reasoning": "r", "mood": "good", "actions": [
        {"action": "click", "index": 1, "target": {"name": "Search"}, "confidence": 0.8}]}
    assert parse_reply(Decision, json.dumps(reply)).actions == CLICKED
    with pytest.raises(ValueError, match="actions"):
        parse_reply(Decision, json.dumps({"reasoning": "r", "actions": [{"action": "clіck", "index": 1}]}))
    with pytest.raises(ValueError, match="index"):
        parse_reply(Decision, json.dumps({"reasoning": "r", "actions": [{"action": "click", "index": None}]}))


def test_obvious_types_are_coerced() -> None:
    # One action where a list was asked for, numbers and booleans as strings.
    reply = {"reasoning": "r", "actions": {"action": "click", "index": "3", "double": "true"}}
    assert parse_reply(Decision, json.dumps(reply)).actions == [Click(index=3, double=True)]
    assert parse_reply(Verification, '{"ok": "false", "reason": "no"}') == Verification(ok=False, reason="no")


@pytest.mark.parametrize("reply", [
    "no json here", "", "<think>{still thinking", "[" * 5000 + "]" * 5000, "{" * 5000,
    '{"reasoning": "x", "actions": [' + '{"a": ' * 3000 + "1" + "}" * 3000 + "]}",
    '{"reasoning": "x", "actions": [{"action": "click", "index": 1' + "0" * 5000 + "}]}",
])
def test_hopeless_replies_raise_value_error_only(reply: str) -> None:
    with pytest.raises(ValueError):
        parse_reply(Decision, reply)


def test_strip_reasoning_and_extract_json() -> None:
    assert strip_reasoning("<think>{a}</think>answer").strip() == "answer"
    assert strip_reasoning("answer <think>cut off {").strip() == "answer"
    assert json.loads(extract_json(f"<think>{{</think> I will click. {BODY} ok")) == CLICK
    assert extract_json("no json here") == "no json here"
