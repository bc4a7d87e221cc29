"""Skills carry dates as dates: a recorded "Next month" step goes to the month of the
date it is given, forward or back, any distance, across years, whatever month the
calendar opens on. The page's calendar opens on a fixed month, so nothing here
depends on today's date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from operator_agent.skills.format import Expect, Param, Skill, Step, Target
from operator_agent.skills.run import run_skill


def calendar_skill(origin: str) -> Skill:
    """As `operator learn` writes it from a demonstration that clicked "Next month" twice."""
    return Skill(
        name="pick-day", description="Pick {day}", site=origin, start_url=origin + "/calendar.html",
        parameters={"day": Param(type="date", example="2031-08-14")},
        steps=[
            Step(id=1, intent='Click "Next month" (as often as needed)', action="click", repeat=True,
                 target=Target(role="button", name="Next month", text="›", id="next", tag="button")),
            Step(id=2, intent='Click "{day:%A, %-d %B %Y}"', action="click",
                 target=Target(role="button", name="{day:%A, %-d %B %Y}", tag="button", classes=["day"]),
                 expect=Expect(text="Picked {day}")),
        ])


async def _pick(skill_pages: Any, context: Any, tmp_path: Path, day: str, query: str = "") -> Any:
    skill = calendar_skill(skill_pages.origin)
    url = skill_pages.url("/calendar.html" + query)
    return await run_skill(skill, {"day": day}, url=url, context=context, perms=None, runs_dir=tmp_path)


@pytest.mark.parametrize(("day", "months"), [
    ("2033-01-15", 19),  # forward, across two new years
    ("2030-11-03", 7),  # back, across a new year, with only "Next month" recorded
    ("2031-06-30", 0),  # the month it opens on
])
async def test_calendar_step_goes_to_the_month_of_the_date_given(
        skill_pages: Any, fresh_context: Any, tmp_path: Path, day: str, months: int) -> None:
    run = await _pick(skill_pages, fresh_context, tmp_path, day)
    assert run.result.success, run.result.message
    page = fresh_context.pages[0]
    assert await page.locator("#picked").text_content() == f"Picked {day}"
    assert await page.locator("#moves").text_content() == str(months)  # straight there, never past it


async def test_calendar_opening_elsewhere_changes_nothing(skill_pages: Any, fresh_context: Any,
                                                         tmp_path: Path) -> None:
    run = await _pick(skill_pages, fresh_context, tmp_path, "2029-02-28", "?open=2033-12")
    assert run.result.success, run.result.message
    assert await fresh_context.pages[0].locator("#picked").text_content() == "Picked 2029-02-28"


async def test_a_date_the_calendar_cannot_reach_ends_the_run_saying_so(
        skill_pages: Any, fresh_context: Any, tmp_path: Path) -> None:
    run = await _pick(skill_pages, fresh_context, tmp_path, "2036-03-01")
    assert not run.result.success
    message = run.result.answer or ""
    assert "December 2034" in message and "March 2036" in message and "range" in message, message
    assert await fresh_context.pages[0].locator("#picked").text_content() == "Nothing picked"
