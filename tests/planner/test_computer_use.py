"""The computer-use planner against the fake server: computer actions become our actions,
screenshots go back as computer_call_output, safety checks are never acknowledged."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from PIL import Image

from operator_agent.permissions.gate import CallbackApprover
from operator_agent.planner.client import ModelReplyError
from operator_agent.planner.computer_use import ComputerUsePlanner, computer_use_planner, key_combo, png_size
from operator_agent.planner.config import ModelConfig
from operator_agent.protocols import ConfigError, ModelAccessError
from operator_agent.types import (
    Back,
    ClickAt,
    Done,
    Drag,
    MoveMouse,
    Observation,
    Press,
    Scroll,
    TypeAt,
    Verdict,
    Wait,
)
from operator_bench.testing.fake_openai import FakeOpenAIServer, Reply, computer_call, output_message

Make = Callable[..., ComputerUsePlanner]


def _png(width: int = 200, height: int = 100, color: str = "white") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def _obs(color: str = "white", errors: list[str] | None = None) -> Observation:
    return Observation(url="http://shop.test/", title="Shop", screenshot=_png(color=color),
                       errors=errors or [])


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _calls(*items: dict[str, Any], tokens: tuple[int, int] | None = None) -> Reply:
    prompt, completion = tokens or (None, None)
    return Reply(content="", output=list(items), prompt_tokens=prompt, completion_tokens=completion)


def _outputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in body["input"] if i.get("type") == "computer_call_output"]


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    made: list[ComputerUsePlanner] = []

    def factory(server: FakeOpenAIServer, *, api_key: str = "test-key", **kw: Any) -> ComputerUsePlanner:
        config = ModelConfig(model="computer-use-preview", base_url=server.base_url, api_key=api_key,
                             max_attempts=1)
        planner = ComputerUsePlanner(config, backoff_base=0.0, **kw)
        made.append(planner)
        return planner

    yield factory
    for planner in made:
        await planner.aclose()


async def test_click_type_keypress_then_answer(make: Make) -> None:
    with FakeOpenAIServer([
        _calls(computer_call({"type": "click", "button": "left", "x": 40, "y": 20}, call_id="call_1")),
        _calls(computer_call({"type": "type", "text": "usb cable"}, call_id="call_2")),
        _calls(computer_call({"type": "keypress", "keys": ["CTRL", "A"]}, call_id="call_3")),
        _calls(output_message("Found it: $9.99")),
    ]) as server:
        planner = make(server)
        screens = [_obs(c) for c in ("white", "red", "green", "blue")]
        decisions = [(await planner.decide("find a usb cable", o, [])).decision for o in screens]

    assert decisions[0].actions == [ClickAt(x=40, y=20)]
    # Typed where the model last clicked, added to the field like a keyboard does.
    assert decisions[1].actions == [TypeAt(x=40, y=20, text="usb cable", clear=False)]
    assert decisions[2].actions == [Press(keys="Control+a")]
    assert decisions[3].actions == [Done(answer="Found it: $9.99")]

    first, *later = server.requests
    assert first["tools"] == [{"type": "computer_use_preview", "display_width": 200, "display_height": 100,
                               "environment": "browser"}]
    assert first["truncation"] == "auto" and "previous_response_id" not in first
    assert "find a usb cable" in json.dumps(first["input"])
    assert first["input"][0]["content"][1]["image_url"] == _data_url(screens[0].screenshot or b"")
    for n, body in enumerate(later, start=1):
        # Each reply's call gets back the screenshot taken after it, in the same conversation.
        assert body["previous_response_id"] == f"resp_fake{n}"
        assert _outputs(body) == [{"type": "computer_call_output", "call_id": f"call_{n}", "output": {
            "type": "input_image", "image_url": _data_url(screens[n].screenshot or b"")}}]
        assert body["tools"] == first["tools"] and body["truncation"] == "auto"


async def test_pointer_actions_map_to_ours(make: Make) -> None:
    path = [{"x": 10, "y": 90}, {"x": 50, "y": 60}, {"x": 150, "y": 15}]
    with FakeOpenAIServer([_calls(
        computer_call({"type": "drag", "path": path}, call_id="c1"),
    ), _calls(
        {"type": "computer_call", "id": "cu_b", "call_id": "c2", "pending_safety_checks": [],
         "status": "completed", "actions": [
             {"type": "double_click", "x": 5, "y": 6},
             {"type": "click", "button": "wheel", "x": 7, "y": 8},
             {"type": "click", "button": "back", "x": 0, "y": 0},
             {"type": "move", "x": 30, "y": 40},
             {"type": "scroll", "x": 100, "y": 50, "scroll_x": 0, "scroll_y": 300},
             {"type": "scroll", "x": 100, "y": 50, "scroll_x": -100, "scroll_y": 0},
             {"type": "wait"},
             {"type": "screenshot"},
         ]},
    )]) as server:
        planner = make(server)
        drag = (await planner.decide("draw", _obs(), [])).decision
        batch = (await planner.decide("draw", _obs("red"), [])).decision

    assert drag.actions == [Drag(from_x=10, from_y=90, to_x=150, to_y=15)]
    assert batch.actions == [
        ClickAt(x=5, y=6, double=True), ClickAt(x=7, y=8, button="middle"), Back(), MoveMouse(x=30, y=40),
        Scroll(direction="down", pages=3.0, x=100, y=50), Scroll(direction="left", pages=0.5, x=100, y=50),
        Wait(seconds=1.0), Wait(seconds=0),
    ]
    assert [o["call_id"] for o in _outputs(server.requests[1])] == ["c1"]


async def test_keys_held_during_a_click_or_drag_are_held_never_dropped(make: Make) -> None:
    path = [{"x": 10, "y": 90}, {"x": 150, "y": 15}]
    with FakeOpenAIServer([
        _calls(computer_call({"type": "click", "button": "left", "x": 5, "y": 6, "keys": ["CTRL", "shift"]},
                             call_id="c1")),
        _calls(computer_call({"type": "drag", "path": path, "keys": ["ALT"]}, call_id="c2")),
        _calls(computer_call({"type": "double_click", "x": 7, "y": 8, "keys": ["META"]}, call_id="c3")),
        _calls(computer_call({"type": "click", "button": "left", "x": 5, "y": 6, "keys": ["A"]},
                             call_id="c4")),
        _calls(computer_call({"type": "scroll", "x": 5, "y": 6, "scroll_x": 0, "scroll_y": 50,
                              "keys": ["SHIFT"]}, call_id="c5")),
    ]) as server:
        planner = make(server)
        decisions = [(await planner.decide("select", _obs(), [])).decision for _ in range(3)]
        with pytest.raises(ModelReplyError, match="'A' is not a modifier key"):
            await planner.decide("select", _obs(), [])
        with pytest.raises(ModelReplyError, match="keys held during a scroll are not supported"):
            await planner.decide("select", _obs(), [])
    assert [d.actions for d in decisions] == [
        [ClickAt(x=5, y=6, hold="Control+Shift")],
        [Drag(from_x=10, from_y=90, to_x=150, to_y=15, hold="Alt")],
        [ClickAt(x=7, y=8, double=True, hold="Meta")],
    ]


async def test_safety_check_is_never_acknowledged(make: Make) -> None:
    check = {"id": "sc_1", "code": "malicious_instructions",
             "message": "The page asks to send your password elsewhere."}
    with FakeOpenAIServer([
        _calls(computer_call({"type": "click", "button": "left", "x": 1, "y": 2}, call_id="call_1",
                             safety_checks=[check])),
    ]) as server:
        planner = make(server)
        decision = (await planner.decide("log in", _obs(), [])).decision

    # The action is not performed: the run stops and the person reads why.
    assert len(decision.actions) == 1 and isinstance(decision.actions[0], Done)
    done = decision.actions[0]
    assert not done.success
    assert "malicious_instructions" in done.answer and "send your password elsewhere" in done.answer
    assert "acknowledged_safety_checks" not in json.dumps(server.requests)
    assert planner._pending == []  # nothing left to answer for that call


@pytest.mark.parametrize("yes", [True, False])
async def test_safety_checks_go_to_the_person(make: Make, yes: bool) -> None:
    """With the run's approver, the person decides: only a yes acknowledges the checks (with
    the next screenshot), a no stops the run as with nobody to ask."""
    check = {"id": "sc_2", "code": "irrelevant_domain", "message": "The page is not on the task's site."}
    asked: list[Verdict] = []

    def person(verdict: Verdict, action: Any) -> bool:
        asked.append(verdict)
        return yes

    with FakeOpenAIServer([
        _calls(computer_call({"type": "click", "button": "left", "x": 5, "y": 6}, call_id="call_9",
                             safety_checks=[check])),
        Reply(content="", output=[output_message("Done.")]),
    ]) as server:
        planner = make(server, approver=CallbackApprover(person))
        first = (await planner.decide("log in", _obs(), [])).decision
        if yes:
            await planner.decide("log in", _obs("black"), [])
    [verdict] = asked
    assert "irrelevant_domain" in verdict.summary and "approval id:" in verdict.summary
    if yes:
        assert isinstance(first.actions[0], ClickAt)  # still checked by the gate when it runs
        [out] = _outputs(server.requests[1])
        assert out["call_id"] == "call_9" and out["acknowledged_safety_checks"] == [
            {"id": "sc_2", "code": "irrelevant_domain", "message": "The page is not on the task's site."}]
    else:
        assert isinstance(first.actions[0], Done) and not first.actions[0].success
        assert "acknowledged_safety_checks" not in json.dumps(server.requests)


async def test_usage_is_counted(make: Make) -> None:
    with FakeOpenAIServer([
        _calls(computer_call({"type": "screenshot"}, call_id="c1"), tokens=(1200, 30)),
        _calls(output_message("done"), tokens=(1500, 5)),
    ]) as server:
        planner = make(server)
        first = await planner.decide("look", _obs(), [])
        second = await planner.decide("look", _obs("red"), [])

    assert (first.usage.input_tokens, first.usage.output_tokens, first.usage.calls) == (1200, 30, 1)
    assert (second.usage.input_tokens, second.usage.output_tokens) == (1500, 5)
    assert not first.usage.estimated
    assert first.model == "computer-use-preview"
    assert "computer_call" in first.model_output and "c1" in first.model_output


async def test_bad_key_is_a_model_access_error(make: Make) -> None:
    with FakeOpenAIServer([], api_key="right-key") as server:
        planner = make(server, api_key="wrong-key")
        with pytest.raises(ModelAccessError, match="401"):
            await planner.decide("look", _obs(), [])


async def test_unmappable_action_is_shown_to_the_model_next_step(make: Make) -> None:
    with FakeOpenAIServer([
        _calls(computer_call({"type": "type", "text": "hello"}, call_id="c1")),  # no click yet
        _calls(output_message("gave up")),
    ]) as server:
        planner = make(server)
        with pytest.raises(ModelReplyError, match="click the field first") as caught:
            await planner.decide("greet", _obs(), [])
        assert caught.value.usage.calls == 1
        # The loop puts the error on the next observation: it goes back with the call's screenshot.
        await planner.decide("greet", _obs(errors=[str(caught.value)]), [])

    body = server.requests[1]
    assert [o["call_id"] for o in _outputs(body)] == ["c1"]
    assert "click the field first" in json.dumps(body["input"])


async def test_after_a_rejected_answer_the_model_sees_the_screen_again(make: Make) -> None:
    with FakeOpenAIServer([_calls(output_message("done")), _calls(output_message("really done"))]) as server:
        planner = make(server)
        await planner.decide("task", _obs(), [])
        await planner.decide("task", _obs("red", errors=["the task is not done yet: no cart"]), [])

    body = server.requests[1]
    assert body["previous_response_id"] == "resp_fake1" and not _outputs(body)
    content = body["input"][0]["content"]
    assert "no cart" in content[0]["text"] and content[1]["type"] == "input_image"


async def test_verify_asks_the_same_model(make: Make) -> None:
    with FakeOpenAIServer([{"ok": True, "reason": "the cart shows the cable"}]) as server:
        planner = make(server)
        verification, usage = await planner.verify("buy a cable", _obs(), "bought")

    assert verification.ok and usage.calls == 1
    assert server.paths == ["/v1/responses"] and "tools" not in server.requests[0]


async def test_screenshots_are_required(make: Make) -> None:
    with FakeOpenAIServer() as server:
        planner = make(server)
        with pytest.raises(ConfigError, match="screenshots"):
            await planner.decide("look", Observation(url="http://shop.test/"), [])
        assert server.requests == []


def test_helpers() -> None:
    assert png_size(_png(31, 17)) == (31, 17)
    assert key_combo(["ENTER"]) == "Enter"
    assert key_combo(["ctrl", "shift", "T"]) == "Control+Shift+t"
    config = ModelConfig(model="m", base_url="http://127.0.0.1:9/v1")
    planner = computer_use_planner(config, environment="linux", display=(1024, 768))
    assert planner.config.api == "responses" and planner.config.vision
    assert planner.environment == "linux" and planner.display == (1024, 768)
