"""Fixtures for teach-by-demonstration: each demonstration is recorded once per session
(driven with Playwright's real input events on the practice sites, in the shared
browser) and learned; replays run in fresh contexts of the same browser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from skills_helpers import Learned

from operator_agent.skills.format import shipped_dir
from operator_agent.skills.library import SkillLibrary
from operator_bench import demonstrations as demo
from operator_bench.sites import PracticeSites

PAGES = Path(__file__).parent / "pages"


async def _learn(practice_sites: PracticeSites, browser_handle: object, tmp: Path, name: str, url: str,
                 task: str, demonstrate: object) -> Learned:
    browser = browser_handle.browser  # type: ignore[attr-defined]
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    chosen: list[object] = []

    async def run(page: object) -> None:
        chosen.append(await demonstrate(page))  # type: ignore[operator]

    try:
        await demo.record(context, tmp / "recordings" / name, name=name, start_url=url, task=task,
                          demonstrate=run)
    finally:
        await context.close()
    path = tmp / "skills" / f"{name}.yaml"
    skill = demo.learn(tmp / "recordings" / name, path)
    return Learned(tmp / "recordings" / name, skill, path, str(chosen[0]))


@pytest_asyncio.fixture(scope="session")
async def shop_learned(practice_sites: PracticeSites, browser_handle: object,
                       tmp_path_factory: pytest.TempPathFactory) -> Learned:
    practice_sites.reset()
    practice_sites.configure(newsletter_delay_ms=-1)
    tmp = tmp_path_factory.mktemp("shop-demo")
    url = practice_sites.shop_url + "/"
    return await _learn(practice_sites, browser_handle, tmp, "buy-usb-cable", url, demo.SHOP_TASK,
                        lambda page: demo.buy_usb_cable(page, url))


@pytest_asyncio.fixture(scope="session")
async def flight_learned(practice_sites: PracticeSites, browser_handle: object,
                         tmp_path_factory: pytest.TempPathFactory) -> Learned:
    practice_sites.reset()
    practice_sites.configure(slow_ms=0)
    tmp = tmp_path_factory.mktemp("flight-demo")
    url = practice_sites.flights_url + "/"
    day = demo.next_month_day()
    return await _learn(practice_sites, browser_handle, tmp, "book-flight", url, demo.flight_task(day),
                        lambda page: demo.book_flight(page, url, day=day))


@pytest.fixture
def shipped() -> SkillLibrary:
    return SkillLibrary([shipped_dir()])


@pytest_asyncio.fixture
async def fresh_context(browser_handle: object) -> AsyncIterator[object]:
    browser = browser_handle.browser  # type: ignore[attr-defined]
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    await ctx.close()


@pytest.fixture(scope="session")
def skill_pages() -> object:
    """tests/skills/pages on 127.0.0.1."""
    from operator_agent.localserver import LocalServer

    with LocalServer(PAGES) as server:
        yield server
