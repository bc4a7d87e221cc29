"""Pixel actions in the browser: click, double and right click, type, drag, hover and scroll at
viewport pixels (the screenshot's), and a page that changed under the point is refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.async_api import expect

from operator_agent.session import BrowserSession
from operator_agent.types import ClickAt, Drag, MoveMouse, Observation, Scroll, TypeAt

# tests/pages/executor/pixels.html: the canvas's drawing area starts at (21, 21) (a 1px border).
CANVAS = 21


@pytest.fixture
async def env(context, pages_server) -> BrowserSession:
    session = BrowserSession(context)
    await session.goto(pages_server.url("/executor/pixels.html"))
    return session


async def said(env: BrowserSession, text: str) -> None:
    page = await env.executor.ensure_page()
    await expect(page.locator("#log")).to_have_text(text)


async def test_the_screenshot_pixels_are_the_viewport_pixels(env: BrowserSession) -> None:
    obs = await env.observe(screenshot=True)
    assert obs.screenshot is not None
    page = await env.executor.ensure_page()
    assert Image.open(io.BytesIO(obs.screenshot)).size == (page.viewport_size["width"],
                                                           page.viewport_size["height"])
    canvas = next(e for e in obs.elements if e.attributes.get("id") == "board")
    assert canvas.bbox is not None and (canvas.bbox.x, canvas.bbox.y) == (20, 20)


async def test_click_double_and_right_click_at_a_point(env: BrowserSession) -> None:
    obs = await env.observe()
    r = await env.perform(ClickAt(x=CANVAS + 50, y=CANVAS + 30), obs)
    assert r.ok and r.detail == "clicked at (71, 51)"
    assert r.target is not None and r.target.attributes.get("id") == "board"  # the element under it
    await said(env, "canvas click 50,30")
    assert (await env.perform(ClickAt(x=CANVAS + 7, y=CANVAS + 9, double=True), obs)).ok
    await said(env, "canvas double 7,9")
    assert (await env.perform(ClickAt(x=CANVAS + 100, y=CANVAS + 100, button="right"), obs)).ok
    await said(env, "canvas right 100,100")


async def test_modifier_keys_are_held_during_a_click_or_a_drag(env: BrowserSession) -> None:
    obs = await env.observe()
    r = await env.perform(ClickAt(x=CANVAS + 50, y=CANVAS + 30, hold="ctrl+shift"), obs)
    assert r.ok and r.detail == "clicked at (71, 51) holding Control+Shift"
    await said(env, "canvas click 50,30 holding shift+ctrl")
    assert (await env.perform(Drag(from_x=440, from_y=40, to_x=540, to_y=140, hold="Alt"), obs)).ok
    await said(env, "box at 520,120 holding alt")
    # And released afterwards: the next click holds nothing.
    assert (await env.perform(ClickAt(x=CANVAS + 1, y=CANVAS + 2), obs)).ok
    await said(env, "canvas click 1,2")


async def test_type_at_a_point(env: BrowserSession) -> None:
    obs = await env.observe()
    # Keys to a canvas: it has the focus after the click, and nothing there is cleared.
    assert (await env.perform(TypeAt(x=CANVAS + 5, y=CANVAS + 5, text="abc"), obs)).ok
    await said(env, "canvas keys abc")
    # A field no element stands for: clicked, what it held replaced.
    page = await env.executor.ensure_page()
    await page.locator("#free").fill("old text")
    r = await env.perform(TypeAt(x=430, y=205, text="new text"), obs)
    assert r.ok and r.detail == "typed 8 characters at (430, 205)"
    await expect(page.locator("#free")).to_have_text("new text")
    # The caret goes where the click is: right of the text, so this is added at the end.
    assert (await env.perform(TypeAt(x=600, y=205, text=" more", clear=False), obs)).ok
    await expect(page.locator("#free")).to_have_text("new text more")


async def test_drag_hover_and_scroll_at_a_point(env: BrowserSession) -> None:
    obs = await env.observe()
    r = await env.perform(Drag(from_x=440, from_y=40, to_x=540, to_y=140), obs)
    assert r.ok and r.detail == "dragged from (440, 40) to (540, 140)"
    await said(env, "box at 520,120")
    assert (await env.perform(MoveMouse(x=480, y=135), obs)).ok
    await said(env, "hovered")
    page = await env.executor.ensure_page()
    assert (await env.perform(Scroll(x=800, y=100, direction="down"), obs)).ok
    await expect(page.locator("#scroller")).not_to_have_js_property("scrollTop", 0)
    assert await page.evaluate("scrollY") == 0  # the box under the point scrolled, not the page
    # A drag whose ends are elements: from their centres.
    ok = next(e for e in obs.elements if e.name == "OK")
    assert (await env.perform(Drag(from_index=ok.index, to_x=800, to_y=300), obs)).ok


async def test_points_outside_the_viewport_are_an_error_for_the_model(env: BrowserSession) -> None:
    obs = await env.observe()
    for action in (ClickAt(x=1280, y=10), TypeAt(x=5, y=-1, text="x"), MoveMouse(x=2000, y=2000),
                   Drag(from_x=5, from_y=5, to_x=5, to_y=900), Drag(from_x=5, from_y=5)):
        r = await env.perform(action, obs)
        assert not r.ok and ("outside the 1280x800 viewport" in (r.error or "")
                             or "to_index or both to_x and to_y" in (r.error or "")), action


async def test_a_page_changed_under_the_point_is_refused(env: BrowserSession) -> None:
    obs: Observation = await env.observe()
    later = next(e for e in obs.elements if e.name == "Later")
    assert later.bbox is not None
    x, y = round(later.bbox.x + 10), round(later.bbox.y + 10)
    page = await env.executor.ensure_page()
    await page.evaluate("swap()")  # "OK" now sits where "Later" was seen
    r = await env.perform(ClickAt(x=x, y=y), obs)
    assert not r.ok and '"OK" is now at' in (r.error or "") and "nothing was done" in (r.error or "")
    await expect(page.locator("#log")).to_have_text("")
    # Looked at again, the point is where OK is, and clicking it is clicking OK.
    obs = await env.observe()
    assert (await env.perform(ClickAt(x=x, y=y), obs)).ok
    await said(env, "ok clicked")


async def test_points_inside_a_cross_origin_frame(context, pages_server, other_origin_server) -> None:
    env = BrowserSession(context)
    await env.goto(pages_server.url(f"/permissions/checkout.html?pay={other_origin_server.origin}"))
    page = await env.executor.ensure_page()
    frame = page.frame_locator("#payment-frame")
    await expect(frame.locator("#pay-button")).to_be_enabled()
    obs = await env.observe()
    number = next(e for e in obs.elements if e.name == "Card number")
    assert number.bbox is not None and number.frame.startswith(other_origin_server.origin)
    x, y = (round(v) for v in number.bbox.center)
    r = await env.perform(ClickAt(x=x, y=y), obs)
    assert r.ok and r.target is not None and r.target.index == number.index
    await expect(frame.locator("#card-number")).to_be_focused()
    # The frame moved over a point that showed nothing: not clicked, whatever is in it now.
    await page.locator("#payment-frame").evaluate(
        "f => Object.assign(f.style, {position: 'fixed', right: '0px', bottom: '0px'})")
    r = await env.perform(ClickAt(x=1270, y=790), obs)
    assert not r.ok and "now inside the frame of localhost" in (r.error or "")


async def test_points_are_in_the_viewport_after_the_page_scrolled(env: BrowserSession) -> None:
    page = await env.executor.ensure_page()
    await page.evaluate("scrollTo(0, 150)")
    obs = await env.observe()
    ok = next(e for e in obs.elements if e.name == "OK")
    assert ok.bbox is not None and ok.bbox.y == 200 - 150  # boxes are where the screenshot shows them
    x, y = (round(v) for v in ok.bbox.center)
    assert (await env.perform(ClickAt(x=x, y=y), obs)).ok
    await said(env, "ok clicked")
