"""The observation's window on real Chromium: subtrees wholly off-window are counted,
not walked, without losing what shows (fixed elements) or what the summary says; and
closed shadow roots are seen and acted in through the real executor."""

from __future__ import annotations

import io

from PIL import Image
from playwright.async_api import expect

from operator_agent.perception.browser import DomPerceiver, walker_source
from operator_agent.session import BrowserSession
from operator_agent.types import Click, Element, Observation, Type


def by_name(obs: Observation, name: str) -> Element:
    found = [e for e in obs.elements if e.name == name]
    assert found, f"no element named {name!r} in:\n{obs.text}"
    return found[0]


def below(obs: Observation) -> str:
    lines = [line for line in obs.text.splitlines() if line.startswith("... ") and "below" in line]
    assert len(lines) == 1, obs.text
    return lines[0]


# --- skipping what is off-window -------------------------------------------------------


async def test_fixed_controls_inside_a_far_section_are_listed(page, pages_server) -> None:
    await page.goto(pages_server.url("/perception/far.html"))
    obs = await DomPerceiver().observe(page)
    assert by_name(obs, "Chat with us").in_viewport  # class rule position:fixed
    assert by_name(obs, "Inline help").in_viewport  # inline style
    assert "Far buy" not in {e.name for e in obs.elements}
    assert "Far heading" not in obs.text


async def test_far_summary_counts_what_shows_and_is_enabled(page, pages_server) -> None:
    await page.goto(pages_server.url("/perception/far.html"))
    line = below(await DomPerceiver().observe(page))
    # Far buy x2, Inner far button, Last far button; a link. Not: the disabled button,
    # the display:none menu, the aria-hidden button, the clickable div holding a button.
    assert line.startswith("... 5 more below (scroll down): "), line
    assert '4 buttons (2 "Far buy")' in line
    assert "1 link" in line
    assert "Menu" not in line and "Muted" not in line


async def test_far_summary_is_the_same_as_walking_everything(page, pages_server) -> None:
    """The count of skipped subtrees (far.js) agrees with the walk it replaces: the same
    page walked whole (skipping turns off when a style sheet cannot be read) gives the
    same items and the same summary."""
    await page.goto(pages_server.url("/perception/long.html"))
    args = {"gen": "g0", "margin": 1.0, "maxName": 80, "maxText": 160, "maxOptions": 20, "top": True,
            "ox": 0, "oy": 0, "vw": 0, "vh": 0, "stamp": "g0f0e"}
    skipped = await page.evaluate(f"(a) => JSON.parse(({walker_source()})(a))", args)
    # A cross-origin-like unreadable sheet turns skipping off: emulate by a sheet that throws.
    walked = await page.evaluate(
        "(a) => { Object.defineProperty(CSSStyleSheet.prototype, 'cssRules', "
        "{ get() { throw new DOMException('no', 'SecurityError'); } });"
        "document.head.append(Object.assign(document.createElement('style'), {textContent: 'p{}'}));"
        f"return JSON.parse(({walker_source()})(a)); }}", args)
    assert skipped["n"] < walked["n"] / 2  # far fewer nodes visited
    assert skipped["f"] == walked["f"]
    assert skipped["i"] == walked["i"]


async def test_a_long_page_is_counted_so_far_and_then_said_to_hold_more(page, pages_server) -> None:
    """Past 250 controls one way the summary stops counting (the count would cost what the
    whole document holds) and says so with "+"."""
    await page.goto(pages_server.url("/perception/long.html"))
    line = below(await DomPerceiver().observe(page))
    assert line.startswith("... 250+ more below (scroll down): "), line
    assert '250 buttons (125 "Add to cart"' in line  # of the first 250: every other one
    await page.evaluate("() => [...document.querySelectorAll('.item')].slice(40).forEach(el => el.remove())")
    line = below(await DomPerceiver().observe(page))
    assert "+" not in line.split(" more ")[0], line  # few enough to count: exact again


# --- closed shadow roots ----------------------------------------------------------------


async def test_closed_shadow_root_controls_are_listed_clicked_and_typed_into(context, pages_server) -> None:
    env = BrowserSession(context)
    await env.goto(pages_server.url("/perception/closed_shadow.html"))
    page = await env.executor.ensure_page()
    obs = await env.observe()
    button = by_name(obs, "Closed button")
    nick = by_name(obs, "Nickname")
    assert button.role == "button" and nick.role == "textbox"
    assert "## Hidden heading" in obs.text

    typed = await env.perform(Type(index=nick.index, text="Ada"), obs)
    assert typed.ok, typed.error
    clicked = await env.perform(Click(index=button.index), obs)
    assert clicked.ok, clicked.error
    await expect(page.locator("#log")).to_have_text("closed clicked: Ada")
    assert by_name(await env.observe(), "Nickname").value == "Ada"


async def test_closed_shadow_root_stale_index_fails_instead_of_acting(context, pages_server) -> None:
    env = BrowserSession(context)
    await env.goto(pages_server.url("/perception/closed_shadow.html"))
    page = await env.executor.ensure_page()
    obs = await env.observe()
    await page.evaluate("() => document.querySelector('closed-form').remove()")
    result = await env.perform(Click(index=by_name(obs, "Closed button").index), obs)
    assert not result.ok and "no longer on the page" in (result.error or "")


async def test_closed_shadow_root_secret_field_is_masked_in_pictures(context, pages_server) -> None:
    env = BrowserSession(context)
    await env.goto(pages_server.url("/perception/closed_shadow.html"))
    page = await env.executor.ensure_page()
    await page.evaluate("""() => { const host = document.createElement('div');
        const root = host.attachShadow({mode: 'closed'});
        root.innerHTML = '<label>Password <input type=password value=hunter2 '
          + 'style="width:300px;height:40px;background:#fff"></label>';
        document.body.prepend(host); }""")
    obs = await env.observe(screenshot="jpeg")
    secret = by_name(obs, "Password")
    assert secret.sensitive and secret.bbox is not None
    shot = Image.open(io.BytesIO(obs.screenshot or b"")).convert("L")
    box = secret.bbox
    assert shot.getpixel((int(box.x + box.width / 2), int(box.y + box.height / 2))) < 24
