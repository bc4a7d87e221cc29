"""A click on an element inside a frame is checked on arrival (executors/frame_click.py).

The pages move the frame when the mouse comes over it, so the press lands on the page
around it, as Chromium does when it routes the mouse by an old picture of the frame:
Playwright's click returns either way, and only the documents can tell."""

from __future__ import annotations

from operator_agent.session import BrowserSession
from operator_agent.types import Click
from operator_bench.testing.script import find_index


async def _open(context, pages_server, moves: str) -> tuple[BrowserSession, object]:
    session = BrowserSession(context)
    await session.goto(pages_server.url(f"/frame_click/parent.html?moves={moves}"))
    page = session.executor.page
    inner = page.frame_locator("#inner")
    await inner.locator("#pay").wait_for()
    return session, inner


async def _outcome(session: BrowserSession, inner, name: str) -> tuple[object, str, str]:
    obs = await session.observe()
    result = await session.perform(Click(index=find_index(obs.text, name)), obs)
    page = session.executor.page
    return result, await inner.locator("#paid").inner_text(), await page.locator("#log").inner_text()


async def test_a_still_frame_is_clicked_once_without_a_note(context, pages_server) -> None:
    session, inner = await _open(context, pages_server, "")
    result, paid, around = await _outcome(session, inner, "Pay $5.00")
    assert result.ok and paid == "paid 1" and around == "around:"
    assert result.detail.endswith("]")  # "clicked [n]": nothing to report


async def test_a_press_that_lands_around_the_frame_is_made_again(context, pages_server) -> None:
    session, inner = await _open(context, pages_server, "1")
    result, paid, around = await _outcome(session, inner, "Pay $5.00")
    assert around != "around:"  # the first press did land on the page around the frame
    assert result.ok and paid == "paid 1", result.detail  # and the button was clicked, once
    assert "clicked again" in result.detail


async def test_a_button_the_mouse_keeps_missing_is_pressed_with_the_keyboard(context, pages_server) -> None:
    session, inner = await _open(context, pages_server, "always")
    result, paid, around = await _outcome(session, inner, "Pay $5.00")
    assert len(around.split()) == 3  # "around:" and both presses
    assert result.ok and paid == "paid 1" and "pressed Enter" in result.detail


async def test_anything_else_the_mouse_keeps_missing_is_reported_not_clicked(context, pages_server) -> None:
    session, inner = await _open(context, pages_server, "always")
    result, paid, _ = await _outcome(session, inner, "Pick this tile")
    assert not result.ok and paid == "nothing yet"
    assert "not clicked" in (result.error or "") and "around its frame" in (result.error or "")


async def test_a_click_no_document_saw_is_made_again(context, pages_server) -> None:
    session, inner = await _open(context, pages_server, "eat")
    result, paid, around = await _outcome(session, inner, "Pay $5.00")
    assert around == "around:"  # not the page around: nobody saw the first click
    assert result.ok and paid == "paid 1" and "reached no document" in result.detail
