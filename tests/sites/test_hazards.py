"""Every deliberate hazard of the practice sites appears (and, where it should, can be
dismissed): cookie consent, a delayed newsletter pop-up, results loaded as you scroll,
a div-based dropdown, a web component with an open shadow root, a modal dialog, a slow
endpoint, and a sign-in that expires."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

from playwright.async_api import expect

from operator_bench.sites.shop.state import DEMO_EMAIL, DEMO_PASSWORD

EXPIRED = "Your session has expired. Please sign in again to continue."
SIGN_IN = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "next": "/"}


def _results_url(sites, passengers: int = 1) -> str:
    day = dt.date.today() + dt.timedelta(days=21)
    return f"{sites.flights_url}/results?from=JFK&to=LIS&date={day.isoformat()}&passengers={passengers}"


async def test_cookie_consent_on_both_sites_until_answered(sites, page) -> None:
    await page.goto(sites.shop_url)
    banner = page.get_by_role("region", name="Cookie consent")
    await expect(banner).to_be_visible()
    await banner.get_by_role("button", name="Accept all cookies").click()
    await expect(banner).to_have_count(0)
    await page.reload()
    await expect(page.get_by_role("region", name="Cookie consent")).to_have_count(0)  # remembered

    await page.goto(sites.flights_url)
    wall = page.get_by_role("region", name="Cookie consent")
    await expect(wall).to_be_visible()
    # The wall covers the page: the search button cannot be clicked until it is answered.
    hit = await page.evaluate("""() => {
        const b = [...document.querySelectorAll('button')].find((x) => x.textContent === 'Search flights');
        const r = b.getBoundingClientRect();
        return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === b;
    }""")
    assert hit is False
    await wall.get_by_role("button", name="Only necessary cookies").click()
    await expect(wall).to_have_count(0)

    sites.configure(cookie_banner=False)  # the knob
    await page.context.clear_cookies()
    await page.goto(sites.shop_url)
    await expect(page.get_by_role("region", name="Cookie consent")).to_have_count(0)


async def test_newsletter_pop_up_appears_after_a_delay_and_can_be_dismissed(sites, context, page) -> None:
    assert sites.state("shop")["knobs"]["newsletter_delay_ms"] == 8000  # the realistic default
    sites.configure(newsletter_delay_ms=300)
    await context.add_cookies(sites.dismissed_cookies()[:1])  # cookies answered, newsletter not
    await page.goto(sites.shop_url)
    assert await page.locator("body").get_attribute("data-newsletter-delay") == "300"
    popup = page.get_by_role("dialog", name="Get 10% off your first order")
    await expect(popup).to_be_visible()
    await popup.get_by_role("button", name="No thanks").click()
    await expect(popup).to_be_hidden()
    await page.goto(f"{sites.shop_url}/search?q=cable")
    assert await page.locator("body").get_attribute("data-newsletter-delay") == "-1"  # not again

    await context.clear_cookies()
    await context.add_cookies(sites.dismissed_cookies()[:1])
    await page.goto(sites.shop_url)
    await expect(popup).to_be_visible()
    await popup.get_by_label("Email address").fill("reader@example.com")
    await popup.get_by_role("button", name="Subscribe").click()
    await expect(popup.get_by_role("status")).to_contain_text("Thanks for subscribing!")
    assert sites.state("shop")["newsletter"] == ["reader@example.com"]


async def test_flight_results_load_lazily_as_you_scroll(sites, context, page) -> None:
    sites.configure(slow_ms=0)
    await context.add_cookies(sites.dismissed_cookies())
    await page.goto(_results_url(sites))
    results = page.locator(".result")
    # One batch (the knob's default, 10) reaches below the window, so no more loads until you scroll.
    await expect(results).to_have_count(10)
    total = int((await page.locator("#results-title").inner_text()).split()[0])
    assert total > 10
    while (shown := await results.count()) < total:  # each batch pushes the end further down
        await page.locator("#more").scroll_into_view_if_needed()
        await page.wait_for_function("n => document.querySelectorAll('.result').length > n", arg=shown)
    await expect(results).to_have_count(total)
    await expect(page.locator("#more")).to_have_text(f"Showing all {total} flights")


async def test_sort_is_a_div_based_dropdown(sites, context, page) -> None:
    sites.configure(slow_ms=0, results_batch=50)
    await context.add_cookies(sites.dismissed_cookies())
    await page.goto(_results_url(sites))
    await expect(page.locator(".result").first).to_be_visible()
    toggle = page.get_by_role("combobox", name="Sort by Best")
    assert await toggle.evaluate("e => e.tagName") == "DIV"
    assert await page.locator(".results-bar select").count() == 0  # no native <select> to fall back on
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await page.get_by_role("option", name="Cheapest").click()
    await expect(page.get_by_role("listbox")).to_be_hidden()
    await expect(page.locator("#sort-value")).to_have_text("Cheapest")
    await page.wait_for_function("""() => {
        const p = [...document.querySelectorAll('.result .price')]
            .map((e) => +e.textContent.replace(/[$,]/g, ''));
        return p.length > 1 && p.every((x, i) => i === 0 || p[i - 1] <= x);
    }""")


async def test_seat_map_is_a_web_component_with_an_open_shadow_root(sites, context, page) -> None:
    assert sites.flights is not None
    await context.add_cookies(sites.dismissed_cookies())
    day = dt.date.today() + dt.timedelta(days=21)
    it = next(i for i in sites.flights.schedule.search("JFK", "LIS", day) if i.stops == 0)
    resp = await page.request.post(f"{sites.flights_url}/trip",
                                   form={"itinerary": it.id, "fare": "light", "passengers": "2"})
    await page.goto(resp.url)
    shadow = await page.locator("seat-map").evaluate("""e => ({
        mode: e.shadowRoot && e.shadowRoot.mode,
        inside: e.shadowRoot.querySelectorAll('button.seat').length,
        outside: e.querySelectorAll('button').length,
    })""")
    assert shadow == {"mode": "open", "inside": 180, "outside": 0}
    free = page.locator("seat-map button.seat:not([disabled])")
    window = page.locator("seat-map button.seat.window:not([disabled])").first
    aisle = page.locator("seat-map button.seat.aisle:not([disabled])").first
    assert await free.count() > 20
    await window.click()
    await aisle.click()
    await expect(page.locator("#seat-choice-0")).to_contain_text("(window), ")
    await expect(page.locator("#seat-choice-0")).to_contain_text("(aisle)")
    taken = page.locator("seat-map button.seat[disabled]").first
    assert (await taken.get_attribute("aria-label") or "").endswith(", taken")


async def test_add_to_cart_opens_a_modal_dialog(sites, context, page) -> None:
    assert sites.shop is not None
    await context.add_cookies(sites.dismissed_cookies())
    row = sites.shop.catalog.db.one("SELECT id FROM products WHERE stock > 0 AND colour_label IS NULL"
                                    " AND size_label IS NULL ORDER BY id LIMIT 1")
    assert row is not None
    await page.goto(f"{sites.shop_url}/product/{row['id']}")
    await page.get_by_role("button", name="Add to cart").click()
    dialog = page.get_by_role("dialog", name="Added to cart")
    await expect(dialog).to_be_visible()
    assert await page.evaluate("document.querySelector('dialog:modal') !== null")  # the rest is inert
    await expect(dialog).to_contain_text("Cart subtotal (1 items)")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(page.locator("#cart-count")).to_have_text("1")


async def test_flight_search_endpoint_is_slow_and_the_page_says_so(sites, context, page) -> None:
    assert sites.state("flights")["knobs"]["slow_ms"] == 1500  # the realistic default
    sites.configure(slow_ms=2500)
    await context.add_cookies(sites.dismissed_cookies())
    async with page.expect_response(lambda r: "/api/flights" in r.url) as response:
        await page.goto(_results_url(sites))
        await expect(page.get_by_role("status").filter(has_text="Searching")).to_be_visible()
        await expect(page.locator(".result")).to_have_count(0)  # nothing yet while it searches
    assert (await response.value).ok
    await expect(page.locator(".result").first).to_be_visible()
    await expect(page.locator("#loading")).to_be_hidden()


async def test_sign_in_expires_and_asks_again_then_resumes_checkout(sites, context, page) -> None:
    assert sites.shop is not None
    await context.add_cookies(sites.dismissed_cookies())
    shop = sites.shop_url
    row = sites.shop.catalog.db.one("SELECT id FROM products WHERE stock > 0 AND colour_label IS NULL"
                                    " AND size_label IS NULL ORDER BY id LIMIT 1")
    assert row is not None
    await page.request.post(f"{shop}/cart/add", form={"product_id": str(row["id"]), "quantity": "1"})
    await page.request.post(f"{shop}/signin", form=SIGN_IN)
    await page.goto(f"{shop}/checkout/shipping")
    await expect(page.get_by_role("heading", name="Choose a shipping address")).to_be_visible()

    # The session ends (the endpoint a test or an evaluation uses; the knob is session_ttl_s).
    req = urllib.request.Request(f"{shop}/api/sessions/expire", data=b"", method="POST")
    with urllib.request.urlopen(req) as resp:
        assert json.load(resp)["expired"] == 1
    await page.get_by_role("button", name="Deliver to this address").click()
    await expect(page.get_by_role("alert")).to_have_text(EXPIRED)
    await expect(page.get_by_label("Email address")).to_have_value(DEMO_EMAIL)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Choose a shipping address")).to_be_visible()
    assert len(sites.state("shop")["carts"][0]["items"]) == 1  # the cart survived

    sites.configure(session_ttl_s=0)  # the knob: every sign-in is already over
    await page.goto(f"{shop}/orders")
    await expect(page.get_by_role("alert")).to_have_text(EXPIRED)
