"""The agent drives a real Tk program on a real (virtual) X display through
screenshots, OCR, the mouse and the keyboard; only the model is scripted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from operator_agent.agent import Agent, AgentConfig
from operator_agent.perception.screen import desktop_url, parse_desktop_url
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.types import Action, Observation, Type, Verdict
from operator_bench.testing.script import find_index

FORM_TITLE = "Operator Test Form"  # the Tk program's window title


class RecordingGate:
    """Allows everything and remembers what it was shown (the gate sees every action)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    async def check(self, action: Action, observation: Observation) -> Verdict:
        self.seen.append((action.action, observation.url, observation.title))
        return Verdict(decision="allow")


def _fill(text: str) -> dict[str, Any]:
    return {"reasoning": "Fill in the three text fields.", "actions": [
        {"action": "type", "index": find_index(text, "Full name", "textbox"), "text": "Ada Lovelace"},
        {"action": "type", "index": find_index(text, "Email", "textbox"), "text": "ada@example.org"},
        {"action": "type", "index": find_index(text, "City", "textbox"), "text": "London"},
    ]}


def _country(text: str) -> dict[str, Any]:
    return {"reasoning": "Choose the country.", "actions": [
        {"action": "select", "index": find_index(text, "Country", "combobox"), "option": "Japan"}]}


def _subscribe_and_save(text: str) -> dict[str, Any]:
    assert 'value="Japan"' in text, text
    return {"reasoning": "Tick the newsletter box and save.", "actions": [
        {"action": "click", "index": find_index(text, "Subscribe", "checkbox")},
        {"action": "click", "index": find_index(text, "Save", "button")},
    ]}


def _done(text: str) -> dict[str, Any]:
    assert '"Saved"' in text, text
    assert "checkbox \"Subscribe to newsletter\" checked" in text, text
    return {"reasoning": "The form says Saved.", "actions": [{"action": "done", "answer": "saved"}]}


async def test_agent_fills_and_saves_the_form(desktop: Any, form_app: Any, xvfb_display: str,
                                              tmp_path: Path) -> None:
    planner = ScriptedPlanner([_fill, _country, _subscribe_and_save, _done])
    gate = RecordingGate()
    agent = Agent(planner=planner, environment=desktop, gate=gate,
                  config=AgentConfig(max_steps=8, runs_dir=tmp_path / "runs"))
    result = await agent.run("Fill in the form for Ada Lovelace (London, Japan), subscribe, and save it")

    assert result.success, (result.message, [o.text for o in planner.observations[-1:]])
    assert result.steps == 4
    assert form_app.saved() == {"full_name": "Ada Lovelace", "email": "ada@example.org", "city": "London",
                                "password_set": False, "country": "Japan", "subscribe": True}
    # Every action went through the gate, which saw the window it acts on.
    assert [a for a, _, _ in gate.seen] == ["type", "type", "type", "select", "click", "click"]
    url = desktop_url(xvfb_display, FORM_TITLE)
    assert {(u, t) for _, u, t in gate.seen} == {(url, FORM_TITLE)}
    first = planner.observations[0]
    assert first.url == url and parse_desktop_url(first.url) == (xvfb_display, FORM_TITLE)
    assert first.text.startswith(f"url: {url}\ntitle: {FORM_TITLE}\n")
    # The trace has a screenshot per step, as for the browser.
    shots = list((tmp_path / "runs").rglob("*.png"))
    assert len(shots) >= 4


async def test_password_field_is_secret(desktop: Any, form_app: Any) -> None:
    obs = await desktop.observe(screenshot=True)
    index = find_index(obs.text, "Password", "textbox")
    result = await desktop.perform(Type(index=index, text="hunter2"), obs)
    assert result.ok, result.error
    obs = await desktop.observe(screenshot=True)
    field = obs.element(find_index(obs.text, "Password", "textbox"))
    assert field is not None and field.sensitive and field.value is None
    assert field.attributes.get("filled") == "true"
    assert "hunter2" not in obs.text and "*******" not in obs.text
    assert "secret value=<hidden, filled>" in obs.text

    # The screenshot a vision model or the trace gets has the field painted black.
    import cv2
    import numpy as np

    assert obs.screenshot is not None and field.bbox is not None
    image = cv2.imdecode(np.frombuffer(obs.screenshot, np.uint8), cv2.IMREAD_GRAYSCALE)
    b = field.bbox
    assert not image[int(b.y):int(b.y + b.height), int(b.x):int(b.x + b.width)].any()
    marked = desktop.marked_screenshot(obs)
    assert marked is not None and marked != obs.screenshot
    assert cv2.imdecode(np.frombuffer(marked, np.uint8), cv2.IMREAD_COLOR).shape[:2] == image.shape[:2]
