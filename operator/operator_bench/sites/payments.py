"""Paylane, the practice sites' payment processor, on its own origin.

A merchant (the shop, the flights site) creates a payment intent on its server
(`Processor.create_intent`, a direct call: all sites run in one process), then
embeds `/pay/<intent>` from this origin in an iframe. The card form in that
iframe sends the details here, never to the merchant; the result is recorded
here and posted to the parent page with postMessage, and the merchant's server
then checks the intent with `Processor.capture` before it places the order.
Only the amount, currency, merchant and last four digits are kept.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import cards
from .common import Db, Knobs, admin_routes, dollars, money, static_mount, templates, token
from .variant import VariantMiddleware

SCHEMA = """
CREATE TABLE IF NOT EXISTS intents (
  id TEXT PRIMARY KEY, merchant TEXT NOT NULL, description TEXT NOT NULL, amount INTEGER NOT NULL,
  currency TEXT NOT NULL, origin TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open',
  captured INTEGER NOT NULL DEFAULT 0, last4 TEXT, brand TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, intent TEXT NOT NULL, merchant TEXT NOT NULL,
  description TEXT NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL, last4 TEXT NOT NULL,
  brand TEXT NOT NULL, status TEXT NOT NULL, code TEXT NOT NULL, at REAL NOT NULL);
"""


class Processor:
    """Intents and card submissions, in SQLite."""

    def __init__(self, path: Path) -> None:
        self.db = Db(path)
        self.db.script(SCHEMA)

    def create_intent(self, *, merchant: str, amount: int, currency: str, description: str,
                      origin: str) -> str:
        intent = "pi_" + token(12)
        self.db.run("INSERT INTO intents (id, merchant, description, amount, currency, origin, created_at)"
                    " VALUES (?,?,?,?,?,?,?)", (intent, merchant, description, amount, currency, origin,
                                                time.time()))
        return intent

    def intent(self, intent: str) -> dict[str, Any] | None:
        return self.db.one("SELECT * FROM intents WHERE id = ?", (intent,))

    def confirm(self, intent: str, number: str, expiry: str, cvc: str, name: str, *,
                amount: object = None, currency: object = None) -> dict[str, Any]:
        """The card form's submission: {status, message, errors}. An amount or currency sent
        with the card must be the intent's (the payer confirms what they saw)."""
        with self.db.lock:
            row = self.intent(intent)
            if row is None:
                return {"status": "error", "message": "This payment link is not valid.", "errors": {}}
            if not _same_amount(amount, currency, row):
                return {"status": "error", "message": "The amount does not match this payment.", "errors": {}}
            if row["status"] == "approved":
                return {"status": "error", "message": "This payment has already been completed.",
                        "errors": {}}
            errors = cards.field_errors(number, expiry, cvc, name)
            if errors:  # a malformed form is refused before any charge is attempted
                return {"status": "invalid", "message": "Check your card details.", "errors": errors}
            num = cards.digits(number)
            outcome = cards.decide(num)
            status = "approved" if outcome.approved else "declined"
            brand = cards.brand_of(num)
            self.db.run("INSERT INTO submissions (intent, merchant, description, amount, currency, last4,"
                        " brand, status, code, at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (intent, row["merchant"], row["description"], row["amount"], row["currency"],
                         num[-4:], brand, status, outcome.code, time.time()))
            if outcome.approved:
                self.db.run("UPDATE intents SET status='approved', last4=?, brand=? WHERE id=?",
                            (num[-4:], brand, intent))
            return {"status": status, "code": outcome.code, "message": outcome.message, "errors": {},
                    "last4": num[-4:], "brand": brand}

    def capture(self, intent: str, *, merchant: str, amount: int) -> dict[str, Any] | None:
        """The merchant's server check: the approved intent, once, for this merchant and amount."""
        with self.db.lock:
            row = self.intent(intent)
            if (row is None or row["status"] != "approved" or row["captured"]
                    or row["merchant"] != merchant or row["amount"] != amount):
                return None
            self.db.run("UPDATE intents SET captured = 1 WHERE id = ?", (intent,))
            return row

    def submissions(self, merchant: str | None = None) -> list[dict[str, Any]]:
        rows = self.db.all("SELECT * FROM submissions WHERE (? IS NULL OR merchant = ?) ORDER BY id",
                           (merchant, merchant))
        return [{"id": r["id"], "intent": r["intent"], "merchant": r["merchant"],
                 "description": r["description"], "amount": dollars(r["amount"]), "currency": r["currency"],
                 "last4": r["last4"], "brand": r["brand"], "status": r["status"], "code": r["code"],
                 "at": r["at"]} for r in rows]

    def reset(self, merchant: str | None = None) -> None:
        with self.db.tx() as conn:
            conn.execute("DELETE FROM submissions WHERE (? IS NULL OR merchant = ?)", (merchant, merchant))
            conn.execute("DELETE FROM intents WHERE (? IS NULL OR merchant = ?)", (merchant, merchant))

    def state(self) -> dict[str, Any]:
        intents = self.db.all("SELECT id, merchant, description, amount, currency, status, captured"
                              " FROM intents ORDER BY created_at")
        for i in intents:
            i["amount"] = dollars(i["amount"])
            i["captured"] = bool(i["captured"])
        return {"site": "payments", "intents": intents, "submissions": self.submissions()}


def _same_amount(amount: object, currency: object, row: dict[str, Any]) -> bool:
    if currency is not None and str(currency).upper() != row["currency"]:
        return False
    if amount is None:
        return True
    try:
        return round(Decimal(str(amount)) * 100) == row["amount"]
    except (InvalidOperation, ValueError):
        return False


def create_app(processor: Processor, knobs: Knobs) -> Starlette:
    tpl = templates("payments")

    async def home(request: Request) -> Response:
        return tpl.TemplateResponse(request, "home.html", {})

    async def pay(request: Request) -> Response:
        row = processor.intent(request.path_params["intent"])
        parent = request.query_params.get("parent", "")
        if row is None or parent != row["origin"]:
            return tpl.TemplateResponse(request, "invalid.html", {}, status_code=404)
        return tpl.TemplateResponse(request, "pay.html", {
            "intent": row, "amount": money(row["amount"]), "amount_value": f"{row['amount'] / 100:.2f}",
            "parent": parent})

    async def confirm(request: Request) -> Response:
        if knobs.payment_delay_ms > 0:
            await asyncio.sleep(knobs.payment_delay_ms / 1000)  # the hazard: a processor that takes its time
        try:
            data = await request.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return JSONResponse({"status": "error", "message": "Invalid request.", "errors": {}}, 400)
        result = processor.confirm(request.path_params["intent"], str(data.get("number") or ""),
                                   str(data.get("expiry") or ""), str(data.get("cvc") or ""),
                                   str(data.get("name") or ""), amount=data.get("amount"),
                                   currency=data.get("currency"))
        code = {"approved": 200, "declined": 402, "invalid": 422}.get(result["status"], 400)
        return JSONResponse(result, status_code=code)

    def reset() -> None:
        processor.reset()
        knobs.restore()

    routes = [
        Route("/", home),
        Route("/pay/{intent}", pay),
        Route("/api/intents/{intent}/confirm", confirm, methods=["POST"]),
        *admin_routes(processor.state, reset, knobs),
        static_mount("payments"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(VariantMiddleware, enabled=lambda: knobs.variant)])
