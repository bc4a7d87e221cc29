"""Fixtures for the preference store: every test gets its own SQLite file (never the
person's real one), and observations are built by hand from text shaped like what
the perceiver writes for the practice flights and shop sites."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from operator_agent.preferences import PreferenceStore
from operator_agent.types import Element, Observation

FLIGHTS_URL = "http://skyway.test/results?from=New+York+%28JFK%29&to=Lisbon+%28LIS%29&date=2026-12-01"

FLIGHT_RESULTS = """\
url: {url}
title: New York to Lisbon | Skyway
[1] link "Skyway"
[2] link "Flights"
[3] link "Manage booking"
# New York (JFK) → Lisbon (LIS)
Tue 1 Dec 2026 · One way · 1 adult
[4] link "Change search"
Stops
[5] checkbox "Nonstop from $423.00" unchecked
Nonstop · from $423.00
[6] checkbox "Meridian Airways from $654.00" unchecked
Meridian Airways · from $654.00 · Departure time
[7] checkbox "Early morning 00:00–05:59" unchecked
[8] textbox "Max price per person ($)" placeholder="Any price"
[9] button "Apply"
## 4 flights found
Sort by
[10] combobox "Sort by Best" collapsed
Lusitania Air · 22:35 – 11:00 +1 day · JFK → LIS · LU 134 · 7h 25m · Nonstop · Overnight · $423.00
[11] button "Select" collapsed
Northwind Airways + Lusitania Air · 16:30 – 07:30 +1 day · JFK → LIS · NW 128, LU 154 · 10h 00m
1 stop (1h 55m in BOS) · Overnight · $399.00
[12] button "Select" collapsed
Iberiana · 07:10 – 22:35 · JFK → LIS · IA 230, IA 158 · 10h 25m · 1 stop (1h 20m in MAD) · $558.00
[13] button "Select" collapsed
Meridian Airways · 09:05 – 20:40 · JFK → LIS · MR 12 · 6h 35m · Nonstop · $654.00
[14] button "Select" collapsed
"""

SEATS = """\
url: {url}
title: Choose your seats | Skyway
[1] link "Skyway"
# Choose your seats
Window seats: A and F · Middle seats: B and E · Aisle seats: C and D · Taken
## Flight 1: New York (JFK) → Lisbon (LIS)
Lusitania Air LU 134 · Tue 1 Dec 2026 22:35 · A321LR
[4] button "Seat 1A, window"
[5] button "Seat 1B, middle"
[6] button "Seat 1C, aisle"
[7] button "Seat 2A, window"
[8] button "Seat 2B, middle"
[9] button "Seat 2D, aisle"
[10] button "Skip seat selection"
[11] button "Continue to passenger details"
"""

SHOP_RESULTS = """\
url: {url}
title: Results for "usb cable" | Brightcart
[1] link "brightcart"
[2] searchbox "Search Brightcart" value="usb cable"
[3] button "Search"
[4] link "Cart 0"
Brand
[5] checkbox "Voltix (34)" unchecked
[6] checkbox "Amperio (34)" unchecked
# Results for "usb cable"
[7] combobox "Sort by" value="Featured" options=[Featured, Price: low to high, Price: high to low]
[8] link "Amperio Premium USB-C to USB-A Cable, USB 3.0, 5Gbps"
by Amperio · 4.3 out of 5 stars (257 ratings) · $4.99 · 4 colours available · In stock
[9] link "Voltix Plus USB-C to USB-A Cable, USB 3.0, 5Gbps"
by Voltix · 4.7 out of 5 stars (6,398 ratings) · $13.99 · In stock
[10] link "Cordova Everyday USB-C to USB-C Cable, 100W PD, USB 2.0"
by Cordova · 4.1 out of 5 stars (325 ratings) · $16.95 · 2 colours available · In stock
"""

DELIVERY = """\
url: {url}
title: Delivery | Brightcart
# Choose a delivery option
[1] radio "Standard delivery" checked
5-7 business days · $4.99
[2] radio "Express delivery" unchecked
2 business days · $9.99
[3] radio "Next-day delivery" unchecked
Next business day, order by 4 pm · $19.99
[4] button "Continue to payment"
"""

_LINE = re.compile(r'^\[(\d+)\] (\S+)(?: "([^"]*)")?(?:.*options=\[(.*)\])?')


def make_observation(template: str, url: str) -> Observation:
    """An Observation whose elements are the [N] lines of the text."""
    text = template.format(url=url)
    elements = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            options = [o.strip() for o in m.group(4).split(",")] if m.group(4) else None
            role = m.group(2)
            tags = {"link": "a", "button": "button", "combobox": "select" if options else "input"}
            tag = tags.get(role, "input")
            elements.append(Element(index=int(m.group(1)), role=role, tag=tag, name=m.group(3) or "",
                                    options=options))
    title = next((ln[7:] for ln in text.splitlines() if ln.startswith("title: ")), "")
    return Observation(url=url, title=title, elements=elements, text=text)


def _write_recording(root: Path, name: str, chosen: int, *, stopped: bool = True) -> None:
    """A recording as the recorder writes it: a click on a seat among its like siblings."""
    seats = ["Seat 1A, window", "Seat 1B, middle", "Seat 1C, aisle", "Seat 1D, aisle, taken"]
    path = root / name
    path.mkdir(parents=True)
    meta = {"name": name, "start_url": "http://skyway.test/", "stopped": "stopped" if stopped else ""}
    (path / "recording.json").write_text(json.dumps(meta))
    siblings = [{"name": s, "text": "×" if i == 3 else s[-1], "disabled": i == 3}
                for i, s in enumerate(seats)]
    events = [
        {"seq": 1, "type": "click", "url": "http://skyway.test/trip/t1/seats",
         "target": {"role": "button", "tag": "button", "name": "Search flights"}},
        {"seq": 2, "type": "click", "url": "http://skyway.test/trip/t1/seats",
         "target": {"role": "button", "tag": "button", "name": seats[chosen],
                    "item": {"index": chosen, "count": 4, "siblings": siblings}}},
        {"seq": 3, "type": "select", "url": "http://skyway.test/trip/t1/extras", "option": "2 bags",
         "target": {"role": "combobox", "name": "Bags", "options": ["No bags", "1 bag", "2 bags"]}},
    ]
    (path / "events.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")


@pytest.fixture(autouse=True)
def _private_prefs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No test may read or write the person's real preferences file.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("OPERATOR_PREFS_DB", str(tmp_path / "prefs.db"))
    # `prefs review` reads runs and recordings: only this test's own (the root conftest
    # points OPERATOR_RUNS_DIR at tmp_path / "runs").
    monkeypatch.setenv("OPERATOR_RECORDINGS_DIR", str(tmp_path / "recordings"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[PreferenceStore]:
    with PreferenceStore(tmp_path / "prefs.db") as s:
        yield s


@pytest.fixture
def flights_page() -> Observation:
    return make_observation(FLIGHT_RESULTS, FLIGHTS_URL)


@pytest.fixture
def seats_page() -> Observation:
    return make_observation(SEATS, "http://skyway.test/trip/t_abc/seats")


@pytest.fixture
def shop_page() -> Observation:
    return make_observation(SHOP_RESULTS, "http://brightcart.test/search?q=usb+cable")


@pytest.fixture
def delivery_page() -> Observation:
    return make_observation(DELIVERY, "http://brightcart.test/checkout/delivery")


@pytest.fixture
def page_of() -> Callable[[str, str], Observation]:
    return make_observation


@pytest.fixture
def write_recording() -> Callable[..., None]:
    return _write_recording
