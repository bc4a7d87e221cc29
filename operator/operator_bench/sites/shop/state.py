"""The shop's server-side state in SQLite: sessions and sign-ins, carts, checkouts in
progress, orders and newsletter sign-ups. A reset empties all of it; the catalogue
(a separate database) is never touched."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..common import Db, dollars

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo1234"
DEMO_ADDRESS = {
    "full_name": "Alex Morgan", "line1": "42 Harbour Street", "line2": "Apt 3", "city": "Springfield",
    "state": "IL", "postcode": "62704", "country": "United States", "phone": "(217) 555-0142",
}
USERS: dict[str, dict[str, Any]] = {
    DEMO_EMAIL: {"password": DEMO_PASSWORD, "name": "Alex Morgan", "address": DEMO_ADDRESS},
}
MAX_PER_LINE = 10
FREE_SHIPPING_OVER = 3500


@dataclass(frozen=True)
class ShippingOption:
    code: str
    name: str
    eta: str
    price: int  # cents


SHIPPING = (
    ShippingOption("standard", "Standard delivery", "5-7 business days", 499),
    ShippingOption("express", "Express delivery", "2 business days", 999),
    ShippingOption("next-day", "Next-day delivery", "Next business day, order by 4 pm", 1999),
)
SHIPPING_BY_CODE = {o.code: o for o in SHIPPING}


def shipping_price(option: ShippingOption, subtotal: int) -> int:
    return 0 if option.code == "standard" and subtotal >= FREE_SHIPPING_OVER else option.price


SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, email TEXT, signed_in_at REAL,
  created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sign_ins (id INTEGER PRIMARY KEY AUTOINCREMENT, sid TEXT NOT NULL,
  email TEXT NOT NULL, ok INTEGER NOT NULL, reason TEXT, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cart_items (sid TEXT NOT NULL, variant_id INTEGER NOT NULL, qty INTEGER NOT NULL,
  added_at REAL NOT NULL, PRIMARY KEY (sid, variant_id));
CREATE TABLE IF NOT EXISTS checkouts (sid TEXT PRIMARY KEY, address TEXT, shipping TEXT);
CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT UNIQUE NOT NULL,
  sid TEXT NOT NULL, email TEXT NOT NULL, items TEXT NOT NULL, subtotal INTEGER NOT NULL,
  shipping INTEGER NOT NULL, total INTEGER NOT NULL, currency TEXT NOT NULL, shipping_option TEXT NOT NULL,
  address TEXT NOT NULL, intent TEXT NOT NULL, last4 TEXT NOT NULL, brand TEXT NOT NULL,
  created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS newsletter (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL,
  at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS searches (id INTEGER PRIMARY KEY AUTOINCREMENT, q TEXT NOT NULL,
  category TEXT NOT NULL, results INTEGER NOT NULL, at REAL NOT NULL);
"""
TABLES = ("sessions", "sign_ins", "cart_items", "checkouts", "orders", "newsletter", "searches")


@dataclass
class Account:
    email: str | None  # who the session belongs to (kept after expiry, to greet them)
    signed_in: bool
    expired: bool

    @property
    def name(self) -> str:
        return str(USERS.get(self.email or "", {}).get("name", "")) if self.email else ""


