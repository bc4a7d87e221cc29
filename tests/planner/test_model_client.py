"""The ModelClient seam: errors that end the run, timeouts and retries as settings, usage
estimated when missing, for both APIs; and the other model callers going through it."""

from __future__ import annotations

import json

import pytest
from planner_wire import CLICK, CLICKED, OBS, PlannerFactory

from operator_agent.planner.client import ModelClient
from operator_agent.planner.config import ModelConfig
from operator_agent.preferences.model_parser import parse_sentence, parse_with_model
from operator_agent.protocols import ConfigError, ModelAccessError, PlannerError
from operator_agent.skills.format import Param, Skill, Step
from operator_agent.skills.naming import name_with_model
from operator_bench.testing.fake_openai import FakeOpenAIServer, Fault, Reply


@pytest.mark.parametrize("status, needle", [
    (401, "refused the API key (401): set OPENAI_API_KEY or --api-key"),
    (403, "no access to model 'local-model' (403)"),
    (404, "model 'local-model' was not found"),
])
async def test_access_errors_end_the_run_at_once(
        server: FakeOpenAIServer, planner_for: PlannerFactory, status: int, needle: str,
) -> None:
    server.push(Fault(status=status, code="model_not_found" if status == 404 else None,
                      message="The model `local-model` does not exist. Incorrect API key sk-abc***xyz"))
    with pytest.raises(ModelAccessError) as info:
        await planner_for(server).decide("t", OBS, [])
    message = str(info.value)
    assert needle in message and "\n" not in message and "sk-abc" not in message  # no key, ever
    assert isinstance(info.value, ConfigError) and not isinstance(info.value, PlannerError)
    assert len(server.requests) == 1  # never retried
    assert info.value.usage.calls == 1  # type: ignore[attr-defined]


async def test_a_server_without_the_responses_api_says_to_use_chat(planner_for: PlannerFactory) -> None:
    with FakeOpenAIServer(responses_api=False) as server, \
            pytest.raises(ModelAccessError, match="OPERATOR_MODEL_API=chat"):
        await planner_for(server, api="responses").decide("t", OBS, [])


async def test_a_hung_server_times_out_by_the_setting_and_is_retried_by_the_setting(
        server: FakeOpenAIServer, planner_for: PlannerFactory,
) -> None:
    server.push(Fault(hang=True), Fault(hang=True), CLICK)
    planner = planner_for(server, timeout=0.2, max_attempts=2)
    with pytest.raises(PlannerError, match=r"after 2 attempts: no answer within 0\.2s") as info:
        await planner.decide("t", OBS, [])
    server.release_hung()
    assert len(server.requests) == 2 and info.value.usage.retries == 1  # type: ignore[attr-defined]
    assert (await planner.decide("t", OBS, [])).decision.actions == CLICKED  # the same client goes on


@pytest.mark.parametrize("retries", [0, 2])
async def test_the_retry_count_setting_is_respected(
        api: str, server: FakeOpenAIServer, retries: int, planner_for: PlannerFactory,
) -> None:
    env = {"OPERATOR_MODEL": "m", "OPENAI_BASE_URL": server.base_url, "OPERATOR_MODEL_RETRIES": str(retries),
           "OPERATOR_MODEL_API": api}
    config = ModelConfig.resolve(env=env)
    server.push(*[Fault(status=503)] * 5)
    planner = planner_for(server, model="m", max_attempts=config.max_attempts)
    with pytest.raises(PlannerError, match=f"after {retries + 1} attempts"):
        await planner.decide("t", OBS, [])
    assert len(server.requests) == retries + 1


async def test_missing_usage_is_estimated(server: FakeOpenAIServer, planner_for: PlannerFactory) -> None:
    server.push(Reply(content=CLICK, usage=False))
    out = await planner_for(server).decide("t", OBS, [])
    assert out.usage.estimated and out.usage.input_tokens > 100 and out.usage.output_tokens > 5


