"""How the planner asks for a decision and reads it, as real servers answer: strict
json_schema accepted or refused, tools, tool calls in any mode, reasoning blocks, extra
keys. Every test runs over Chat Completions and over the Responses API (conftest.api)."""

from __future__ import annotations

import json

import pytest
from planner_wire import CLICK, CLICKED, OBS, PlannerFactory, forced, json_schema, system, tool, turns

from operator_agent.actions import decision_model, performed_in
from operator_agent.planner.schema import strict_model_schema
from operator_agent.types import Click, Decision, Done, Scroll, UseSkill, Verification
from operator_bench.testing.fake_openai import FakeOpenAIServer, Fault, Reply


def path_for(api: str) -> str:
    return "/v1/responses" if api == "responses" else "/v1/chat/completions"


async def test_strict_json_schema_is_sent_and_accepted(
        api: str, server: FakeOpenAIServer, planner_for: PlannerFactory,
) -> None:
    server.push(CLICK, {"ok": True, "reason": "The order page shows it."})
    planner = planner_for(server)
    out = await planner.decide("find a cable", OBS, [])
    verification, _ = await planner.verify("find a cable", OBS, "found it")
    assert out.decision.actions == CLICKED and verification.ok
    assert server.paths == [path_for(api)] * 2
    decision, check = (json_schema(r) for r in server.requests)
    assert decision is not None and check is not None
    assert decision["strict"] is True and decision["schema"] == strict_model_schema(Decision)
    assert check["strict"] is True and check["schema"] == strict_model_schema(Verification)
    assert planner.output_mode == "json_schema" and planner.structured_outputs is True
    assert out.usage.calls == 1 and out.usage.retries == 0


async def test_the_schema_offers_only_what_the_environment_performs(
        api: str, server: FakeOpenAIServer, planner_for: PlannerFactory,
) -> None:
    """On the desktop (no address bar) the schema has no navigate: a strict server cannot
    produce one, and a server that ignores the schema gets the repair with the allowed ones."""
    desktop = OBS.model_copy(update={"url": "desktop://:99/Form", "actions": sorted(performed_in("desktop"))})
    navigate = {"reasoning": "go there", "actions": [{"action": "navigate", "url": "https://a.test/"}]}
    server.push(navigate, CLICK, CLICK)
    planner = planner_for(server)
    out = await planner.decide("t", desktop, [])
    assert out.decision.actions == CLICKED and out.usage.repairs == 1
    assert type(out.decision) is Decision  # the loop gets the one Decision type back
    sent = json.dumps(json_schema(server.requests[0]))
    assert '"click_at"' in sent and '"type_at"' in sent and '"done"' in sent and '"open_app"' in sent
    assert '"navigate"' not in sent and '"upload"' not in sent and '"close_tab"' not in sent
    assert "'navigate'" in turns(server.requests[1])[-1][1]  # the model is told what was wrong
    # In a browser every action but the desktop's own (open_app: it has no programs to start).
    await planner.decide("t", OBS.model_copy(update={"actions": sorted(performed_in("browser"))}), [])
    browser = json_schema(server.requests[2])["schema"]
    assert browser == strict_model_schema(decision_model(performed_in("browser")))
    assert '"open_app"' not in json.dumps(browser) and '"navigate"' in json.dumps(browser)


@pytest.mark.parametrize("quirk", [{"structured_outputs": False}, {"strict": False}],
                         ids=["no-json-schema", "no-strict"])
async def test_refused_structured_output_falls_back_to_plain_json_once(
        planner_for: PlannerFactory, quirk: dict[str, bool],
) -> None:
    with FakeOpenAIServer([CLICK, CLICK], **quirk) as server:
        planner = planner_for(server)
        first = await planner.decide("t", OBS, [])
        second = await planner.decide("t", OBS, [])
    assert first.decision.actions == second.decision.actions == CLICKED
    assert first.usage.retries == 1 and second.usage.retries == 0  # the refusal cost one request, once
    assert len(server.requests) == 3
    assert json_schema(server.requests[0]) is not None
    assert all(json_schema(r) is None and tool(r) is None for r in server.requests[1:])  # remembered
    assert '"actions"' in system(server.requests[1])  # the shape is spelled out instead
    assert planner.output_mode == "json" and planner.structured_outputs is False


async def test_tools_mode_asks_for_a_forced_strict_function_call(
        server: FakeOpenAIServer, planner_for: PlannerFactory,
) -> None:
    server.push(CLICK)  # the fake answers a forced function with a tool call, as vLLM does
    planner = planner_for(server, output="tools")
    out = await planner.decide("t", OBS, [])
    assert out.decision.actions == CLICKED and out.usage.repairs == 0
    [request] = server.requests
    offered = tool(request)
    assert offered is not None and offered["name"] == "decide" and offered["strict"] is True
    assert offered["parameters"] == strict_model_schema(Decision)
    assert forced(request) == "decide" and request["parallel_tool_calls"] is False
    assert json_schema(request) is None
    assert json.loads(out.model_output) == CLICK  # the call's arguments, for the trace
    assert planner.output_mode == "tools"


