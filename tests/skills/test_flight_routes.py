"""The shipped book-flight skill on other routes of the normal flight site (issue 11).

Chicago to Rome with site seed 5 has no nonstop flight: every itinerary connects, so the
seat page shows a seat map per flight, where the demonstration (New York to Lisbon,
nonstop) had one. The replay chooses a seat on each, as the site requires."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from skills_helpers import CARD

from operator_agent.builder import permissions
from operator_agent.skills.library import SkillLibrary
from operator_agent.skills.run import run_skill
from operator_agent.skills.values import resolve
from operator_bench.sites import PracticeSites

# As `--without-asking payment --max-purchase 5000 --max-daily 5000`: nobody to ask.
UNATTENDED = {"without_asking": ["payment"], "max_purchase": 5000, "max_daily": 5000}


@pytest.fixture(scope="module")
def seed5_sites() -> Iterator[PracticeSites]:
    # The shared practice sites are seed 0; this route's schedule is seed 5's.
    with PracticeSites(seed=5) as sites:
        yield sites


def departure() -> dt.date:
    # A few days after the site's own today (it checks dates against date.today()): inside the
    # booking window whatever the day; near a month's end the calendar goes to the next month.
    return dt.date.today() + dt.timedelta(days=3)


async def test_shipped_skill_books_chicago_to_rome_with_a_seat_on_each_flight(
        seed5_sites: PracticeSites, fresh_context: Any, shipped: SkillLibrary, tmp_path: Path) -> None:
    seed5_sites.reset()
    day = departure()
    skill = shipped.get("book-flight").skill
    values = resolve(skill, {"from": "Chicago", "to": "Rome", "departure_date": day.isoformat(),
                             "first_name": "Ada", "last_name": "Lovelace",
                             "email_address": "ada@example.com", **CARD})
    perms = permissions(run_id="chicago-rome", interactive=False, overrides=UNATTENDED)
    run = await run_skill(skill, values, url=seed5_sites.flights_url + "/", context=fresh_context,
                          perms=perms, runs_dir=tmp_path)
    assert run.result.success, run.result.answer
    state = seed5_sites.state("flights")
    assert state["seed"] == 5
    (b,) = state["bookings"]
    assert (b["origin"], b["destination"], b["date"], b["stops"]) == ("ORD", "FCO", day.isoformat(), 1)
    # The demonstration chose the first free aisle seat on its one flight: here on both.
    assert len(b["segments"]) == 2
    assert [s["seat_types"] for s in b["segments"]] == [["aisle"], ["aisle"]]
    assert b["passengers"] == [{"first_name": "Ada", "last_name": "Lovelace"}]
    assert b["contact"]["email"] == "ada@example.com"
    assert b["payment"]["last4"] == "4242" and b["reference"] in (run.result.answer or "")