class ShopState:
    def __init__(self, path: Path) -> None:
        self.db = Db(path)
        self.db.script(SCHEMA)
        self._rng = random.Random()

    # --- sessions -----------------------------------------------------------

    def account(self, sid: str, ttl_s: float) -> Account:
        row = self.db.one("SELECT email, signed_in_at FROM sessions WHERE sid = ?", (sid,))
        if row is None or not row["email"]:
            return Account(None, False, False)
        fresh = (row["signed_in_at"] or 0) + ttl_s > time.time()
        return Account(row["email"], fresh, not fresh)

    def sign_in(self, sid: str, email: str, password: str) -> bool:
        email = email.strip().lower()
        user = USERS.get(email)
        ok = user is not None and user["password"] == password
        now = time.time()
        with self.db.tx() as conn:
            conn.execute("INSERT INTO sign_ins (sid, email, ok, reason, at) VALUES (?,?,?,?,?)",
                         (sid, email, int(ok), None if ok else "wrong email or password", now))
            if ok:
                conn.execute("INSERT INTO sessions (sid, email, signed_in_at, created_at) VALUES (?,?,?,?)"
                             " ON CONFLICT(sid) DO UPDATE SET email = excluded.email,"
                             " signed_in_at = excluded.signed_in_at", (sid, email, now, now))
        return ok

    def sign_out(self, sid: str) -> None:
        with self.db.tx() as conn:
            conn.execute("DELETE FROM sessions WHERE sid = ?", (sid,))
            conn.execute("DELETE FROM checkouts WHERE sid = ?", (sid,))

    def expire_sessions(self) -> int:
        """Every sign-in ends now (the hazard, on demand); carts and checkouts stay."""
        with self.db.lock:
            cur = self.db.conn.execute("UPDATE sessions SET signed_in_at = 0 WHERE email IS NOT NULL")
            return cur.rowcount

    # --- cart ---------------------------------------------------------------

    def cart_lines(self, sid: str) -> list[dict[str, Any]]:
        return self.db.all("SELECT variant_id, qty FROM cart_items WHERE sid = ? ORDER BY added_at", (sid,))

    def cart_count(self, sid: str) -> int:
        row = self.db.one("SELECT COALESCE(SUM(qty), 0) AS n FROM cart_items WHERE sid = ?", (sid,))
        return int(row["n"]) if row else 0

    def add_to_cart(self, sid: str, variant_id: int, qty: int, stock: int) -> int:
        """Adds qty (capped by stock and the per-line limit); returns the line's new quantity."""
        with self.db.lock:
            row = self.db.one("SELECT qty FROM cart_items WHERE sid = ? AND variant_id = ?",
                              (sid, variant_id))
            new = min((row["qty"] if row else 0) + qty, stock, MAX_PER_LINE)
            self.db.run("INSERT INTO cart_items (sid, variant_id, qty, added_at) VALUES (?,?,?,?)"
                        " ON CONFLICT(sid, variant_id) DO UPDATE SET qty = excluded.qty",
                        (sid, variant_id, new, time.time()))
        return new

    def set_quantity(self, sid: str, variant_id: int, qty: int) -> None:
        if qty <= 0:
            self.remove(sid, variant_id)
        else:
            self.db.run("UPDATE cart_items SET qty = ? WHERE sid = ? AND variant_id = ?",
                        (min(qty, MAX_PER_LINE), sid, variant_id))

    def remove(self, sid: str, variant_id: int) -> None:
        self.db.run("DELETE FROM cart_items WHERE sid = ? AND variant_id = ?", (sid, variant_id))

    # --- checkout -----------------------------------------------------------

    def checkout(self, sid: str) -> dict[str, Any]:
        row = self.db.one("SELECT address, shipping FROM checkouts WHERE sid = ?", (sid,))
        if row is None:
            return {"address": None, "shipping": None}
        address = json.loads(row["address"]) if row["address"] else None
        return {"address": address, "shipping": row["shipping"]}

    def save_checkout(self, sid: str, *, address: dict[str, str] | None = None,
                      shipping: str | None = None) -> None:
        current = self.checkout(sid)
        address = address if address is not None else current["address"]
        shipping = shipping if shipping is not None else current["shipping"]
        self.db.run("INSERT INTO checkouts (sid, address, shipping) VALUES (?,?,?) ON CONFLICT(sid)"
                    " DO UPDATE SET address = excluded.address, shipping = excluded.shipping",
                    (sid, json.dumps(address) if address else None, shipping))

    def place_order(self, sid: str, email: str, lines: list[dict[str, Any]], *, subtotal: int, shipping: int,
                    option: str, address: dict[str, str], payment: dict[str, Any]) -> str:
        with self.db.tx() as conn:
            while True:
                number = f"BC-{self._rng.randint(10_000_000, 99_999_999)}"
                if conn.execute("SELECT 1 FROM orders WHERE number = ?", (number,)).fetchone() is None:
                    break
            conn.execute(
                "INSERT INTO orders (number, sid, email, items, subtotal, shipping, total, currency,"
                " shipping_option, address, intent, last4, brand, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (number, sid, email, json.dumps(lines), subtotal, shipping, subtotal + shipping, "USD",
                 option, json.dumps(address), payment["id"], payment["last4"], payment["brand"], time.time()))
            conn.execute("DELETE FROM cart_items WHERE sid = ?", (sid,))
            conn.execute("UPDATE checkouts SET shipping = NULL WHERE sid = ?", (sid,))
        return number

    def orders(self, email: str | None = None) -> list[dict[str, Any]]:
        rows = self.db.all("SELECT * FROM orders WHERE (? IS NULL OR email = ?) ORDER BY id", (email, email))
        return [self._order(r) for r in rows]

    def order(self, number: str) -> dict[str, Any] | None:
        row = self.db.one("SELECT * FROM orders WHERE number = ?", (number,))
        return self._order(row) if row else None

    @staticmethod
    def _order(r: dict[str, Any]) -> dict[str, Any]:
        return {**r, "items": json.loads(r["items"]), "address": json.loads(r["address"])}

    def searched(self, q: str, category: str, results: int) -> None:
        """A search someone made (the first page of it): what an evaluation checks was looked for."""
        self.db.run("INSERT INTO searches (q, category, results, at) VALUES (?, ?, ?, ?)",
                    (q, category, results, time.time()))

    def subscribe(self, email: str) -> None:
        self.db.run("INSERT INTO newsletter (email, at) VALUES (?, ?)", (email, time.time()))

    # --- state endpoint -----------------------------------------------------

    def reset(self) -> None:
        with self.db.tx() as conn:
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")

    def snapshot(self) -> dict[str, Any]:
        orders = [{
            "number": o["number"], "email": o["email"], "items": [_public_line(i) for i in o["items"]],
            "subtotal": dollars(o["subtotal"]), "shipping": dollars(o["shipping"]),
            "total": dollars(o["total"]),
            "currency": o["currency"], "shipping_option": o["shipping_option"], "address": o["address"],
            "payment": {"intent": o["intent"], "last4": o["last4"], "brand": o["brand"]},
            "created_at": o["created_at"]} for o in self.orders()]
        sign_ins = [{"email": r["email"], "ok": bool(r["ok"]), "reason": r["reason"], "at": r["at"]}
                    for r in self.db.all("SELECT * FROM sign_ins ORDER BY id")]
        sessions = self.db.all("SELECT sid, email FROM sessions")
        owners = {s["sid"]: s["email"] for s in sessions}
        carts: dict[str, list[dict[str, Any]]] = {}
        for r in self.db.all("SELECT sid, variant_id, qty FROM cart_items ORDER BY added_at"):
            carts.setdefault(r["sid"], []).append({"variant_id": r["variant_id"], "quantity": r["qty"]})
        return {
            "orders": orders,
            "carts": [{"session": sid[:8], "email": owners.get(sid), "items": items}
                      for sid, items in carts.items()],
            "sign_ins": sign_ins,
            "newsletter": [r["email"] for r in self.db.all("SELECT email FROM newsletter ORDER BY id")],
            "searches": [{"q": r["q"], "category": r["category"], "results": r["results"], "at": r["at"]}
                         for r in self.db.all("SELECT * FROM searches ORDER BY id")],
        }


def _public_line(line: dict[str, Any]) -> dict[str, Any]:
    return {k: (dollars(v) if k in {"unit_price", "line_total"} else v) for k, v in line.items()}