@pytest.mark.parametrize("output", ["auto", "json"])
async def test_a_tool_call_reply_is_accepted_in_any_mode(
        server: FakeOpenAIServer, planner_for: PlannerFactory, output: str,
) -> None:
    server.push(Reply(content=CLICK, tool_call=True))
    out = await planner_for(server, output=output).decide("t", OBS, [])
    assert out.decision.actions == CLICKED and out.usage.repairs == 0


async def test_a_server_that_ignores_tool_choice_and_writes_text_still_works(
        server: FakeOpenAIServer, planner_for: PlannerFactory,
) -> None:
    server.push(Reply(content=f"<think>Use {{decide}}.</think>\n{json.dumps(CLICK)}", tool_call=False))
    out = await planner_for(server, output="tools").decide("t", OBS, [])
    assert out.decision.actions == CLICKED and out.usage.repairs == 0


async def test_refused_tools_fall_back_to_plain_json(planner_for: PlannerFactory) -> None:
    with FakeOpenAIServer([CLICK], tools=False) as server:
        planner = planner_for(server, output="tools")
        out = await planner.decide("t", OBS, [])
    assert out.decision.actions == CLICKED
    assert tool(server.requests[0]) is not None and tool(server.requests[1]) is None
    assert planner.output_mode == "json"


async def test_a_think_block_with_braces_before_the_json(
        server: FakeOpenAIServer, planner_for: PlannerFactory,
) -> None:
    thought = '<think>The page shows {"index": 7} and a set {a, b}; I will click.\n}</think>\n\n'
    server.push(thought + json.dumps(CLICK))
    out = await planner_for(server).decide("t", OBS, [])
    assert out.decision.actions == CLICKED and out.usage.repairs == 0
    assert out.model_output.startswith("<think>")  # the trace keeps the reply as it came


async def test_unknown_extra_keys_are_ignored(server: FakeOpenAIServer, planner_for: PlannerFactory) -> None:
    server.push({"reasoning": "Searching.", "confidence": 0.9, "plan": ["a", "b"],
                 "actions": [{"action": "click", "index": 1, "why": "the button", "element": {"tag": "b"}}]})
    out = await planner_for(server).decide("t", OBS, [])
    assert out.decision.actions == CLICKED and out.usage.repairs == 0


async def test_strict_nulls_become_defaults_and_strings_numbers(
        server: FakeOpenAIServer, planner_for: PlannerFactory,
) -> None:
    server.push({"reasoning": "r", "preference_ids": None, "actions": [
        {"action": "click", "index": "3", "button": None, "double": None},
        {"action": "scroll", "direction": None, "pages": None, "index": None},
        {"action": "use_skill", "name": "buy", "parameters": [{"name": "query", "value": "usb-c"}]},
        {"action": "done", "answer": "ok", "success": None}]})
    out = await planner_for(server).decide("t", OBS, [])
    skill = UseSkill(name="buy", parameters={"query": "usb-c"})
    assert out.decision.actions == [Click(index=3), Scroll(), skill, Done(answer="ok")]
    assert out.decision.preference_ids == [] and out.usage.repairs == 0


async def test_a_reply_still_invalid_is_repaired_once_with_the_error(
        api: str, server: FakeOpenAIServer, planner_for: PlannerFactory,
) -> None:
    server.push(Reply(content={"reasoning": "r", "actions": [{"action": "click"}]}, tool_call=True), CLICK)
    out = await planner_for(server).decide("t", OBS, [])
    assert out.decision.actions == CLICKED and out.usage.repairs == 1 and out.usage.calls == 2
    roles = [role for role, _ in turns(server.requests[1])]
    assert roles == ["user", "assistant", "user"]
    assert '"action": "click"' in turns(server.requests[1])[1][1]  # the bad call's arguments shown back
    assert "Field required" in turns(server.requests[1])[2][1]


async def test_a_failed_verification_still_counts_its_tokens(
        server: FakeOpenAIServer, planner_for: PlannerFactory,
) -> None:
    from operator_agent.planner.client import ModelReplyError

    server.push(Reply(content="I cannot tell.", prompt_tokens=500, completion_tokens=5),
                Reply(content='{"ok": "maybe"}', prompt_tokens=520, completion_tokens=6))
    with pytest.raises(ModelReplyError) as info:
        await planner_for(server).verify("t", OBS, "done")
    usage = info.value.usage
    assert (usage.calls, usage.repairs, usage.input_tokens, usage.output_tokens) == (2, 1, 1020, 11)


async def test_a_later_unrelated_400_is_not_blamed_on_tools(
        server: FakeOpenAIServer, planner_for: PlannerFactory,
) -> None:
    from operator_agent.protocols import PlannerError

    server.push(CLICK, Fault(status=400, message="This model's maximum context length is 128000 tokens."))
    planner = planner_for(server, output="tools")
    await planner.decide("t", OBS, [])
    with pytest.raises(PlannerError, match="maximum context length"):
        await planner.decide("t", OBS, [])
    assert planner.output_mode == "tools" and len(server.requests) == 2