def test_settings_come_from_flags_then_environment() -> None:
    env = {"OPERATOR_MODEL": "m", "OPENAI_API_KEY": "k", "OPERATOR_MODEL_TIMEOUT": "12.5",
           "OPERATOR_MODEL_RETRIES": "0", "OPERATOR_MODEL_API": "Responses", "OPERATOR_MODEL_OUTPUT": "tools"}
    cfg = ModelConfig.resolve(env=env)
    assert (cfg.timeout, cfg.max_attempts, cfg.retries) == (12.5, 1, 0)
    assert (cfg.api, cfg.output) == ("responses", "tools")
    cfg = ModelConfig.resolve(timeout=5, retries=2, api="chat", output="json", env=env)
    assert (cfg.timeout, cfg.max_attempts, cfg.api, cfg.output) == (5, 3, "chat", "json")
    default = ModelConfig.resolve(env={"OPERATOR_MODEL": "m", "OPENAI_API_KEY": "k"})
    assert (default.timeout, default.max_attempts, default.api, default.output) == (60.0, 4, "chat", "auto")


@pytest.mark.parametrize("name, value", [
    ("OPERATOR_MODEL_TIMEOUT", "soon"), ("OPERATOR_MODEL_TIMEOUT", "0"),
    ("OPERATOR_MODEL_RETRIES", "-1"), ("OPERATOR_MODEL_RETRIES", "1.5"),
    ("OPERATOR_MODEL_API", "completions"), ("OPERATOR_MODEL_OUTPUT", "xml"),
])
def test_bad_settings_are_one_line_config_errors(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        ModelConfig.resolve(env={"OPERATOR_MODEL": "m", "OPENAI_API_KEY": "k", name: value})
    assert name in str(info.value) and "\n" not in str(info.value)


# --- the other model callers go through the same client ------------------------------------------

PREFS = {"preferences": [{"subject": "flights.seat", "value": "aisle", "polarity": None, "scope": None}]}


async def test_preferences_are_parsed_through_the_client(api: str) -> None:
    with FakeOpenAIServer([Reply(content=PREFS, tool_call=False)]) as server:
        config = ModelConfig(model="m", base_url=server.base_url, api=api)  # type: ignore[arg-type]
        drafts = await parse_with_model("Aisle please", config)
    assert [(d.subject, d.value, d.polarity, d.scope) for d in drafts] == [
        ("flights.seat", "aisle", "prefer", "everywhere")]  # strict nulls are the defaults
    assert server.paths == ["/v1/responses" if api == "responses" else "/v1/chat/completions"]


async def test_preferences_fall_back_to_the_rules_on_a_bad_key() -> None:
    with FakeOpenAIServer(api_key="right") as server:
        config = ModelConfig(model="m", base_url=server.base_url, api_key="wrong")
        drafts, parsed_by = await parse_sentence("I prefer aisle seats", config)
    assert parsed_by == "rules" and [d.value for d in drafts] == ["aisle"]


SKILL = Skill(name="shop", site="http://shop.test", parameters={"query": Param(example="usb-c cable")},
              steps=[Step(id=1, intent="type the query", action="type", text="{query}")])


async def test_naming_goes_through_the_client_and_counts_estimated_tokens(api: str) -> None:
    naming = {"description": "Search for {item}", "parameters": {"query": {"name": "item"}}, "extra": 1}
    reply = Reply(content=f"<think>{{names}}</think>{json.dumps(naming)}", usage=False)
    with FakeOpenAIServer([reply]) as server:
        config = ModelConfig(model="m", base_url=server.base_url, api=api)  # type: ignore[arg-type]
        client = ModelClient(config)
        try:
            skill, usage = await name_with_model(SKILL, "find a cable", config, client)
        finally:
            await client.aclose()
    assert list(skill.parameters) == ["item"] and skill.description == "Search for {item}"
    assert usage.calls == 1 and usage.estimated and usage.input_tokens > 0


async def test_naming_leaves_the_skill_unchanged_without_a_model() -> None:
    with FakeOpenAIServer(api_key="right") as server:
        config = ModelConfig(model="m", base_url=server.base_url, api_key="wrong")
        skill, usage = await name_with_model(SKILL, "", config)
    assert skill == SKILL and usage.calls == 1
