"""A person's demonstrations on the practice sites, driven with Playwright's real input
events (clicks, typing, keys), while the recorder records them.

Used by the tests and to regenerate the shipped skills, from the repository's root:

    .venv/bin/python -m operator_bench.demonstrations   # -> recordings/, operator_agent/skills/shipped/

(`--recordings DIR` and `--skills DIR` write elsewhere; the default skills folder is the
agent's package data, which is the repository's own files in an editable install.)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import BrowserContext, Locator, Page, expect

from operator_agent.executors.frame_click import click_into_frame
from operator_agent.skills.compiler import compile_recording
from operator_agent.skills.events import load_recording
from operator_agent.skills.format import Skill, save_skill, shipped_dir
from operator_agent.skills.recorder import Recorder

from .demo import shop as shop_demo

SHOP_TASK = "Buy a USB-C cable under $15"
CARD = {"Card number": "4242 4242 4242 4242", "Expiry date": "12 / 34", "Security code (CVC)": "123"}
TRAVELLER = ("Ada", "Lovelace", "ada@example.com")


def flight_task(day: dt.date) -> str:
    return f"Book a flight from New York to Lisbon on {day.day} {day:%B} {day.year}"


def next_month_day(day: int = 14, months: int = 1, today: dt.date | None = None) -> dt.date:
    first = (today or dt.date.today()).replace(day=1)
    for _ in range(months):
        first = (first + dt.timedelta(days=32)).replace(day=1)
    return first.replace(day=day)


# A payment goes page -> processor iframe -> processor -> merchant's server check -> page: on a
# loaded machine (CI, two cores) that chain can pass Playwright's 5 s default.
PAID_WITHIN_MS = 30_000


async def _pay(page: Page, name_on_card: str) -> None:
    """Fill the card form and pay. The click on Pay is checked on arrival, as the agent's
    is (a press the browser sent to the page around the card form is made again). A person
    whose click still shows nothing at all (not "Processing…", no error: on a loaded machine
    the card form was seen to stay idle) fills it in again and presses Enter on Pay, once;
    what the form held each time is in the error otherwise."""
    card = page.frame_locator("#payment-frame")
    seen: list[str] = []
    for attempt in range(2):
        for label, value in CARD.items():
            await card.get_by_label(label).fill(value)
        await card.get_by_label("Name on card").fill(name_on_card)
        leaving = page.url
        frame = await (await page.locator("#payment-frame").element_handle()).content_frame()
        assert frame is not None, "the card form's frame has no document"
        pay = frame.get_by_role("button", name=re.compile(r"^Pay "))
        note = await pay.press("Enter") if attempt else await click_into_frame(pay, frame)
        if await _answered(page, leaving):
            return
        seen.append(f"{note or ''}\n{await _card_form(page)}".strip())
    raise AssertionError("the card form did not answer Pay, twice:\n" + "\n---\n".join(seen))


async def _answered(page: Page, leaving: str, within_ms: int = 10_000) -> bool:
    """Whether the card form answered the click (its message, or the page moving on)."""
    message = page.frame_locator("#payment-frame").locator("#pay-message")
    waits = [asyncio.ensure_future(page.wait_for_url(lambda url: url != leaving, timeout=within_ms)),
             asyncio.ensure_future(expect(message).not_to_be_empty(timeout=within_ms))]
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for w in pending:
        w.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return any(not w.cancelled() and w.exception() is None for w in done) or page.url != leaving


async def _card_form(page: Page) -> str:
    """What the card form shows and holds (the digits' count only), and what the page and
    the form's document say of themselves, for an error message."""
    card = page.frame_locator("#payment-frame")
    try:
        text = await card.locator("body").inner_text(timeout=2_000)
        held = {f: len(await card.locator(f"#{f}").input_value(timeout=2_000))
                for f in ("card-number", "card-expiry", "card-cvc", "card-name")}
        frame = next((f.url for f in page.frames if "/pay/" in f.url), "(no card frame)")
        state = "() => [document.visibilityState, document.hasFocus(), scrollY, innerHeight]"
        inside = await card.locator("#pay-button").evaluate(
            f"b => [b.disabled, b.getBoundingClientRect().toJSON(), ({state})()]", timeout=2_000)
        around = await page.locator("#payment-frame").evaluate(
            f"f => [f.getBoundingClientRect().toJSON(), ({state})()]", timeout=2_000)
    except Exception as why:  # the frame may be gone: say so
        return f"(unreadable: {why})"
    return (f"{frame}\ncharacters held: {held}\npay button (disabled, box, [visibility, focus, "
            f"scrollY, height]): {inside}\nthe frame on the page: {around}\n{text}")


async def _paid(page: Page, done: Locator) -> None:
    """Wait for the merchant's confirmation; if it never shows, say what the card form says."""
    try:
        await expect(done).to_be_visible(timeout=PAID_WITHIN_MS)
    except AssertionError as exc:
        raise AssertionError(f"the payment did not complete at {page.url}; "
                             f"the card form shows:\n{await _card_form(page)}") from exc


async def buy_usb_cable(page: Page, shop_url: str, *, max_price: float = 15.0) -> str:
    """Search, pick the first in-stock USB-C cable under the price, sign in, check out, pay.
    Returns the chosen product's title."""
    await page.goto(shop_url)
    await page.get_by_role("button", name="Reject non-essential").click()
    box = page.get_by_role("searchbox", name="Search Brightcart")
    await box.click()
    await box.fill("usb-c cable")
    await box.press("Enter")
    await expect(page.get_by_role("heading", name='Results for "usb-c cable"')).to_be_visible()
    cards = page.locator("article.card")
    chosen = ""
    for i in range(await cards.count()):
        card = cards.nth(i)
        text = await card.inner_text()
        title = await card.locator("h3").inner_text()
        price = re.search(r"\$(\d+\.\d\d)", text)
        fits = price is not None and float(price.group(1)) < max_price
        if "usb-c" in title.lower() and fits and "Out of stock" not in text:
            chosen = title
            await card.locator("h3 a").click()
            break
    if not chosen:
        raise LookupError(f"no in-stock USB-C cable under ${max_price:g} on the first results page")
    await page.get_by_role("button", name="Add to cart").click()
    await page.get_by_role("link", name="Proceed to checkout").click()
    await page.get_by_label("Email address").fill(shop_demo.EMAIL)
    await page.get_by_label("Password").fill(shop_demo.PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Deliver to this address").click()
    await page.get_by_role("button", name="Continue to payment").click()
    await _pay(page, "Alex Morgan")
    await _paid(page, page.get_by_role("heading", name="Thank you, your order has been placed."))
    return chosen


async def _airport(page: Page, label: str, typed: str, option: str) -> None:
    field = page.get_by_role("combobox", name=label)
    await field.click()
    await field.press_sequentially(typed)
    await page.get_by_role("option", name=option).click()
    await expect(field).to_have_value(option)


async def book_flight(page: Page, flights_url: str, *, day: dt.date | None = None) -> str:
    """New York -> Lisbon nonstop on `day` (the 14th of next month), the first result, Economy
    Standard, the first free aisle seat, one passenger, paid by card. Returns the reference."""
    day = day or next_month_day()
    await page.goto(flights_url)
    await page.get_by_role("button", name="Only necessary cookies").click()
    await _airport(page, "From", "New Y", "New York (JFK)")
    await _airport(page, "To", "Lisb", "Lisbon (LIS)")
    await page.get_by_role("textbox", name="Depart").click()
    calendar = page.get_by_role("dialog", name="Choose a departure date")
    while not await calendar.get_by_role("heading", name=f"{day:%B %Y}").is_visible():
        await calendar.get_by_role("button", name="Next month").click()
    await calendar.get_by_role("button", name=f"{day:%A}, {day.day} {day:%B %Y}").click()
    await page.get_by_role("button", name="Search flights").click()
    await expect(page.locator("#results-list .select-flight").first).to_be_visible()
    await page.get_by_role("checkbox", name=re.compile(r"^Nonstop")).check()
    await page.wait_for_function("""() => {
        const s = [...document.querySelectorAll('#results-list .stops')];
        return s.length > 0 && s.every((e) => e.textContent.startsWith('Nonstop'));
    }""")
    await page.locator("#results-list .select-flight").first.click()
    await page.get_by_role("button", name="Choose Economy Standard").click()
    await expect(page.get_by_role("heading", name="Choose your seats")).to_be_visible()
    seat = page.locator("seat-map").first.locator("button.seat.aisle:not([disabled])").first
    await seat.click()
    await page.get_by_role("button", name="Continue to passenger details").click()
    first, last, email = TRAVELLER
    await page.get_by_label("First name").fill(first)
    await page.get_by_label("Last name").fill(last)
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Continue to payment").click()
    await _pay(page, f"{first} {last}")
    booked = page.get_by_role("heading", name="Your flight is booked!")
    await _paid(page, booked)
    return await page.locator("#booking-reference").inner_text()


async def record(context: BrowserContext, path: Path, *, name: str, start_url: str, task: str,
                 demonstrate: Callable[[Page], Awaitable[object]], screenshots: bool = True) -> Path:
    """Record one demonstration in `context` into `path`."""
    recorder = Recorder(path, name=name, start_url=start_url, task=task, screenshots=screenshots)
    await recorder.attach(context)
    page = await context.new_page()
    try:
        await demonstrate(page)
    finally:
        await recorder.stop()
        await page.close()
    return path


def learn(path: Path, skill_path: Path) -> Skill:
    skill = compile_recording(load_recording(path), skill_dir=skill_path.parent)
    save_skill(skill, skill_path)
    return skill


async def regenerate(recordings: Path, skills: Path) -> None:
    """Record both demonstrations on the practice sites at their usual ports into `recordings`
    and learn the skills into `skills`."""
    from operator_agent.launch import BrowserOptions, open_browser

    from .sites import PracticeSites

    with PracticeSites(seed=0, shop_port=8001, flights_port=8002, payments_port=8003) as sites:
        sites.configure(newsletter_delay_ms=-1, slow_ms=300)
        handle = await open_browser(BrowserOptions())
        try:
            day = next_month_day()
            jobs = [("buy-usb-cable", sites.shop_url + "/", SHOP_TASK,
                     lambda p: buy_usb_cable(p, sites.shop_url + "/")),
                    ("book-flight", sites.flights_url + "/", flight_task(day),
                     lambda p: book_flight(p, sites.flights_url + "/", day=day))]
            for name, url, task, demonstrate in jobs:
                path = recordings / name
                shutil.rmtree(path, ignore_errors=True)
                context = await handle.browser.new_context(viewport={"width": 1280, "height": 800}) \
                    if handle.browser else handle.context
                await record(context, path, name=name, start_url=url, task=task, demonstrate=demonstrate)
                await context.close()
                skill = learn(path, skills / f"{name}.yaml")
                params = ", ".join(skill.parameters)
                print(f"{name}: {len(skill.steps)} steps, parameters {params}", file=sys.stderr)
        finally:
            await handle.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m operator_bench.demonstrations",
                                     description="Re-record the shipped skills on the practice sites.")
    parser.add_argument("--recordings", type=Path, default=Path("recordings"),
                        help="where the recordings go (default: ./recordings, the repository's)")
    parser.add_argument("--skills", type=Path, default=None,
                        help="where the skill files go (default: the agent's shipped skills)")
    args = parser.parse_args(argv)
    asyncio.run(regenerate(args.recordings, args.skills or shipped_dir()))


if __name__ == "__main__":
    main()
