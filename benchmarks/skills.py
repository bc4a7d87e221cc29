"""Replaying a taught skill against doing the same task step by step with a model.

The task: book a flight (New York -> Lisbon, the 14th of next month, nonstop, Economy
Standard, an aisle seat, one passenger, paid by test card) on the practice flight site.

- replay: the shipped skill book-flight (operator_agent/skills/shipped/) through the agent
          loop (SkillPlanner);
- agent:  the same loop with a model whose choices are scripted: the real OpenAI client
          talks to the fake server on loopback, which answers each step by reading the page
          it was sent, as a model would (tokens: the server's count of what was sent);
- playwright floor: the same booking as a plain Playwright script (the demonstration the
          skill was learned from, operator_bench.demonstrations.book_flight): no observation,
          no gate, no trace. No replay can be faster, so it says how far "5x the agent" can go.

All run in one browser, a fresh context and freshly reset sites per run. Prints the
median wall time and tokens of each, and the ratios.

    .venv/bin/python benchmarks/skills.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from operator_agent.agent import Agent, AgentConfig
from operator_agent.builder import Permissions, permissions
from operator_agent.launch import BrowserOptions, open_browser
from operator_agent.permissions.gate import CallbackApprover
from operator_agent.permissions.policy import Policy
from operator_agent.planner.config import ModelConfig
from operator_agent.planner.openai import OpenAIPlanner
from operator_agent.session import BrowserSession
from operator_agent.skills.library import SkillLibrary
from operator_agent.skills.run import run_skill
from operator_agent.skills.values import resolve
from operator_bench.demonstrations import book_flight, next_month_day
from operator_bench.sites import PracticeSites
from operator_bench.testing.fake_openai import FakeOpenAIServer
from operator_bench.testing.script import find_index, find_text, user_text

CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12 / 34", "card_cvc": "123"}
TASK = ("Book a nonstop flight from New York to Lisbon on {day}, Economy Standard, an aisle seat, "
        "for Ada Lovelace.")


def _act(reasoning: str, *actions: dict[str, Any]) -> dict[str, Any]:
    return {"reasoning": reasoning, "actions": list(actions)}


def _click(text: str, name: str, role: str | None = None) -> dict[str, Any]:
    return {"action": "click", "index": find_index(text, name, role)}


def _type(text: str, name: str, value: str) -> dict[str, Any]:
    return {"action": "type", "index": find_index(text, name), "text": value}


def script(day_label: str) -> list[Callable[[str], dict[str, Any]]]:
    """What a capable model decides at each step, reading the indexes off the page."""
    return [
        lambda t: _act("Answer the cookie wall.", _click(t, "Only necessary cookies")),
        lambda t: _act("Where from.", _type(t, "From", "New York")),
        lambda t: _act("Pick JFK.", _click(t, "New York (JFK)", "option")),
        lambda t: _act("Where to.", _type(t, "To", "Lisbon")),
        lambda t: _act("Pick LIS.", _click(t, "Lisbon (LIS)", "option")),
        lambda t: _act("Open the calendar.", _click(t, "Depart")),
        lambda t: _act("Next month.", _click(t, "Next month")),
        lambda t: _act("The day.", _click(t, day_label)),
        lambda t: _act("Search.", _click(t, "Search flights")),
        lambda t: _act("Only nonstop flights.", _click(t, "Nonstop", "checkbox")),
        lambda t: _act("The first nonstop result.", _click(t, "Select", "button")),
        lambda t: _act("Economy Standard.", _click(t, "Choose Economy Standard")),
        lambda t: _act("A free aisle seat.", {"action": "click", "index": int(find_text(
            t, r'\[(\d+)\] button "Seat \d+[A-F], aisle"'))}),
        lambda t: _act("On to the passenger.", _click(t, "Continue to passenger details")),
        lambda t: _act("Passenger details.", _type(t, "First name", "Ada"), _type(t, "Last name", "Lovelace"),
                       _type(t, "Email address", "ada@example.com")),
        lambda t: _act("To payment.", _click(t, "Continue to payment")),
        lambda t: _act("Pay with the test card.", _type(t, "Card number", CARD["card_number"]),
                       _type(t, "Expiry date", CARD["card_expiry"]),
                       _type(t, "Security code", CARD["card_cvc"]), _type(t, "Name on card", "Ada Lovelace"),
                       {"action": "click", "index": int(find_text(t, r'\[(\d+)\] button "Pay \$'))}),
        lambda t: _act("Booked.", {"action": "done", "answer": "Booked: " + find_text(
            t, r"Booking reference\s*·?\s*([A-Z0-9]{6})")}),
    ]


def _from_request(step: Callable[[str], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: step(user_text(body))


RUNS = Path(tempfile.mkdtemp(prefix="bench-skills-"))  # traces of the runs, not kept


def practice_permissions() -> Permissions:
    """The default policy with the booking approved (a test card on a loopback site), as a
    person at the terminal would; audit log and spending ledger with the traces, one per run
    (so no daily limit is shared), never the person's own."""
    return permissions(policy=Policy.default(), overrides={"max_purchase": 5000, "max_daily": 5000},
                       audit_path=Path(tempfile.mkdtemp(dir=RUNS)) / "audit.sqlite", vault=None,
                       approver=CallbackApprover(lambda verdict, action: True))


