"""The browser perception layer on real Chromium: what is listed, what is hidden,
what never leaks, and that an index acts on exactly its element."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.async_api import expect

from operator_agent.perception.browser import DomPerceiver
from operator_agent.perception.marks import draw_marks
from operator_agent.perception.serialize import element_line
from operator_agent.protocols import ActionError
from operator_agent.types import BBox, Element, Observation


def by_name(obs: Observation, name: str, role: str | None = None) -> Element:
    found = [e for e in obs.elements if e.name == name and (role is None or e.role == role)]
    assert found, f"no element named {name!r} in:\n{obs.text}"
    return found[0]


def names(obs: Observation) -> set[str]:
    return {e.name for e in obs.elements}


async def open_page(page, server, path: str) -> None:
    await page.goto(server.url(path))


async def open_frames(page, pages_server, other_origin_server) -> None:
    await page.goto(pages_server.url(f"/perception/frames.html?other={other_origin_server.origin}"))
    await expect(page.frame_locator("#same").locator("#pay")).to_be_visible()
    await expect(page.frame_locator("#cross").locator("#pay")).to_be_visible()


# --- frames and shadow roots -----------------------------------------------------


async def test_same_origin_iframe_elements_are_listed_and_typed_into(page, pages_server,
                                                                     other_origin_server) -> None:
    await open_frames(page, pages_server, other_origin_server)
    perceiver = DomPerceiver()
    obs = await perceiver.observe(page)
    holder = next(e for e in obs.elements if e.name == "Name on card" and "where=same" in e.frame)
    assert holder.frame.startswith(pages_server.origin)
    assert "frame=" in holder.locator

    await perceiver.target(holder.index).locator.fill("Ada Same")
    inner = page.frame_locator("#same")
    await expect(inner.locator("#holder")).to_have_value("Ada Same")

    # Boxes are in top-level viewport coordinates: the iframe's content box plus the
    # element's position inside the frame.
    frame = next(f for f in page.frames if "where=same" in f.url)
    local = await frame.evaluate("() => { const r = document.getElementById('holder')"
                                 ".getBoundingClientRect(); return [r.x, r.y] }")
    box = await page.evaluate("""() => { const e = document.getElementById('same');
        const r = e.getBoundingClientRect(); const cs = getComputedStyle(e);
        return [r.x + e.clientLeft + parseFloat(cs.paddingLeft),
                r.y + e.clientTop + parseFloat(cs.paddingTop)] }""")
    assert holder.bbox is not None
    assert holder.bbox.x == pytest.approx(box[0] + local[0], abs=1)
    assert holder.bbox.y == pytest.approx(box[1] + local[1], abs=1)


async def test_cross_origin_iframe_elements_are_listed_and_acted_on(page, pages_server,
                                                                    other_origin_server) -> None:
    await open_frames(page, pages_server, other_origin_server)
    perceiver = DomPerceiver()
    obs = await perceiver.observe(page)
    cross = [e for e in obs.elements if "where=cross" in e.frame]
    assert {e.name for e in cross} >= {"Name on card", "Card number", "Pay now"}
    assert all(e.frame.startswith(other_origin_server.origin) for e in cross)
    main_button = by_name(obs, "Main button")
    assert main_button.frame == ""

    holder = next(e for e in cross if e.name == "Name on card")
    await perceiver.target(holder.index).locator.fill("Ada Cross")
    inner = page.frame_locator("#cross")
    await expect(inner.locator("#holder")).to_have_value("Ada Cross")
    pay = next(e for e in cross if e.name == "Pay now")
    await perceiver.target(pay.index).locator.click()
    await expect(inner.locator("#out")).to_have_text("paid by Ada Cross")
    # The card number inside the cross-origin frame is a secret too.
    assert "4111111111111111" not in obs.text
    assert "4111111111111111" not in obs.model_dump_json()


async def test_open_shadow_roots_nested_are_found_and_clicked(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/shadow.html")
    perceiver = DomPerceiver()
    obs = await perceiver.observe(page)
    assert {"Outer button", "Deep button", "Slotted link", "Quantity"} <= names(obs)
    assert "## Card title" in obs.text

    await perceiver.target(by_name(obs, "Deep button").index).locator.click()
    await expect(page.locator("#log")).to_have_text("deep clicked")
    await perceiver.target(by_name(obs, "Outer button").index).locator.click()
    await expect(page.locator("#log")).to_have_text("outer clicked")
    qty = by_name(obs, "Quantity")
    assert qty.value == "1"
    await perceiver.target(qty.index).locator.fill("3")
    value = await page.evaluate("() => document.querySelector('outer-card').shadowRoot"
                                ".querySelector('inner-widget').shadowRoot.getElementById('qty').value")
    assert value == "3"


# --- what is not listed ------------------------------------------------------------


async def test_hidden_and_disabled_elements_are_not_listed(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/hidden.html")
    obs = await DomPerceiver().observe(page)
    listed = names(obs)
    assert "Visible button" in listed
    for hidden in ("Display none button", "Inside display none", "Visibility hidden button",
                   "Inside opacity zero", "Opacity zero button", "Zero size button",
                   "Aria hidden button", "Inert button", "Disabled button", "Aria disabled button",
                   "Fieldset input", "Inside closed details", "Screen reader button", "Off canvas link"):
        assert hidden not in listed, f"{hidden} should not be listed:\n{obs.text}"
    for never_shown in ("Display none button", "Aria hidden button", "Inside closed details",
                        "Visibility hidden button", "Inside opacity zero"):
        assert never_shown not in obs.text
    assert "Disabled button (disabled)" in obs.text  # readable, but without an index
    assert not any(e.attributes.get("name") == "token" for e in obs.elements)


async def test_clickable_container_and_its_controls_are_not_listed_twice(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/hidden.html")
    obs = await DomPerceiver().observe(page)
    # The card (onclick, cursor:pointer) holds a link and a button: those are listed, not the card.
    assert by_name(obs, "Blue kettle").role == "link"
    assert by_name(obs, "Add to cart").role == "button"
    assert not any("Blue kettle" in e.name and e.role == "clickable" for e in obs.elements)
    assert "$19.99" in obs.text
    # A div-based dropdown (cursor:pointer, no role) is one clickable, its spans are not.
    dropdown = [e for e in obs.elements if e.name.startswith("Choose a colour")]
    assert len(dropdown) == 1 and dropdown[0].role == "clickable"
    assert by_name(obs, "Custom div button").role == "button"
    editor = by_name(obs, "Comment editor")
    assert editor.role == "textbox" and editor.value == "Hello world"
    assert by_name(obs, "More options").attributes.get("aria-expanded") == "false"


# --- names, values, secrets -------------------------------------------------------------


async def test_names_from_labels_aria_placeholder_and_nearby_text(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/form.html")
    obs = await DomPerceiver().observe(page)
    assert by_name(obs, "Email address").value == "a@b.c"  # <label for>
    assert by_name(obs, "Email address").attributes["type"] == "email"
    assert by_name(obs, "Full name").value == "Ada Lovelace"  # wrapping label
    assert by_name(obs, "Coupon code").role == "textbox"  # aria-label
    assert by_name(obs, "Phone number").attributes["name"] == "tel"  # aria-labelledby
    search = by_name(obs, "Search products")  # placeholder
    assert search.role == "searchbox" and search.placeholder == "Search products"
    assert by_name(obs, "Company").attributes["name"] == "company"  # nearby preceding text
    assert by_name(obs, "Close dialog").role == "button"  # title beats an icon glyph
    assert by_name(obs, "Help").role == "link"  # alt of the image inside
    assert by_name(obs, "Place order").role == "button"  # value of a submit input
    news = by_name(obs, "Send me news")
    assert news.role == "checkbox" and news.checked is True
    # A custom checkbox (its input made transparent) is reached through its label.
    terms = by_name(obs, "I accept the terms")
    assert terms.role == "checkbox" and terms.checked is False
    assert obs.text.splitlines()[0].startswith("url: ")
    assert "# Checkout" in obs.text and "Total: $42.50" in obs.text
    assert "! Your card was declined" in obs.text


async def test_custom_checkbox_is_checked_through_its_label(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/form.html")
    perceiver = DomPerceiver()
    obs = await perceiver.observe(page)
    await perceiver.target(by_name(obs, "I accept the terms").index).locator.click()
    await expect(page.locator("input[name=terms]")).to_be_checked()
    assert by_name(await perceiver.observe(page), "I accept the terms").checked is True


async def test_password_and_card_values_never_leave_the_page(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/form.html")
    obs = await DomPerceiver().observe(page, screenshot=True)
    dumped = obs.model_dump_json()
    for secret in ("hunter2-secret", "4242424242424242", "987"):
        assert secret not in obs.text
        assert secret not in dumped
    for name in ("Password", "Card", "Security code"):
        el = by_name(obs, name)
        assert el.sensitive and el.value is None
        assert el.attributes["filled"] == "true"
        assert "value=<hidden, filled>" in element_line(el)
    assert not by_name(obs, "Email address").sensitive
    # Nor as pixels: secret fields are masked in the screenshot itself.
    shot = Image.open(io.BytesIO(obs.screenshot or b"")).convert("RGB")
    for name in ("Password", "Card"):
        box = by_name(obs, name).bbox
        assert box is not None
        assert shot.getpixel((int(box.x + box.width / 2), int(box.y + box.height / 2))) == (0, 0, 0)
    email = by_name(obs, "Email address").bbox
    assert email is not None
    assert shot.getpixel((int(email.x + email.width - 4), int(email.y + email.height / 2))) != (0, 0, 0)


@pytest.mark.parametrize("form", ["/perception/form.html", "/perception/hidden.html"])
async def test_a_trace_picture_is_a_jpeg_with_the_secret_fields_masked(page, pages_server, form: str) -> None:
    """The trace's picture is taken the cheap way only when no listed field is secret."""
    await open_page(page, pages_server, form)
    perceiver = DomPerceiver()
    obs = await perceiver.observe(page, screenshot="jpeg")
    assert obs.screenshot is not None and obs.screenshot[:3] == b"\xff\xd8\xff"  # a JPEG
    shot = Image.open(io.BytesIO(obs.screenshot)).convert("L")
    assert shot.size == (page.viewport_size["width"], page.viewport_size["height"])
    secret = [e for e in obs.elements if e.sensitive and e.bbox is not None and e.in_viewport]
    for el in secret:
        assert el.bbox is not None
        assert shot.getpixel((int(el.bbox.x + el.bbox.width / 2), int(el.bbox.y + el.bbox.height / 2))) < 24
    assert bool(secret) == (form == "/perception/form.html")
    again = await perceiver.picture(page)  # the same, taken later (as the agent does)
    assert again is not None and again[:3] == b"\xff\xd8\xff"


