"""Scripted replies for the Skyway flights suite: `book` plays a traveller from whatever
page it is on (cookie wall, search form with autocomplete and calendar, lazy results
with filters and the custom sort dropdown, fares, the seat map, passengers, payment),
parameterised by the task (`with:` in the suite). Reads the whole step message
(`reads: prompt`) so a refused or unapproved payment ends with done(success=false).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .page import El, click, done, elements, find, has, select, step, type_
from .shop import CARDS, pay, split_prompt

Decision = dict[str, Any]
_STOPPED = ("not approved by the person", "purchase refused", "not allowed")


@dataclass
class Want:
    origin: str  # as typed into the search form: "New York"
    destination: str
    date: str  # as the calendar names the day: "Tuesday, 24 November 2026" ({date+N:long})
    passengers: int
    names: list[str]
    stops: int | None
    avoid_redeye: bool
    airline: str | None
    seat: str | None  # aisle | window | middle; None skips seat selection
    fare: str
    cheapest: bool
    max_price: float | None  # per person
    card: str


def _asked(w: Want) -> str:
    """What was asked for, in the answer that says there is none (it names why)."""
    parts = [f"{w.origin} to {w.destination} on {w.date}", f"{w.fare} fare"]
    if w.stops is not None:
        parts.append("nonstop" if w.stops == 0 else f"at most {w.stops} stops")
    if w.max_price is not None:
        parts.append(f"at most ${w.max_price:g} per person")
    if w.airline:
        parts.append(f"on {w.airline}")
    return ", ".join(parts)


@dataclass
class Offer:
    button: El  # its Select / Hide fares button
    text: str

    @property
    def price(self) -> float:
        m = re.search(r"\$([\d,]+\.\d\d) · per person", self.text)
        return float(m.group(1).replace(",", "")) if m else float("inf")

    def fits(self, w: Want) -> bool:
        m = re.search(r"(\d) stops?", self.text)
        stops = 0 if "Nonstop" in self.text else int(m.group(1)) if m else 9
        one_airline = "+" not in self.text.split("·")[0]
        return ((w.stops is None or stops == w.stops) and not (w.avoid_redeye and "Overnight" in self.text)
                and (w.airline is None or (self.text.startswith(w.airline) and one_airline))
                and (w.max_price is None or self.price <= w.max_price))


def offers(page: str) -> list[Offer]:
    """Each itinerary on the results page: the words above its Select button."""
    found, lines = [], []
    for line in page.splitlines():
        m = re.match(r'^\[(\d+)\] button "(Select|Hide fares)"', line)
        if m:
            found.append(Offer(El(int(m.group(1)), "button", m.group(2), line), " ".join(lines)))
            lines = []
        elif line.startswith("[") or line.startswith("#"):
            lines = []
        else:
            lines.append(line)
    return found


def _search_form(page: str, w: Want) -> Decision:
    for label, city in (("From", w.origin), ("To", w.destination)):
        listbox = f"{label} airports"
        if has(page, listbox, role="listbox"):
            options = [e for e in elements(page) if e.role == "option"]
            if not options:
                raise LookupError(f"no airport suggestion for {city}")
            pick = next((o for o in options if city.casefold() in o.name.casefold()), options[0])
            return step(f"Pick {pick.name}.", click(pick))
        box = find(page, label, role="combobox")
        if box.value is None:
            return step(f"Type {city} into {label}.", type_(box, city))
    if has(page, w.date, role="button"):
        return step(f"Pick {w.date}.", click(find(page, w.date, role="button")))
    depart = find(page, "Depart")
    if depart.value is None:
        if has(page, "Next month", role="button"):
            return step("The date is in a later month.", click(find(page, "Next month")))
        return step("Open the calendar.", click(depart))
    count = f"{w.passengers} adult{'s' if w.passengers > 1 else ''}"
    passengers = find(page, "Passengers", role="combobox")
    if count not in passengers.rest:
        return step("The site cannot book that many.", done(f"The site does not sell tickets for {count}.",
                                                              success=False))
    actions = [select(passengers, count)] if passengers.value != count else []
    return step("Search.", *actions, click(find(page, "Search flights", role="button")))


def _results(page: str, w: Want) -> Decision:
    fares = [e for e in elements(page) if e.role == "button" and e.name.startswith("Choose ")]
    if fares:
        fare = next((e for e in fares if e.name == f"Choose {w.fare}"), None)
        if fare is None:
            return step("That fare is not sold here.", done(f"No {w.fare} fare on this flight.", False))
        return step(f"Take {w.fare}.", click(fare))
    if w.cheapest:
        if has(page, "Cheapest", role="option"):
            return step("Sort by price.", click(find(page, "Cheapest", role="option")))
        sort = next((e for e in elements(page) if e.role == "combobox" and e.name.startswith("Sort")), None)
        if sort is not None and sort.name != "Sort by Cheapest":
            return step("Open the sort menu.", click(sort))
    if "No flights match" in page:
        return step("Nothing flies this way.", done(f"No flight matches: {_asked(w)}.", success=False))
    fitting = [o for o in offers(page) if o.fits(w)]
    if fitting:
        best = min(fitting, key=lambda o: o.price) if not w.cheapest else fitting[0]
        return step(f"{best.text[:80]} fits.", click(best.button))
    if "Showing all" in page:
        return step("No itinerary fits.", done(f"No flight matches: {_asked(w)}.", success=False))
    return step("Load more flights.", {"action": "scroll", "direction": "down", "pages": 2})


def _button_below(page: str, name: str, reasoning: str) -> Decision:
    """The form's buttons sit under long seat maps: scroll until they are in view."""
    if has(page, name, role="button"):
        return step(reasoning, click(find(page, name, role="button")))
    return step(f"Scroll to {name}.", {"action": "scroll", "direction": "down", "pages": 3})


