"""The flights site's server-side state in SQLite: searches made, trips being booked
(itinerary, fare, seats, travellers) and confirmed bookings. A reset empties it."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from ..common import Db, dollars, token

SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL,
  destination TEXT NOT NULL, date TEXT NOT NULL, passengers INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS refused_searches (id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL,
  destination TEXT NOT NULL, date TEXT NOT NULL, passengers TEXT NOT NULL, why TEXT NOT NULL,
  at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS trips (id TEXT PRIMARY KEY, sid TEXT NOT NULL, itinerary TEXT NOT NULL,
  fare TEXT NOT NULL, passengers INTEGER NOT NULL, price INTEGER NOT NULL, seats TEXT, travellers TEXT,
  contact TEXT, booking TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS bookings (reference TEXT PRIMARY KEY, trip TEXT NOT NULL, sid TEXT NOT NULL,
  itinerary TEXT NOT NULL, fare TEXT NOT NULL, travellers TEXT NOT NULL, seats TEXT NOT NULL,
  contact TEXT NOT NULL, price INTEGER NOT NULL, total INTEGER NOT NULL, currency TEXT NOT NULL,
  intent TEXT NOT NULL, last4 TEXT NOT NULL, brand TEXT NOT NULL, created_at REAL NOT NULL);
"""
TABLES = ("searches", "refused_searches", "trips", "bookings")
REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
JSON_COLUMNS = ("itinerary", "seats", "travellers", "contact")


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (json.loads(v) if k in JSON_COLUMNS and v else v) for k, v in row.items()}


class FlightState:
    def __init__(self, path: Path) -> None:
        self.db = Db(path)
        self.db.script(SCHEMA)
        self._rng = random.Random()

    def record_search(self, origin: str, dest: str, date: str, passengers: int) -> None:
        self.db.run("INSERT INTO searches (origin, destination, date, passengers, at) VALUES (?,?,?,?,?)",
                    (origin, dest, date, passengers, time.time()))

    def record_refused(self, typed: dict[str, str], why: str) -> None:
        """A search the form refused (an unknown airport, a past date): as typed, and why."""
        row = (typed.get("from", ""), typed.get("to", ""), typed.get("date", ""), typed.get("passengers", ""))
        self.db.run("INSERT INTO refused_searches (origin, destination, date, passengers, why, at)"
                    " VALUES (?,?,?,?,?,?)", (*row, why, time.time()))

    # --- trips ----------------------------------------------------------------

    def start_trip(self, sid: str, itinerary: dict[str, Any], fare: str, passengers: int, price: int) -> str:
        trip = "t_" + token(9)
        self.db.run("INSERT INTO trips (id, sid, itinerary, fare, passengers, price, created_at)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (trip, sid, json.dumps(itinerary), fare, passengers, price, time.time()))
        return trip

    def trip(self, trip: str, sid: str) -> dict[str, Any] | None:
        row = self.db.one("SELECT * FROM trips WHERE id = ? AND sid = ?", (trip, sid))
        return _decode(row) if row else None

    def update_trip(self, trip: str, **values: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in values)
        args = [json.dumps(v) if k in JSON_COLUMNS else v for k, v in values.items()]
        self.db.run(f"UPDATE trips SET {cols} WHERE id = ?", (*args, trip))

    def booked_seats(self, flight: str, depart: str) -> set[str]:
        """Seats sold by this site on one flight (its number and departure time)."""
        seats: set[str] = set()
        for row in self.db.all("SELECT itinerary, seats FROM bookings"):
            itinerary, chosen = json.loads(row["itinerary"]), json.loads(row["seats"])
            for i, seg in enumerate(itinerary["segments"]):
                if seg["flight"] == flight and seg["depart"] == depart:
                    seats.update(chosen[i] if i < len(chosen) else [])
        return seats

    # --- bookings -------------------------------------------------------------

    def book(self, trip: dict[str, Any], payment: dict[str, Any]) -> str:
        total = trip["price"] * trip["passengers"]
        with self.db.tx() as conn:
            while True:
                ref = "".join(self._rng.choice(REF_ALPHABET) for _ in range(6))
                if conn.execute("SELECT 1 FROM bookings WHERE reference = ?", (ref,)).fetchone() is None:
                    break
            conn.execute(
                "INSERT INTO bookings (reference, trip, sid, itinerary, fare, travellers, seats, contact,"
                " price, total, currency, intent, last4, brand, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (ref, trip["id"], trip["sid"], json.dumps(trip["itinerary"]), trip["fare"],
                 json.dumps(trip["travellers"]), json.dumps(trip["seats"] or []), json.dumps(trip["contact"]),
                 trip["price"], total, "USD", payment["id"], payment["last4"], payment["brand"], time.time()))
            conn.execute("UPDATE trips SET booking = ? WHERE id = ?", (ref, trip["id"]))
        return ref

    def booking(self, reference: str) -> dict[str, Any] | None:
        row = self.db.one("SELECT * FROM bookings WHERE reference = ?", (reference.strip().upper(),))
        return _decode(row) if row else None

    def bookings(self) -> list[dict[str, Any]]:
        return [_decode(r) for r in self.db.all("SELECT * FROM bookings ORDER BY created_at")]

    # --- state endpoint -------------------------------------------------------

    def reset(self) -> None:
        with self.db.tx() as conn:
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")

    def snapshot(self) -> dict[str, Any]:
        from .search import FARE_BY_CODE, seat_kind

        bookings = []
        for b in self.bookings():
            it = b["itinerary"]
            segments = []
            for i, seg in enumerate(it["segments"]):
                seats = b["seats"][i] if i < len(b["seats"]) else []
                segments.append({**seg, "seats": seats, "seat_types": [seat_kind(s) for s in seats]})
            bookings.append({
                "reference": b["reference"], "status": "confirmed", "origin": it["origin"],
                "destination": it["destination"], "date": it["date"], "itinerary": it["id"],
                "stops": it["stops"], "redeye": it["redeye"], "segments": segments, "fare": b["fare"],
                "fare_name": FARE_BY_CODE[b["fare"]].name, "passengers": b["travellers"],
                "contact": b["contact"], "price_per_person": dollars(b["price"]),
                "total": dollars(b["total"]), "currency": b["currency"],
                "payment": {"intent": b["intent"], "last4": b["last4"], "brand": b["brand"]},
                "created_at": b["created_at"]})
        trips = [{"id": t["id"], "itinerary": json.loads(t["itinerary"])["id"], "fare": t["fare"],
                  "passengers": t["passengers"], "seats": json.loads(t["seats"]) if t["seats"] else None,
                  "booking": t["booking"]}
                 for t in self.db.all("SELECT * FROM trips ORDER BY created_at")]
        searches = [{k: r[k] for k in ("origin", "destination", "date", "passengers")}
                    for r in self.db.all("SELECT * FROM searches ORDER BY id")]
        refused = [{k: r[k] for k in ("origin", "destination", "date", "passengers", "why")}
                   for r in self.db.all("SELECT * FROM refused_searches ORDER BY id")]
        return {"searches": searches, "refused_searches": refused, "trips": trips, "bookings": bookings}
