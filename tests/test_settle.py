"""After an action the executor waits for what the action caused, on evidence: a debounced
search's timer, its slow request and the request that one starts, a link, a navigation a
moment later, a form post, content added in chunks. Each check reads the page the moment
perform() returns, without waiting: what was not waited for is not there yet."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from operator_agent.localserver import LocalServer, Request, Response
from operator_agent.session import BrowserSession
from operator_agent.types import Click, Press, Type
from operator_bench.testing.script import find_index

PAGES = Path(__file__).parent / "pages" / "settle"
ARRIVED = "location.pathname + ' ' + !!document.getElementById('made')"  # the next page, drawn


def _slow(req: Request) -> Response:
    # A slow server, not a synchronisation: the page waits on it, and so must the executor.
    time.sleep(int(req.query.get("ms", ["0"])[0]) / 1000)
    return Response(json.dumps({"q": req.query.get("q", [""])[0]}), content_type="application/json")


@pytest.fixture(scope="module")
def site() -> Iterator[LocalServer]:
    with LocalServer(PAGES, routes={"/slow": _slow}) as server:
        yield server


@pytest.fixture
async def env(context: Any, site: LocalServer) -> BrowserSession:
    session = BrowserSession(context)
    await session.goto(site.url("/settle.html"))
    return session


async def _now(env: BrowserSession, js: str) -> Any:
    """The page's state right now (evaluate does not wait for anything to appear)."""
    page = await env.executor.ensure_page()
    return await page.evaluate(js)


async def _do(env: BrowserSession, make: Any) -> None:
    obs = await env.observe()
    result = await env.perform(make(obs.text), obs)
    assert result.ok, result.error


async def test_a_debounced_search_its_requests_and_its_results(env: BrowserSession) -> None:
    await _do(env, lambda text: Type(index=find_index(text, "Search", "textbox"), text="cable"))
    items = await _now(env, "[...document.querySelectorAll('#results li')].map(li => li.textContent)")
    assert items == ["result cable", "result cable!"]


async def test_a_link_a_later_navigation_and_a_form(env: BrowserSession, site: LocalServer) -> None:
    await _do(env, lambda text: Click(index=find_index(text, "Plain link")))
    assert await _now(env, ARRIVED) == "/second.html true"

    await env.goto(site.url("/settle.html"))  # a javascript: link runs its code a task later
    await _do(env, lambda text: Click(index=find_index(text, "Script link")))
    assert await _now(env, ARRIVED) == "/second.html true"

    await env.goto(site.url("/settle.html"))
    await _do(env, lambda text: Click(index=find_index(text, "Go in a moment")))
    assert await _now(env, ARRIVED) == "/second.html true"

    await env.goto(site.url("/settle.html"))
    await _do(env, lambda text: Type(index=find_index(text, "Query", "textbox"), text="usb", submit=True))
    assert await _now(env, "location.pathname + location.search") == "/second.html?q=usb"


async def test_content_added_in_chunks(env: BrowserSession) -> None:
    await _do(env, lambda text: Click(index=find_index(text, "Load in chunks")))
    assert await _now(env, "document.getElementById('out').textContent") == "chunk 1chunk 2chunk 3"


async def test_a_page_that_never_goes_quiet_still_lets_the_run_go_on(env: BrowserSession) -> None:
    await _do(env, lambda text: Click(index=find_index(text, "Start the clock")))
    assert int(await _now(env, "document.getElementById('clock').textContent")) > 0
    # The next action on the ticking page is performed as usual (the waits are capped).
    await _do(env, lambda text: Type(index=find_index(text, "Search", "textbox"), text="hdmi"))
    assert "result hdmi" in await _now(env, "document.getElementById('results').textContent")
    await _do(env, lambda text: Press(keys="Tab"))


async def test_string_timers_and_the_pages_own_timers_still_work(env: BrowserSession) -> None:
    # The tracker wraps setTimeout: code given as a string, extra arguments and clearTimeout
    # behave as the page expects.
    js = """() => new Promise(resolve => {
      window.hits = [];
      setTimeout("window.hits.push('string')", 0);
      const cancelled = setTimeout(() => window.hits.push('cancelled'), 0);
      clearTimeout(cancelled);
      const every = setInterval(n => { window.hits.push('tick ' + n); clearInterval(every); }, 1, 1);
      setTimeout((a, b) => { window.hits.push(a + b); resolve(window.hits); }, 30, 'ar', 'gs');
    })"""
    page = await env.executor.ensure_page()
    assert await page.evaluate(js) == ["string", "tick 1", "args"]


async def test_a_click_waits_for_what_covers_its_element(env: BrowserSession) -> None:
    """A click by index goes straight to the element only when nothing covers it; here
    Playwright's click waits for the cover to go, and the button, not the cover, is hit."""
    assert await _now(env, "!!document.getElementById('cover')")
    await _do(env, lambda text: Click(index=find_index(text, "Covered button")))
    assert await _now(env, "document.getElementById('hit').textContent") == "button "
