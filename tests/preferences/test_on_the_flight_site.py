"""Preferences in the real loop on the practice flight site: the planner is given
the airline and seat preferences for a flight task (not the shopping ones), and a
red-eye choice under "never red-eye" is refused before the click."""

from __future__ import annotations

import datetime as dt
import re

from operator_agent.builder import build_agent, permissions
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.preferences import PreferenceStore, parse
from operator_agent.session import BrowserSession


def select_after(text: str, marker: str) -> int:
    """The "Select" button of the first result whose line mentions `marker`."""
    seen = False
    for line in text.splitlines():
        if marker in line and not line.startswith("["):
            seen = True
        m = re.match(r'\[(\d+)\] button "Select"', line)
        if seen and m:
            return int(m.group(1))
    raise LookupError(f"no result with {marker!r}")


async def test_flight_task_gets_flight_preferences_and_a_red_eye_is_refused(sites, context, tmp_path):
    store = PreferenceStore(tmp_path / "prefs.db")
    for sentence in ("I prefer aisle seats", "I prefer to fly Iberiana", "never book red-eye flights",
                     "I prefer Voltix cables", "ship everything by express delivery"):
        for draft in parse(sentence):
            store.add(draft)
    sites.configure(slow_ms=0)
    await context.add_cookies(sites.dismissed_cookies())
    env = BrowserSession(context)
    day = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    await env.goto(f"{sites.flights_url}/results?from=JFK&to=LIS&date={day}&passengers=1")

    planner = ScriptedPlanner([
        lambda text: {"reasoning": "the cheapest flight", "actions": [
            {"action": "click", "index": select_after(text, "Overnight")}]},
        {"reasoning": "stop", "actions": [{"action": "done", "answer": "stopped", "success": False}]},
    ])
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    perms = permissions(run_id="prefs-e2e", interactive=False)
    agent = build_agent(planner=planner, environment=env, perms=perms, prefs=store, run_dir=run_dir,
                        verify=False)
    await agent.run("Book a flight from New York to Lisbon")

    prompt = planner.prompts[0]
    assert "aisle" in prompt and "Iberiana" in prompt and "red-eye" in prompt
    assert "Voltix" not in prompt and "express" not in prompt  # shopping ones stay out
    first = planner.observations[1].errors
    assert first and any("red-eye" in e for e in first), first  # refused before the click
    assert sites.state("flights")["trips"] == [] and sites.state("flights")["bookings"] == []
    store.close()
