"""Flight search over the generated schedule: nonstop and one-stop itineraries for a
date (connections within one airline or alliance, 50 minutes to 6 hours), fares per
class that vary by date deterministically, filters, sorting, and seat maps."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from .data import AIRLINE_BY_CODE, AIRPORT_BY_CODE, Airport, Leg, distance_km

MIN_CONNECTION = 50
MAX_CONNECTION = 6 * 60
SEAT_LETTERS = "ABCDEF"
SEAT_KIND = {"A": "window", "B": "middle", "C": "aisle", "D": "aisle", "E": "middle", "F": "window"}


@dataclass(frozen=True)
class Fare:
    code: str
    name: str
    factor: float
    perks: str


FARES = (
    Fare("light", "Economy Light", 1.0, "Carry-on bag only · No changes · Seat choice included"),
    Fare("standard", "Economy Standard", 1.25, "1 checked bag · Changes for a fee"),
    Fare("flex", "Economy Flex", 1.6, "2 checked bags · Free changes · Refundable"),
    Fare("business", "Business", 3.2, "Lie-flat seat · Lounge access · Refundable"),
)
FARE_BY_CODE = {f.code: f for f in FARES}
TIME_BANDS = {  # departure time filters: name -> (from, to) local hours
    "early": ("Early morning", 0, 6), "morning": ("Morning", 6, 12),
    "afternoon": ("Afternoon", 12, 18), "evening": ("Evening", 18, 24),
}
SORTS = {"best": "Best", "price": "Cheapest", "duration": "Fastest", "depart": "Earliest departure",
         "arrive": "Earliest arrival"}


@dataclass
class Segment:
    leg: Leg
    depart: dt.datetime  # local time at the origin
    arrive: dt.datetime  # local time at the destination
    dep_utc: dt.datetime
    arr_utc: dt.datetime

    @property
    def redeye(self) -> bool:
        """Flies through the night: in the air at 3 a.m. at either end (and not a short hop)."""
        if self.leg.duration < 120:
            return False
        for code in (self.leg.origin, self.leg.dest):
            offset = dt.timedelta(hours=AIRPORT_BY_CODE[code].tz)
            start, end = self.dep_utc + offset, self.arr_utc + offset
            for day in (start.date(), start.date() + dt.timedelta(days=1)):
                if start <= dt.datetime.combine(day, dt.time(3)) <= end:
                    return True
        return False

    def as_dict(self) -> dict[str, Any]:
        al = AIRLINE_BY_CODE[self.leg.airline]
        return {"flight": self.leg.number, "airline": al.name, "origin": self.leg.origin,
                "destination": self.leg.dest, "depart": self.depart.isoformat(timespec="minutes"),
                "arrive": self.arrive.isoformat(timespec="minutes"), "duration_min": self.leg.duration,
                "aircraft": self.leg.aircraft, "redeye": self.redeye}


@dataclass
class Itinerary:
    id: str
    date: dt.date
    segments: list[Segment]
    fares: dict[str, int] = field(default_factory=dict)  # per person, cents

    @property
    def origin(self) -> str:
        return self.segments[0].leg.origin

    @property
    def dest(self) -> str:
        return self.segments[-1].leg.dest

    @property
    def stops(self) -> int:
        return len(self.segments) - 1

    @property
    def depart(self) -> dt.datetime:
        return self.segments[0].depart

    @property
    def arrive(self) -> dt.datetime:
        return self.segments[-1].arrive

    @property
    def duration(self) -> int:
        return int((self.segments[-1].arr_utc - self.segments[0].dep_utc).total_seconds() // 60)

    @property
    def price(self) -> int:
        return self.fares["light"]

    @property
    def airlines(self) -> list[str]:
        return list(dict.fromkeys(s.leg.airline for s in self.segments))

    @property
    def redeye(self) -> bool:
        return any(s.redeye for s in self.segments)

    @property
    def days_later(self) -> int:
        return (self.arrive.date() - self.date).days

    def layovers(self) -> list[tuple[str, int]]:
        return [(a.leg.dest, int((b.dep_utc - a.arr_utc).total_seconds() // 60))
                for a, b in zip(self.segments, self.segments[1:], strict=False)]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "origin": self.origin, "destination": self.dest, "date": self.date.isoformat(),
                "stops": self.stops, "duration_min": self.duration, "redeye": self.redeye,
                "segments": [s.as_dict() for s in self.segments]}


def _segment(leg: Leg, day: dt.date) -> Segment:
    o, d = AIRPORT_BY_CODE[leg.origin], AIRPORT_BY_CODE[leg.dest]
    depart = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=leg.dep)
    dep_utc = depart - dt.timedelta(hours=o.tz)
    arr_utc = dep_utc + dt.timedelta(minutes=leg.duration)
    return Segment(leg, depart, arr_utc + dt.timedelta(hours=d.tz), dep_utc, arr_utc)


def _connects(a: Leg, b: Leg) -> bool:
    if a.airline == b.airline:
        return True
    alliance = AIRLINE_BY_CODE[a.airline].alliance
    return bool(alliance) and alliance == AIRLINE_BY_CODE[b.airline].alliance


class Schedule:
    """The legs of one seed, indexed for search."""

    def __init__(self, seed: int, legs: list[Leg]) -> None:
        self.seed = seed
        self.legs = legs
        self.by_number = {leg.number: leg for leg in legs}
        self.from_airport: dict[str, list[Leg]] = {}
        for leg in legs:
            self.from_airport.setdefault(leg.origin, []).append(leg)

    def _price(self, legs: list[Leg], day: dt.date) -> dict[str, int]:
        demand = 1.0
        for leg in legs:  # the same flight on the same date always costs the same
            demand *= random.Random(f"{self.seed}:{leg.number}:{day.isoformat()}").uniform(0.85, 1.35)
        demand = demand ** (1 / len(legs))
        if day.weekday() in (4, 6):
            demand *= 1.1
        base = sum(leg.base for leg in legs) * (0.82 if len(legs) > 1 else 1.0) * demand
        return {f.code: round(base * f.factor / 100) * 100 for f in FARES}

    def itinerary(self, day: dt.date, legs: list[Leg]) -> Itinerary | None:
        """Legs flown from day on, each leg the first departure after the last one lands."""
        segments = [_segment(legs[0], day)]
        for leg in legs[1:]:
            prev = segments[-1]
            at = AIRPORT_BY_CODE[leg.origin]
            local_arrival = prev.arr_utc + dt.timedelta(hours=at.tz)
            seg = _segment(leg, local_arrival.date())
            if seg.dep_utc < prev.arr_utc + dt.timedelta(minutes=MIN_CONNECTION):
                seg = _segment(leg, local_arrival.date() + dt.timedelta(days=1))
            wait = (seg.dep_utc - prev.arr_utc).total_seconds() / 60
            if not MIN_CONNECTION <= wait <= MAX_CONNECTION:
                return None
            segments.append(seg)
        ident = day.isoformat() + "." + ".".join(leg.number.replace(" ", "") for leg in legs)
        return Itinerary(ident, day, segments, self._price(legs, day))

    def search(self, origin: str, dest: str, day: dt.date) -> list[Itinerary]:
        found: list[Itinerary] = []
        direct = distance_km(AIRPORT_BY_CODE[origin], AIRPORT_BY_CODE[dest])
        for first in self.from_airport.get(origin, []):
            if first.dest == dest:
                it = self.itinerary(day, [first])
                if it:
                    found.append(it)
                continue
            hub: Airport = AIRPORT_BY_CODE[first.dest]
            via = distance_km(AIRPORT_BY_CODE[origin], hub) + distance_km(hub, AIRPORT_BY_CODE[dest])
            if via > 1.3 * direct + 250:  # nobody flies New York -> Dubai -> Lisbon
                continue
            for second in self.from_airport.get(first.dest, []):
                if second.dest == dest and _connects(first, second):
                    it = self.itinerary(day, [first, second])
                    if it:
                        found.append(it)
        return found

    def find(self, ident: str) -> Itinerary | None:
        """An itinerary from its id: '2026-07-14.LU201' or '2026-07-14.MR113.MR504'."""
        parts = ident.split(".")
        try:
            day = dt.date.fromisoformat(parts[0])
        except ValueError:
            return None
        legs = []
        for code in parts[1:]:
            leg = self.by_number.get(f"{code[:2]} {code[2:]}")
            if leg is None:
                return None
            legs.append(leg)
        if not legs or any(a.dest != b.origin for a, b in itertools.pairwise(legs)):
            return None
        return self.itinerary(day, legs)

    # --- seats ----------------------------------------------------------------

    def taken_seats(self, leg: Leg, day: str) -> set[str]:
        """Seats other travellers already hold on this flight and date (deterministic)."""
        rng = random.Random(f"{self.seed}:seats:{leg.number}:{day}")
        load = rng.uniform(0.35, 0.7)
        seats = [f"{row}{letter}" for row in range(1, leg.rows + 1) for letter in SEAT_LETTERS]
        taken = {s for s in seats if rng.random() < load}
        free_aisles = [s for s in seats if s[-1] in "CD" and s not in taken]
        for s in [s for s in seats if s[-1] in "CD" and s in taken][: max(0, 4 - len(free_aisles))]:
            taken.discard(s)  # always a few aisle seats left
        return taken


@dataclass
class Filters:
    airlines: set[str] = field(default_factory=set)
    stops: set[int] = field(default_factory=set)  # 0, 1
    times: set[str] = field(default_factory=set)  # TIME_BANDS keys
    max_price: int | None = None  # cents per person
    sort: str = "best"

    def keep(self, it: Itinerary) -> bool:
        if self.airlines and not set(it.airlines) & self.airlines:
            return False
        if self.stops and min(it.stops, 2) not in self.stops:
            return False
        if self.times:
            h = it.depart.hour
            if not any(TIME_BANDS[t][1] <= h < TIME_BANDS[t][2] for t in self.times if t in TIME_BANDS):
                return False
        return self.max_price is None or it.price <= self.max_price

    def apply(self, found: list[Itinerary]) -> list[Itinerary]:
        kept = [it for it in found if self.keep(it)]
        key = {
            "price": lambda it: (it.price, it.duration),
            "duration": lambda it: (it.duration, it.price),
            "depart": lambda it: (it.depart, it.price),
            "arrive": lambda it: (it.arrive, it.price),
            # "Best" weighs price against time, as the big sites do: an hour is worth about $40.
            "best": lambda it: (it.price / 100 + it.duration / 60 * 40 + it.stops * 60, it.id),
        }.get(self.sort, lambda it: (it.price, it.id))
        return sorted(kept, key=key)


def seat_kind(seat: str) -> str:
    return SEAT_KIND.get(seat[-1:], "")
