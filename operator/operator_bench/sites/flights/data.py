"""The flights site's world: airports, airlines and their route networks (fixed), and
the daily schedule generated from a seed into SQLite (departure times, durations,
aircraft, base fares). The same seed gives the same schedule.

A few legs are pinned (their times drawn from a narrow window) so the tasks the
evaluations rely on always exist: a red-eye nonstop New York -> Lisbon, one-stop
New York -> Lisbon itineraries both overnight and in the daytime, and a red-eye
Los Angeles -> New York.
"""

from __future__ import annotations

import math
import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

VERSION = 1


@dataclass(frozen=True)
class Airport:
    code: str
    city: str
    name: str
    country: str
    tz: float  # fixed UTC offset in hours (no daylight saving on this planet)
    lat: float
    lon: float

    @property
    def label(self) -> str:
        return f"{self.city} ({self.code})"


@dataclass(frozen=True)
class Airline:
    code: str
    name: str
    alliance: str  # connections are sold within an alliance (or one airline)
    hubs: tuple[str, ...]
    destinations: tuple[str, ...]
    price_factor: float


AIRPORTS: tuple[Airport, ...] = tuple(Airport(*a) for a in (
    ("JFK", "New York", "John F. Kennedy International", "United States", -5, 40.64, -73.78),
    ("BOS", "Boston", "Logan International", "United States", -5, 42.36, -71.01),
    ("ORD", "Chicago", "O'Hare International", "United States", -6, 41.98, -87.90),
    ("ATL", "Atlanta", "Hartsfield-Jackson International", "United States", -5, 33.64, -84.43),
    ("MIA", "Miami", "Miami International", "United States", -5, 25.79, -80.29),
    ("DFW", "Dallas", "Dallas/Fort Worth International", "United States", -6, 32.90, -97.04),
    ("DEN", "Denver", "Denver International", "United States", -7, 39.86, -104.67),
    ("LAX", "Los Angeles", "Los Angeles International", "United States", -8, 33.94, -118.41),
    ("SFO", "San Francisco", "San Francisco International", "United States", -8, 37.62, -122.38),
    ("SEA", "Seattle", "Seattle-Tacoma International", "United States", -8, 47.45, -122.31),
    ("YYZ", "Toronto", "Pearson International", "Canada", -5, 43.68, -79.63),
    ("YVR", "Vancouver", "Vancouver International", "Canada", -8, 49.19, -123.18),
    ("MEX", "Mexico City", "Benito Juárez International", "Mexico", -6, 19.44, -99.07),
    ("GRU", "São Paulo", "Guarulhos International", "Brazil", -3, -23.43, -46.47),
    ("LHR", "London", "Heathrow", "United Kingdom", 0, 51.47, -0.45),
    ("LGW", "London", "Gatwick", "United Kingdom", 0, 51.15, -0.19),
    ("CDG", "Paris", "Charles de Gaulle", "France", 1, 49.01, 2.55),
    ("AMS", "Amsterdam", "Schiphol", "Netherlands", 1, 52.31, 4.76),
    ("FRA", "Frankfurt", "Frankfurt am Main", "Germany", 1, 50.04, 8.56),
    ("MUC", "Munich", "Franz Josef Strauss", "Germany", 1, 48.35, 11.79),
    ("MAD", "Madrid", "Adolfo Suárez Madrid-Barajas", "Spain", 1, 40.47, -3.56),
    ("BCN", "Barcelona", "Josep Tarradellas Barcelona-El Prat", "Spain", 1, 41.30, 2.08),
    ("LIS", "Lisbon", "Humberto Delgado", "Portugal", 0, 38.77, -9.13),
    ("OPO", "Porto", "Francisco Sá Carneiro", "Portugal", 0, 41.24, -8.68),
    ("FCO", "Rome", "Leonardo da Vinci-Fiumicino", "Italy", 1, 41.80, 12.25),
    ("ZRH", "Zurich", "Zurich Airport", "Switzerland", 1, 47.46, 8.55),
    ("DUB", "Dublin", "Dublin Airport", "Ireland", 0, 53.42, -6.27),
    ("CPH", "Copenhagen", "Kastrup", "Denmark", 1, 55.62, 12.66),
    ("IST", "Istanbul", "Istanbul Airport", "Turkey", 3, 41.26, 28.74),
    ("DXB", "Dubai", "Dubai International", "United Arab Emirates", 4, 25.25, 55.36),
    ("DOH", "Doha", "Hamad International", "Qatar", 3, 25.27, 51.61),
    ("BOM", "Mumbai", "Chhatrapati Shivaji Maharaj International", "India", 5.5, 19.09, 72.87),
    ("SIN", "Singapore", "Changi", "Singapore", 8, 1.36, 103.99),
    ("HKG", "Hong Kong", "Hong Kong International", "Hong Kong", 8, 22.31, 113.91),
    ("NRT", "Tokyo", "Narita International", "Japan", 9, 35.77, 140.39),
    ("ICN", "Seoul", "Incheon International", "South Korea", 9, 37.46, 126.44),
    ("SYD", "Sydney", "Kingsford Smith", "Australia", 10, -33.95, 151.18),
))
AIRPORT_BY_CODE = {a.code: a for a in AIRPORTS}