def _seats(page: str, w: Want) -> Decision:
    if w.seat is None:
        return _button_below(page, "Skip seat selection", "No seat choice wanted.")
    for section in re.split(r"^## Flight \d+:", page, flags=re.M)[1:]:
        chosen = re.search(r"Selected: ([^\n]*)", section)
        mine = set(re.findall(r"\b(\d+[A-F]) \(", chosen.group(1))) if chosen else set()
        if len(mine) < w.passengers:
            free = [e for e in elements(section) if e.name.startswith("Seat ") and e.name.endswith(w.seat)]
            seat = next((e for e in free if e.name.split()[1].rstrip(",") not in mine), None)
            if seat is None:
                return step("No such seat left.", done(f"No {w.seat} seat is free.", success=False))
            return step(f"Take {seat.name}.", click(seat))
    return _button_below(page, "Continue to passenger details", "Seats chosen.")


def _passengers(page: str, w: Want) -> Decision:
    actions = []
    for i, name in enumerate(w.names[: w.passengers]):
        first, _, last = name.partition(" ")
        actions += [type_(find(page, "First name", nth=i), first),
                    type_(find(page, "Last name", nth=i), last)]
    actions.append(type_(find(page, "Email address"), "traveller@example.com"))
    return step("Passenger details.", *actions, click(find(page, "Continue to payment", role="button")))


def book(text: str, *, origin: str, destination: str, date: str, passengers: int = 1,
         names: list[str] | None = None, stops: int | None = None, avoid_redeye: bool = False,
         airline: str | None = None, seat: str | None = "aisle", fare: str = "Economy Light",
         cheapest: bool = False, max_price: float | None = None, card: str = "visa") -> Decision:
    page, errors = split_prompt(text)
    w = Want(origin, destination, date, passengers, names or ["Ada Lovelace", "Alan Turing", "Grace Hopper"],
             stops, avoid_redeye, airline, seat, fare, cheapest, max_price, card)
    if any(s in errors for s in _STOPPED):
        return step("The payment was stopped by the permission check.",
                    done(f"I did not book it: {errors.strip().lstrip('- ')[:200]}", success=False))
    if "Your flight is booked!" in page:
        ref = re.search(r"Booking reference · (\w+)", page)
        return step("Booked.", done(f"Booked: reference {ref.group(1) if ref else '?'}."))
    if "Payment failed" in page:
        return step("The card was declined.", done("The payment failed; nothing was booked.", success=False))
    problem = re.search(r"Please check your search\n(.*?)(?:\n\[|\Z)", page, re.S)
    if problem:
        return step("The site refuses this search.", done(f"Cannot search: {problem.group(1).strip()[:200]}",
                                                          success=False))
    if has(page, "Only necessary cookies", role="button"):
        return step("Answer the cookie wall.", click(find(page, "Only necessary cookies")))
    if "Card number" in page and has(page, contains="Pay $", role="button"):
        return pay(page, CARDS[w.card], w.names[0])
    url = re.search(r"^url: (\S+)", page, re.M)
    path = url.group(1) if url else ""
    if "# Who's travelling?" in page or re.search(r"/trip/[^/]+/passengers", path):
        return _passengers(page, w)
    if "# Choose your seats" in page or re.search(r"/trip/[^/]+/seats", path):
        return _seats(page, w)
    if "/results?" in path:
        return _results(page, w)
    return _search_form(page, w)
