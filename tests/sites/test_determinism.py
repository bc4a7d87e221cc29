"""The same seed gives the same catalogue and flights; another seed changes them. The
generated worlds hold what the tasks need, and the state/reset/control endpoints work
over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from operator_bench.sites import PracticeSites
from operator_bench.sites.flights import data as flight_data
from operator_bench.sites.flights.search import Schedule
from operator_bench.sites.shop import generate
from operator_bench.sites.shop.catalog import Catalog, SearchQuery


def _http(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_catalogue_is_determined_by_its_seed(tmp_path: Path) -> None:
    a, b, c = (Catalog(generate.build(seed, tmp_path / f"{name}.sqlite"))
               for name, seed in (("a", 7), ("b", 7), ("c", 8)))
    assert a.digest() == b.digest()
    assert a.digest() != c.digest()
    assert a.search(SearchQuery(q="usb-c cable")).items == b.search(SearchQuery(q="usb-c cable")).items
    assert generate.generate(3) == generate.generate(3)


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_catalogue_has_what_the_tasks_need(seed: int) -> None:
    products = generate.generate(seed)["products"]
    assert len(products) >= 1000
    categories = {p[4] for p in products}
    assert len(categories) >= 8 and len({p[3] for p in products}) >= 30  # categories, brands
    usb_c = [p for p in products if p[6] == "USB-C to USB-C Cable"]
    assert sum(p[8] < 1500 for p in usb_c) >= 5 and sum(p[8] >= 1500 for p in usb_c) >= 5
    variants = generate.generate(seed)["variants"]
    assert any(v[1] for v in variants) and any(v[2] for v in variants)  # colours and sizes
    assert any(v[4] == 0 for v in variants)  # some variants are out of stock


def test_flights_are_determined_by_their_seed() -> None:
    assert flight_data.generate(5) == flight_data.generate(5)
    assert flight_data.generate(5) != flight_data.generate(6)
    day = dt.date.today() + dt.timedelta(days=30)
    same = [Schedule(5, flight_data.generate(5)).search("JFK", "LIS", day) for _ in range(2)]
    assert [(i.id, i.fares) for i in same[0]] == [(i.id, i.fares) for i in same[1]]
    other = Schedule(6, flight_data.generate(6)).search("JFK", "LIS", day)
    assert [(i.id, i.fares) for i in same[0]] != [(i.id, i.fares) for i in other]


@pytest.mark.parametrize("seed", [0, 1, 42])
def test_flights_have_what_the_tasks_need(seed: int) -> None:
    assert len(flight_data.AIRPORTS) >= 30 and len(flight_data.AIRLINES) >= 5
    schedule = Schedule(seed, flight_data.generate(seed))
    for days in (1, 14, 45):
        found = schedule.search("JFK", "LIS", dt.date.today() + dt.timedelta(days=days))
        assert any(i.stops == 1 for i in found)
        assert any(i.stops == 0 and i.redeye for i in found)
        assert any(i.stops == 1 and not i.redeye for i in found)
        assert len({a for i in found for a in i.airlines}) >= 3
    leg = schedule.legs[0]
    taken = schedule.taken_seats(leg, "2030-01-01")
    assert taken == schedule.taken_seats(leg, "2030-01-01")
    assert any(f"{row}C" not in taken for row in range(1, leg.rows + 1))  # an aisle seat is free


def test_sites_with_another_seed_serve_another_world(practice_sites: PracticeSites) -> None:
    with PracticeSites(seed=1) as other:
        mine = urllib.request.urlopen(f"{practice_sites.shop_url}/product/1").read()
        theirs = urllib.request.urlopen(f"{other.shop_url}/product/1").read()
        assert mine != theirs
        assert other.state("shop")["seed"] == 1 and other.state("flights")["seed"] == 1
    assert practice_sites.state("shop")["seed"] == 0


def test_state_reset_and_control_endpoints(sites: PracticeSites) -> None:
    for site in ("shop", "flights", "payments"):
        status, state = _http(f"{sites.url(site)}/api/state")
        assert status == 200 and state["site"] == site
    assert set(sites.state("shop")) >= {"orders", "carts", "sign_ins", "payments", "knobs"}
    assert set(sites.state("flights")) >= {"searches", "trips", "bookings", "payments", "knobs"}

    status, knobs = _http(f"{sites.shop_url}/api/control", {"newsletter_delay_ms": 0, "slow_ms": 10})
    assert status == 200 and knobs["newsletter_delay_ms"] == 0
    assert _http(f"{sites.flights_url}/api/control")[1]["slow_ms"] == 10  # one set of knobs for all
    status, error = _http(f"{sites.shop_url}/api/control", {"no_such_knob": 1})
    assert status == 400 and "no_such_knob" in error["error"]

    day = dt.date.today() + dt.timedelta(days=3)
    urllib.request.urlopen(f"{sites.flights_url}/results?from=JFK&to=LIS&date={day}&passengers=1")
    assert len(sites.state("flights")["searches"]) == 1
    status, body = _http(f"{sites.flights_url}/api/reset", {})
    assert status == 200 and body == {"ok": True}
    assert sites.state("flights")["searches"] == []
    assert sites.state("shop")["knobs"]["slow_ms"] == 1500  # a reset restores the default knobs