AIRLINES: tuple[Airline, ...] = (
    Airline("LU", "Lusitania Air", "Atlas", ("LIS",), (
        "OPO", "JFK", "BOS", "MIA", "GRU", "YYZ", "LHR", "CDG", "AMS", "FRA", "MUC", "MAD", "BCN", "FCO",
        "ZRH", "DUB", "CPH"), 0.95),
    Airline("NW", "Northwind Airways", "Atlas", ("JFK", "ORD"), (
        "BOS", "ATL", "MIA", "DFW", "DEN", "LAX", "SFO", "SEA", "YYZ", "MEX", "GRU", "LHR", "CDG", "MAD",
        "LIS", "FRA", "DUB", "NRT"), 1.1),
    Airline("IA", "Iberiana", "Atlas", ("MAD",), (
        "BCN", "LIS", "OPO", "JFK", "MIA", "MEX", "GRU", "LHR", "CDG", "FCO", "AMS", "FRA", "DUB"), 0.9),
    Airline("CR", "Crescent Airways", "Atlas", ("DXB", "DOH"), (
        "LHR", "CDG", "FRA", "MAD", "LIS", "FCO", "IST", "BOM", "SIN", "HKG", "SYD", "NRT", "ICN", "JFK",
        "ORD"), 1.15),
    Airline("MR", "Meridian Airways", "Horizon", ("LHR",), (
        "JFK", "BOS", "ORD", "MIA", "LAX", "SFO", "YYZ", "CDG", "AMS", "FRA", "MAD", "BCN", "LIS", "OPO",
        "FCO", "ZRH", "DUB", "CPH", "IST", "DXB", "DOH", "BOM", "SIN", "HKG", "NRT", "GRU"), 1.2),
    Airline("AE", "Aerolis", "Horizon", ("CDG", "AMS"), (
        "JFK", "ATL", "LAX", "SFO", "YYZ", "MEX", "GRU", "LHR", "MAD", "BCN", "LIS", "OPO", "FCO", "MUC",
        "CPH", "IST", "DXB", "NRT", "ICN", "SIN", "BOM"), 1.05),
    Airline("HB", "Hansa Blue", "Horizon", ("FRA", "MUC"), (
        "JFK", "ORD", "SFO", "LHR", "CDG", "AMS", "MAD", "BCN", "LIS", "FCO", "ZRH", "CPH", "IST", "DXB",
        "BOM", "SIN", "NRT", "ICN", "HKG"), 1.1),
    Airline("PC", "Pacific Crest", "Horizon", ("LAX", "SFO", "SEA"), (
        "DEN", "DFW", "YVR", "NRT", "ICN", "HKG", "SIN", "SYD", "JFK", "ORD", "MEX", "BOS", "ATL"), 1.0),
    # Low-cost carriers: no connections sold with other airlines.
    Airline("SJ", "Skyjet", "", ("ATL", "DFW", "DEN"), (
        "MIA", "BOS", "ORD", "LAX", "SFO", "SEA", "YYZ", "MEX", "JFK"), 0.75),
    Airline("BR", "Brisa Europa", "", ("LGW", "BCN"), (
        "LIS", "OPO", "MAD", "FCO", "DUB", "AMS", "CPH", "MUC", "ZRH"), 0.7),
)
AIRLINE_BY_CODE = {a.code: a for a in AIRLINES}

# (airline, origin, destination, earliest and latest departure, local minutes)
PINNED = (
    ("LU", "JFK", "LIS", 21 * 60 + 30, 23 * 60),  # the red-eye nonstop to Lisbon
    ("IA", "JFK", "MAD", 6 * 60 + 45, 7 * 60 + 15),  # a daytime one-stop to Lisbon via Madrid ...
    ("IA", "MAD", "LIS", 22 * 60 + 15, 22 * 60 + 45),
    ("MR", "JFK", "LHR", 18 * 60, 19 * 60 + 30),  # overnight one-stop via London ...
    ("MR", "LHR", "LIS", 9 * 60, 12 * 60),
    ("PC", "LAX", "JFK", 22 * 60, 23 * 60 + 30),  # a classic domestic red-eye
)


