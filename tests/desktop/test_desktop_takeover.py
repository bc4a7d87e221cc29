"""Takeover on the desktop: the model hands over, a scripted person types a password into the
real Tk form with the X server's own input (XTest, as a keyboard and mouse would) and saves;
the agent looks at the screen again and goes on from what the person did."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from operator_agent.agent import Agent, AgentConfig
from operator_agent.perception.screen import desktop_url
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.traces import TRACE_FILE, load_run
from operator_agent.types import HandBack, HandOverRequest
from operator_bench.testing.script import find_index

FORM_TITLE = "Operator Test Form"
PASSWORD = "hunter2"


def _as_person(display: str, field: tuple[float, float], text: str, save: tuple[float, float]) -> None:
    """Click the field, type, click Save: input events of the X server, not the agent's executor."""
    from Xlib import XK, X
    from Xlib import display as xdisplay
    from Xlib.ext import xtest

    d = xdisplay.Display(display)
    try:
        def click(x: float, y: float) -> None:
            xtest.fake_input(d, X.MotionNotify, x=int(x), y=int(y))
            xtest.fake_input(d, X.ButtonPress, 1)
            xtest.fake_input(d, X.ButtonRelease, 1)
            d.sync()

        click(*field)
        for char in text:
            code = d.keysym_to_keycode(XK.string_to_keysym(char))
            xtest.fake_input(d, X.KeyPress, code)
            xtest.fake_input(d, X.KeyRelease, code)
        d.sync()
        click(*save)
    finally:
        d.close()


async def test_the_person_takes_the_desktop_over_and_the_agent_sees_what_they_did(
        desktop: Any, form_app: Any, xvfb_display: str, tmp_path: Path) -> None:
    def saved(text: str) -> dict[str, Any]:
        assert '"Saved"' in text, text  # only what the person did shows it
        return {"reasoning": "saved", "actions": [{"action": "done", "answer": "saved"}]}

    planner = ScriptedPlanner([
        {"reasoning": "a password only the person knows", "actions": [
            {"action": "hand_over", "reason": "type your password into the form and save it"}]},
        saved,
    ])

    class Person:
        """At the X display: reads where things are off the screen the agent last saw."""

        request: HandOverRequest | None = None

        async def take_over(self, request: HandOverRequest) -> HandBack:
            self.request = request
            seen = planner.observations[-1]
            field = seen.element(find_index(seen.text, "Password", "textbox"))
            save = seen.element(find_index(seen.text, "Save", "button"))
            assert field is not None and field.bbox is not None and save is not None and save.bbox is not None
            await asyncio.to_thread(_as_person, xvfb_display, field.bbox.center, PASSWORD, save.bbox.center)
            await asyncio.to_thread(form_app.saved)  # the program wrote its file
            return HandBack(note="saved it")

    person = Person()
    agent = Agent(planner=planner, environment=desktop, takeover=person,
                  config=AgentConfig(max_steps=4, runs_dir=tmp_path / "runs"))
    result = await agent.run("save the form with my password")

    assert result.success, result.message
    assert form_app.saved()["password_set"] is True
    url = desktop_url(xvfb_display, FORM_TITLE)
    assert person.request is not None and (person.request.environment, person.request.url) == ("desktop", url)
    run = load_run(Path(str(result.run_dir)))
    (note,) = run.steps[0].handovers
    assert (note.asked_by, note.outcome, note.url_before, note.url_after) == ("model", "done", url, url)
    assert run.steps[1].url == url and len(planner.prompts) == 2
    assert PASSWORD not in (run.run_dir / TRACE_FILE).read_text()
