"""Every action against real pages: a failure is an error for the model, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_agent.session import BrowserSession
from operator_agent.types import (
    Back,
    Click,
    CloseTab,
    Navigate,
    Observation,
    Press,
    Scroll,
    Select,
    SwitchTab,
    Type,
    Upload,
    Wait,
)
from operator_bench.testing.script import find_index


@pytest.fixture
async def env(context, pages_server) -> BrowserSession:
    session = BrowserSession(context)
    await session.goto(pages_server.url("/executor/actions.html"))
    return session


def idx(obs: Observation, name: str) -> int:
    return find_index(obs.text, name)


async def test_navigate_and_back(env: BrowserSession, pages_server) -> None:
    obs = await env.observe()
    r = await env.perform(Click(index=idx(obs, "Go to the second page")), obs)
    assert r.ok and r.target is not None and r.target.name == "Go to the second page"
    obs = await env.observe()
    assert obs.title == "Second" and "You made it." in obs.text
    r = await env.perform(Back(), obs)
    assert r.ok and (await env.observe()).title == "Actions"
    r = await env.perform(Navigate(url=pages_server.url("/executor/second.html")), obs)
    assert r.ok and (await env.observe()).title == "Second"


async def test_unreachable_navigation_is_an_error_for_the_model(env: BrowserSession) -> None:
    obs = await env.observe()
    r = await env.perform(Navigate(url="http://127.0.0.1:1/"), obs)
    assert not r.ok and "could not open http://127.0.0.1:1/" in (r.error or "")


async def test_new_tab_is_followed_then_switched_and_closed(env: BrowserSession) -> None:
    obs = await env.observe()
    r = await env.perform(Click(index=idx(obs, "Open in a new tab")), obs)
    assert r.ok
    obs = await env.observe()
    assert obs.title == "Second" and len(obs.tabs) == 2 and obs.tabs[1].active
    assert (await env.perform(SwitchTab(tab=0), obs)).ok
    assert (await env.observe()).title == "Actions"
    r = await env.perform(SwitchTab(tab=5), obs)
    assert not r.ok and "no tab 5" in (r.error or "")
    assert (await env.perform(CloseTab(tab=1), obs)).ok
    obs = await env.observe()
    assert obs.title == "Actions" and len(obs.tabs) <= 1


async def test_type_and_press_enter(env: BrowserSession, context) -> None:
    obs = await env.observe()
    assert (await env.perform(Type(index=idx(obs, "Search"), text="usb-c cable", submit=True), obs)).ok
    assert "searched usb-c cable" in (await env.observe()).text
    assert (await env.perform(Type(index=idx(obs, "Search"), text=" 2m", clear=False), obs)).ok
    assert (await env.perform(Press(keys="Enter"), obs)).ok
    assert "searched usb-c cable 2m" in (await env.observe()).text


async def test_select_by_label_and_a_clear_error_for_a_missing_option(env: BrowserSession, context) -> None:
    obs = await env.observe()
    size = idx(obs, "Size")
    assert (await env.perform(Select(index=size, option="Large"), obs)).ok
    assert await context.pages[0].locator("#size").input_value() == "Large"
    r = await env.perform(Select(index=size, option="Huge"), obs)
    assert not r.ok and "no option 'Huge'" in (r.error or "") and "'Medium'" in (r.error or "")
    r = await env.perform(Select(index=idx(obs, "Search"), option="x"), obs)
    assert not r.ok and "not a select" in (r.error or "")


async def test_upload(env: BrowserSession, context, tmp_path: Path) -> None:
    doc = tmp_path / "invoice.pdf"
    doc.write_bytes(b"%PDF-1.4\n")
    obs = await env.observe()
    assert (await env.perform(Upload(index=idx(obs, "Attachment"), path=str(doc)), obs)).ok
    names = await context.pages[0].locator("#file").evaluate("el => [...el.files].map(f => f.name)")
    assert names == ["invoice.pdf"]
    r = await env.perform(Upload(index=idx(obs, "Attachment"), path=str(tmp_path / "nope.pdf")), obs)
    assert not r.ok and "no such file" in (r.error or "")


async def test_element_gone_since_the_observation(env: BrowserSession) -> None:
    obs = await env.observe()
    vanish = idx(obs, "Remove me")
    assert (await env.perform(Click(index=vanish), obs)).ok
    r = await env.perform(Click(index=vanish), obs)  # stale: the button is gone
    assert not r.ok and r.error


async def test_scroll_brings_far_elements_into_the_list(env: BrowserSession) -> None:
    obs = await env.observe()
    assert "At the bottom" not in obs.text.split("below")[0] or not any(
        e.name == "At the bottom" for e in obs.elements)
    assert (await env.perform(Scroll(direction="down", pages=4), obs)).ok
    obs = await env.observe()
    assert any(e.name == "At the bottom" for e in obs.elements)


async def test_settle_waits_for_the_page_after_a_click(env: BrowserSession) -> None:
    obs = await env.observe()
    assert (await env.perform(Click(index=idx(obs, "Load later")), obs)).ok
    obs = await env.observe()
    # The DOM-quiet wait covers a 300 ms timer only if asked to wait; Wait lets the model ask.
    if "loaded" not in obs.text:
        assert (await env.perform(Wait(seconds=2), obs)).ok
        obs = await env.observe()
    assert "loaded" in obs.text


async def test_an_action_the_page_never_finishes_fails_at_the_cap_instead_of_hanging(
        env: BrowserSession) -> None:
    # A long wait on a page that never changes stands for any action stuck on the page.
    env.executor.settle_options.whole_action_cap = 200
    obs = await env.observe()
    result = await env.perform(Wait(seconds=10), obs)
    assert not result.ok and result.error == "the page did not finish the wait within 0.2 s"