@dataclass(frozen=True)
class Leg:
    """A scheduled flight, operated every day."""

    number: str  # "LU 201"
    airline: str
    origin: str
    dest: str
    dep: int  # local minutes after midnight
    duration: int  # minutes
    aircraft: str
    rows: int
    base: int  # economy light fare in cents, before the date's demand


def distance_km(a: Airport, b: Airport) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dl = math.radians(b.lon - a.lon)
    c = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(c))


def _routes() -> list[tuple[str, str, str]]:
    """Every (airline, origin, destination) flown, both ways, in a fixed order."""
    seen: dict[tuple[str, str, str], None] = {}
    for al in AIRLINES:
        ends = [(h, d) for h in al.hubs for d in al.destinations if d != h]
        ends += [(h1, h2) for h1 in al.hubs for h2 in al.hubs if h1 < h2]
        for a, b in ends:
            seen[(al.code, a, b)] = None
            seen[(al.code, b, a)] = None
    return list(seen)


def _departures(rng: random.Random, km: float, origin: Airport, dest: Airport) -> list[int]:
    eastbound_overnight = km > 4500 and dest.tz - origin.tz >= 4  # the Americas to Europe and similar
    n = rng.randint(2, 4) if km < 1500 else rng.randint(1, 3) if km < 4500 else rng.randint(1, 2)
    times = []
    for _ in range(n):
        if eastbound_overnight and rng.random() < 0.75:
            minute = rng.randint(17 * 12, 23 * 12) * 5  # evening departures that land next morning
        elif km > 2500 and rng.random() < 0.12:
            minute = (rng.randint(22 * 12, 25 * 12) * 5) % 1440  # late-night red-eye
        else:
            minute = rng.randint(6 * 12, 21 * 12) * 5
        times.append(minute)
    return sorted(set(times))


def generate(seed: int) -> list[Leg]:
    rng = random.Random(f"skyway:{seed}")
    legs: list[Leg] = []
    numbers: dict[str, int] = {}
    pinned = {(p[0], p[1], p[2]): (p[3], p[4]) for p in PINNED}
    for code, o, d in _routes():
        origin, dest = AIRPORT_BY_CODE[o], AIRPORT_BY_CODE[d]
        km = distance_km(origin, dest)
        duration = int(round((35 + km / 13.2) / 5) * 5)
        times = _departures(rng, km, origin, dest)
        window = pinned.get((code, o, d))
        if window is not None:
            times = sorted({*times, rng.randint(window[0] // 5, window[1] // 5) * 5})
        aircraft, rows = (("A220-300", 24) if km < 1200 else ("A321neo", 30) if km < 3500
                          else ("A321LR", 30) if km < 7000 else ("A350-900", 30))
        airline = AIRLINE_BY_CODE[code]
        for dep in times:
            numbers[code] = numbers.get(code, 100 + rng.randint(0, 80)) + rng.randint(1, 9)
            base = (4900 + km * 9.0) * airline.price_factor * rng.uniform(0.85, 1.2)
            legs.append(Leg(f"{code} {numbers[code]}", code, o, d, dep, duration, aircraft, rows,
                            int(base // 100) * 100))
    return legs


SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE legs (number TEXT PRIMARY KEY, airline TEXT NOT NULL, origin TEXT NOT NULL, dest TEXT NOT NULL,
  dep INTEGER NOT NULL, duration INTEGER NOT NULL, aircraft TEXT NOT NULL, rows INTEGER NOT NULL,
  base INTEGER NOT NULL);
"""


def build(seed: int, path: Path) -> Path:
    """The schedule for seed in SQLite at path (reused when already built)."""
    if path.exists():
        try:
            with sqlite3.connect(path) as conn:
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta == {"seed": str(seed), "version": str(VERSION)}:
                return path
        except sqlite3.Error:
            pass
        path.unlink()
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript(SCHEMA)
        rows = [(x.number, x.airline, x.origin, x.dest, x.dep, x.duration, x.aircraft, x.rows, x.base)
                for x in generate(seed)]
        conn.executemany("INSERT INTO legs VALUES (?,?,?,?,?,?,?,?,?)", rows)
        conn.executemany("INSERT INTO meta VALUES (?, ?)", [("seed", str(seed)), ("version", str(VERSION))])
        conn.commit()
    finally:
        conn.close()
    tmp.replace(path)
    return path


def load(path: Path) -> tuple[int, list[Leg]]:
    with sqlite3.connect(path) as conn:
        seed = int(dict(conn.execute("SELECT key, value FROM meta").fetchall())["seed"])
        rows = conn.execute("SELECT number, airline, origin, dest, dep, duration, aircraft, rows, base"
                            " FROM legs ORDER BY rowid").fetchall()
    conn.close()
    return seed, [Leg(*r) for r in rows]