async def replay_once(sites: PracticeSites, browser: Any) -> tuple[float, int, bool]:
    skill = SkillLibrary().get("book-flight").skill
    values = resolve(skill, {"departure_date": next_month_day().isoformat(), **CARD})
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        started = time.perf_counter()
        run = await run_skill(skill, values, url=sites.flights_url + "/", context=context, runs_dir=RUNS,
                              perms=practice_permissions())
        seconds = time.perf_counter() - started
    finally:
        await context.close()
    u = run.result.usage
    return seconds, u.input_tokens + u.output_tokens, run.result.success


async def agent_once(sites: PracticeSites, browser: Any) -> tuple[float, int, bool]:
    day = next_month_day()
    label = f"{day:%A}, {day.day} {day:%B %Y}"
    replies: list[Any] = [_from_request(s) for s in script(label)]
    replies.append({"ok": True, "reason": "the booking page shows the reference"})
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        with FakeOpenAIServer(replies, model="fake-model") as fake:
            planner = OpenAIPlanner(ModelConfig.resolve(model="fake-model", base_url=fake.base_url))
            session = BrowserSession(context)
            started = time.perf_counter()
            await session.goto(sites.flights_url + "/")
            config = AgentConfig(max_steps=40, runs_dir=RUNS)
            perms = practice_permissions()
            agent = Agent(planner=planner, environment=session, config=config, gate=perms.gate,
                          approver=perms.approver)
            result = await agent.run(TASK.format(day=f"{day.day} {day:%B %Y}"))
            seconds = time.perf_counter() - started
            await planner.aclose()
    finally:
        await context.close()
    u = result.usage
    return seconds, u.input_tokens + u.output_tokens, result.success


async def floor_once(sites: PracticeSites, browser: Any) -> tuple[float, int, bool]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = await context.new_page()
        started = time.perf_counter()
        reference = await book_flight(page, sites.flights_url + "/", day=next_month_day())
        seconds = time.perf_counter() - started
    finally:
        await context.close()
    return seconds, 0, bool(reference)


async def main(runs: int) -> None:
    with PracticeSites(seed=0) as sites:
        handle = await open_browser(BrowserOptions())
        results: dict[str, list[tuple[float, int, bool]]] = {"replay": [], "agent": [],
                                                             "playwright floor": []}
        try:
            for _ in range(runs):
                for name, once in (("replay", replay_once), ("agent", agent_once),
                                   ("playwright floor", floor_once)):
                    sites.reset()
                    sites.configure(slow_ms=300)
                    outcome = await once(sites, handle.browser)
                    booked = len(sites.state("flights")["bookings"]) == 1
                    results[name].append((outcome[0], outcome[1], outcome[2] and booked))
        finally:
            await handle.close()
    print(f"Flight booking on the practice site, {runs} runs each (median):")
    print(f"{'':16} {'wall time':>10} {'tokens':>8} {'booked':>7}")
    med = {}
    for name, rows in results.items():
        seconds = statistics.median(r[0] for r in rows)
        tokens = statistics.median(r[1] for r in rows)
        med[name] = (seconds, tokens)
        print(f"{name:16} {seconds:9.2f}s {tokens:8,.0f} {sum(r[2] for r in rows):>4}/{len(rows)}")
    (rs, rt), (as_, at), (fs, _) = med["replay"], med["agent"], med["playwright floor"]
    print(f"ratio (agent / replay): wall time {as_ / rs:.2f}x, tokens "
          + (f"{at / rt:.1f}x" if rt else f"{at:,.0f} vs 0 (the replay asks no model)"))
    print(f"ratio (agent / playwright floor): wall time {as_ / fs:.2f}x (the most any replay could reach); "
          f"replay / floor {rs / fs:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=re.sub(r"\s+", " ", (__doc__ or "").split("\n\n")[0]))
    parser.add_argument("--runs", type=int, default=3)
    try:
        asyncio.run(main(parser.parse_args().runs))
    finally:
        shutil.rmtree(RUNS, ignore_errors=True)
