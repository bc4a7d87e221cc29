"""The practice flights site driven with plain Playwright: autocomplete, the date-picker
widget, results with filters, fare choice, seat maps, passenger details, a card payment
in a cross-origin iframe, the confirmation and booking lookup; outcomes checked on the server."""

from __future__ import annotations

import datetime as dt

from playwright.async_api import Page, expect

from operator_bench.sites import PracticeSites

FARE_STANDARD = "Economy Standard"


def _travel_day() -> dt.date:
    """The 14th of next month: always bookable, always needs the calendar's next-month button."""
    first_next = (dt.date.today().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return first_next.replace(day=14)


def _day_label(day: dt.date) -> str:
    return f"{day:%A}, {day.day} {day:%B %Y}"


async def _pick_date(page: Page, day: dt.date) -> None:
    await page.get_by_role("textbox", name="Depart").click()
    calendar = page.get_by_role("dialog", name="Choose a departure date")
    await expect(calendar).to_be_visible()
    await calendar.get_by_role("button", name="Next month").click()
    await expect(calendar.get_by_role("heading")).to_have_text(f"{day:%B %Y}")
    await calendar.get_by_role("button", name=_day_label(day)).click()
    await expect(calendar).to_be_hidden()
    await expect(page.get_by_role("textbox", name="Depart")).to_have_value(f"{day:%a} {day.day} {day:%b %Y}")


async def _start_trip(sites: PracticeSites, page: Page, stops: int = 1) -> str:
    """Straight to the seat page of a JFK -> LIS itinerary (fare chosen by a form post)."""
    assert sites.flights is not None
    found = [it for it in sites.flights.schedule.search("JFK", "LIS", _travel_day()) if it.stops == stops]
    resp = await page.request.post(f"{sites.flights_url}/trip",
                                   form={"itinerary": found[0].id, "fare": "standard", "passengers": "1"})
    await page.goto(resp.url)
    return found[0].id


async def test_book_a_one_stop_flight_with_aisle_seats(sites, context, page) -> None:
    sites.configure(slow_ms=0)
    await context.add_cookies(sites.dismissed_cookies())
    day = _travel_day()
    await page.goto(sites.flights_url)
    await page.get_by_role("combobox", name="From").fill("New Y")
    await page.get_by_role("option", name="New York (JFK)").click()
    await expect(page.get_by_role("combobox", name="From")).to_have_value("New York (JFK)")
    await page.get_by_role("combobox", name="To").fill("lisb")
    await page.get_by_role("option", name="Lisbon (LIS)").click()
    await expect(page.get_by_role("combobox", name="To")).to_have_value("Lisbon (LIS)")
    await _pick_date(page, day)
    await page.get_by_label("Passengers").select_option("1")
    await page.get_by_role("button", name="Search flights").click()

    await expect(page.get_by_role("heading", name="New York (JFK) → Lisbon (LIS)")).to_be_visible()
    await expect(page.locator(".result").first).to_be_visible()
    await page.get_by_role("checkbox", name="1 stop").check()
    await page.wait_for_function("""() => {
        const s = [...document.querySelectorAll('.result .stops')];
        return s.length > 0 && s.every((e) => e.textContent.startsWith('1 stop'));
    }""")
    first = page.locator(".result").first
    itinerary = await first.get_attribute("data-id")
    await first.get_by_role("button", name="Select").click()
    await first.get_by_role("button", name=f"Choose {FARE_STANDARD}").click()

    await expect(page.get_by_role("heading", name="Choose your seats")).to_be_visible()
    maps = page.locator("seat-map")
    await expect(maps).to_have_count(2)
    chosen = []
    for i in range(2):
        seat = maps.nth(i).locator("button.seat.aisle:not([disabled])").first  # inside the shadow root
        chosen.append(await seat.get_attribute("data-seat"))
        await seat.click()
        await expect(page.locator(f"#seat-choice-{i}")).to_have_text(f"Selected: {chosen[i]} (aisle)")
    await page.get_by_role("button", name="Continue to passenger details").click()

    await page.get_by_label("First name").fill("Ada")
    await page.get_by_label("Last name").fill("Lovelace")
    await page.get_by_label("Email address").fill("ada@example.com")
    await page.get_by_role("button", name="Continue to payment").click()
    card = page.frame_locator("#payment-frame")
    await card.get_by_label("Card number").fill("4242424242424242")
    await card.get_by_label("Expiry date").fill("0930")
    await card.get_by_label("Security code (CVC)").fill("314")
    await card.get_by_label("Name on card").fill("Ada Lovelace")
    await card.get_by_role("button", name="Pay").click()

    await expect(page.get_by_role("heading", name="Your flight is booked!")).to_be_visible()
    reference = await page.locator("#booking-reference").inner_text()

    assert sites.flights is not None and itinerary is not None
    expected = sites.flights.schedule.find(itinerary)
    assert expected is not None
    price = expected.fares["standard"] / 100
    state = sites.state("flights")
    assert len(state["bookings"]) == 1
    booking = state["bookings"][0]
    assert booking["reference"] == reference and booking["itinerary"] == itinerary
    assert (booking["origin"], booking["destination"], booking["date"], booking["stops"]) == (
        "JFK", "LIS", day.isoformat(), 1)
    assert [s["seats"] for s in booking["segments"]] == [[chosen[0]], [chosen[1]]]
    assert [s["seat_types"] for s in booking["segments"]] == [["aisle"], ["aisle"]]
    assert booking["fare"] == "standard"
    assert booking["passengers"] == [{"first_name": "Ada", "last_name": "Lovelace"}]
    assert booking["total"] == price and booking["payment"]["last4"] == "4242"
    paid = [(p["status"], p["amount"], p["merchant"]) for p in state["payments"]]
    assert paid == [("approved", price, "Skyway")]
    await expect(page.locator("#booking-total")).to_have_text(f"${price:,.2f}")

    # Booking lookup, from a fresh page as a returning traveller would.
    await page.goto(f"{sites.flights_url}/manage")
    await page.get_by_label("Booking reference").fill(reference.lower())
    await page.get_by_label("Last name").fill("lovelace")
    await page.get_by_role("button", name="Find booking").click()
    await expect(page.locator("#booking-reference")).to_have_text(reference)
    for seat in set(chosen):  # both flights may have the same seat free (1C and 1C)
        await expect(page.get_by_role("cell", name=f"{seat} (aisle)", exact=True)).to_have_count(
            chosen.count(seat))


async def test_unknown_airport_code_shows_error(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    await page.goto(sites.flights_url)
    await page.get_by_role("combobox", name="From").fill("XYZ")
    await page.get_by_role("combobox", name="To").fill("LIS")
    await _pick_date(page, _travel_day())
    await page.get_by_role("button", name="Search flights").click()
    await expect(page.get_by_role("alert")).to_contain_text("We don't recognise the airport “XYZ”")
    await expect(page.get_by_role("combobox", name="From")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_role("combobox", name="To")).to_have_value("LIS")  # the rest is kept
    state = sites.state("flights")
    assert state["searches"] == [] and state["bookings"] == []


async def test_missing_date_and_same_airports_are_refused(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    await page.goto(f"{sites.flights_url}/results?from=LIS&to=Lisbon&passengers=1")
    await expect(page.get_by_text("Choose a departure date.").first).to_be_visible()
    same = "Choose a destination different from where you're flying from."
    await expect(page.get_by_text(same).first).to_be_visible()


async def test_empty_passenger_name_shows_error_and_books_nothing(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    await _start_trip(sites, page, stops=0)
    await page.get_by_role("button", name="Continue to passenger details").click()
    await expect(page.get_by_role("alert")).to_contain_text("Choose 1 seat on the JFK → LIS flight, or skip")
    await page.get_by_role("button", name="Skip seat selection").click()
    await page.get_by_label("First name").fill("Grace")
    await page.get_by_label("Email address").fill("grace@example.com")
    await page.get_by_role("button", name="Continue to payment").click()
    await expect(page.get_by_role("alert")).to_contain_text("Enter the last name as shown on the passport.")
    await expect(page.get_by_label("Last name")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("First name")).to_have_value("Grace")
    state = sites.state("flights")
    assert state["bookings"] == [] and state["trips"][0]["seats"] == [[]]


async def test_declined_card_books_nothing(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    await _start_trip(sites, page, stops=0)
    await page.get_by_role("button", name="Skip seat selection").click()
    await page.get_by_label("First name").fill("Alan")
    await page.get_by_label("Last name").fill("Turing")
    await page.get_by_label("Email address").fill("alan@example.com")
    await page.get_by_role("button", name="Continue to payment").click()
    card = page.frame_locator("#payment-frame")
    await card.get_by_label("Card number").fill("4000 0000 0000 9995")
    await card.get_by_label("Expiry date").fill("11/31")
    await card.get_by_label("Security code (CVC)").fill("999")
    await card.get_by_label("Name on card").fill("Alan Turing")
    await card.get_by_role("button", name="Pay").click()
    await expect(page.locator("#payment-error")).to_contain_text("Your card has insufficient funds.")
    state = sites.state("flights")
    assert state["bookings"] == []
    assert [(p["status"], p["code"], p["last4"]) for p in state["payments"]] == [
        ("declined", "insufficient_funds", "9995")]


async def test_booking_lookup_with_unknown_reference_shows_error(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    await page.goto(f"{sites.flights_url}/manage")
    await page.get_by_role("button", name="Find booking").click()
    await expect(page.get_by_text("Enter your booking reference.")).to_be_visible()
    await page.get_by_label("Booking reference").fill("ZZZ999")
    await page.get_by_label("Last name").fill("Nobody")
    await page.get_by_role("button", name="Find booking").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "We couldn't find a booking with that reference and last name.")