async def test_select_options_are_listed_and_selectable(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/form.html")
    perceiver = DomPerceiver()
    obs = await perceiver.observe(page)
    size = by_name(obs, "Size")
    assert size.role == "combobox" and size.tag == "select"
    assert size.options == ["Small", "Medium", "Large"] and size.value == "Medium"
    assert 'options=[Small, Medium, Large]' in obs.text
    await perceiver.target(size.index).locator.select_option(label="Large")
    assert by_name(await perceiver.observe(page), "Size").value == "Large"


# --- the window ---------------------------------------------------------------------------


async def test_far_elements_are_summarised_then_indexed_after_scrolling(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/long.html")
    perceiver = DomPerceiver()
    obs = await perceiver.observe(page)
    assert "Buy item 1" in names(obs)
    assert "Buy item 250" not in names(obs)
    assert "Buy item 250" not in obs.text
    summary = [line for line in obs.text.splitlines() if line.startswith("... ") and "below" in line]
    assert summary and '"Add to cart"' in summary[0] and "scroll down" in summary[0]
    assert "screens below" in obs.text
    top_count = len(obs.elements)

    await page.locator("#b250").scroll_into_view_if_needed()
    await page.wait_for_function("() => window.scrollY > 0")
    obs2 = await perceiver.observe(page)
    buy = by_name(obs2, "Buy item 250")
    assert buy.in_viewport
    assert "Buy item 1" not in names(obs2)
    assert any(line.startswith("... ") and "above" in line for line in obs2.text.splitlines())
    # Still a window (one screen above, the screen, one below), not the whole list of 600.
    assert len(obs2.elements) <= 2 * top_count
    await perceiver.target(buy.index).locator.click()  # and it acts on that very button
    assert await page.evaluate("() => document.activeElement.id") == "b250"


async def test_margin_widens_the_window(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/long.html")
    narrow = await DomPerceiver(margin_viewports=0).observe(page)
    wide = await DomPerceiver(margin_viewports=2).observe(page)
    assert len(wide.elements) > len(narrow.elements)
    assert all(e.in_viewport for e in narrow.elements)


# --- indexes ----------------------------------------------------------------------------------


async def test_unknown_index_raises_action_error(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/form.html")
    perceiver = DomPerceiver()
    with pytest.raises(ActionError, match=r"no element \[1\]"):
        perceiver.target(1)  # nothing observed yet
    obs = await perceiver.observe(page)
    beyond = len(obs.elements) + 1
    with pytest.raises(ActionError, match=rf"there is no element \[{beyond}\] on the current page"):
        perceiver.target(beyond)
    with pytest.raises(ActionError):
        perceiver.target(0)


async def test_stale_index_never_resolves_to_another_element(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/hidden.html")
    perceiver = DomPerceiver()
    obs = await perceiver.observe(page)
    old = perceiver.target(by_name(obs, "Visible button").index)
    assert await old.exists()

    # The page re-renders: the button is replaced by another one in the same place.
    await page.evaluate("""() => { const b = [...document.querySelectorAll('button')]
        .find((x) => x.textContent === 'Visible button');
        const n = document.createElement('button'); n.textContent = 'Delete account';
        b.replaceWith(n); }""")
    assert not await old.exists()
    assert await old.locator.count() == 0

    # A newer observation restamps: targets from the older one match nothing at all.
    kept = perceiver.target(by_name(obs, "Custom div button").index)
    obs2 = await perceiver.observe(page)
    assert not await kept.exists()
    fresh = perceiver.target(by_name(obs2, "Delete account").index)
    assert await fresh.locator.text_content() == "Delete account"


async def test_indexes_are_reading_order_and_target_matches_one_element(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/form.html")
    perceiver = DomPerceiver()
    obs = await perceiver.observe(page)
    assert [e.index for e in obs.elements] == list(range(1, len(obs.elements) + 1))
    ys = [e.bbox.y for e in obs.elements if e.bbox]
    assert ys == sorted(ys)
    for el in obs.elements:
        target = perceiver.target(el.index)
        assert await target.locator.count() == 1
        assert target.element == el


# --- robustness --------------------------------------------------------------------------------


async def test_blank_page_and_screenshot(page) -> None:
    obs = await DomPerceiver().observe(page, screenshot=True)
    assert obs.url == "about:blank"
    assert obs.elements == []
    assert obs.screenshot is not None and obs.screenshot.startswith(b"\x89PNG")
    assert obs.tokens > 0


async def test_page_that_is_navigating_still_gives_an_observation(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/form.html")
    await page.evaluate(f"() => {{ location.href = {pages_server.url('/perception/long.html')!r}; }}")
    obs = await DomPerceiver().observe(page)
    assert obs.url.startswith(pages_server.origin)
    await page.wait_for_url("**/long.html")
    obs = await DomPerceiver().observe(page)
    assert "Buy item 1" in names(obs)


async def test_frames_coming_and_going_never_break_observe(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/hidden.html")
    await page.evaluate("""(src) => { window.flip = setInterval(() => {
        const old = document.querySelector('iframe.flip');
        if (old) old.remove();
        else { const f = document.createElement('iframe'); f.className = 'flip'; f.src = src;
               document.body.prepend(f); }
      }, 0); }""", pages_server.url("/perception/frame_inner.html"))
    perceiver = DomPerceiver()
    for _ in range(15):
        obs = await perceiver.observe(page)
        assert "Visible button" in names(obs)
    await page.evaluate("() => clearInterval(window.flip)")


async def test_closed_page_gives_an_observation(context) -> None:
    page = await context.new_page()
    await page.close()
    obs = await DomPerceiver().observe(page)
    assert obs.elements == [] and "closed" in obs.text


# --- marks -------------------------------------------------------------------------------------


async def test_draw_marks_returns_png_of_same_size(page, pages_server) -> None:
    await open_page(page, pages_server, "/perception/form.html")
    obs = await DomPerceiver().observe(page, screenshot=True)
    assert obs.screenshot is not None
    marked = draw_marks(obs.screenshot, obs.elements)
    before = Image.open(io.BytesIO(obs.screenshot))
    after = Image.open(io.BytesIO(marked))
    assert after.format == "PNG" and after.size == before.size
    assert before.convert("RGB").tobytes() != after.convert("RGB").tobytes()


def test_draw_marks_clips_boxes_outside_the_image() -> None:
    out = io.BytesIO()
    Image.new("RGB", (100, 80), "white").save(out, format="PNG")
    elements = [
        Element(index=1, role="button", tag="button", bbox=BBox(x=-20, y=-10, width=50, height=30)),
        Element(index=2, role="link", tag="a", bbox=BBox(x=90, y=70, width=40, height=40)),
        Element(index=3, role="link", tag="a", bbox=BBox(x=500, y=500, width=10, height=10)),
        Element(index=4, role="link", tag="a"),
    ]
    marked = Image.open(io.BytesIO(draw_marks(out.getvalue(), elements)))
    assert marked.size == (100, 80)
    assert marked.convert("RGB").getpixel((0, 0)) != (255, 255, 255)


def test_draw_marks_leaves_unreadable_bytes_alone() -> None:
    junk = b"\x89PNG\r\n\x1a\nnot really"
    assert draw_marks(junk, [Element(index=1, role="button", tag="button")]) == junk
