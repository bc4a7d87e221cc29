"""Skyway, the practice flight-booking site: wires the schedule, the state, the payment
processor and the hazard knobs into one Starlette app (routes in browse.py, booking.py)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from ..common import Knobs, admin_routes, static_mount, templates
from ..payments import Processor
from ..sessions import SessionCookie
from ..variant import VariantMiddleware
from .data import AIRLINE_BY_CODE, AIRPORT_BY_CODE, AIRPORTS
from .search import Schedule, seat_kind
from .state import FlightState

MERCHANT = "Skyway"
SESSION_COOKIE = "sk_session"
CONSENT_COOKIE = "sk_consent"


def hm(minutes: int) -> str:
    return f"{minutes // 60}h {minutes % 60:02d}m"


def day_label(iso: str) -> str:
    """'2026-07-14...' -> 'Tue 14 Jul 2026'."""
    return dt.date.fromisoformat(iso[:10]).strftime("%a %-d %b %Y")


def parse_airport(text: str) -> tuple[str | None, str]:
    """(code, error) for what a person typed or picked: 'Lisbon (LIS)', 'lis', 'Lisbon'."""
    text = (text or "").strip()
    if not text:
        return None, ""
    m = re.search(r"\(([A-Za-z]{3})\)\s*$", text)
    code = (m.group(1) if m else text).upper()
    if code in AIRPORT_BY_CODE:
        return code, ""
    needle = text.lower()
    matches = [a for a in AIRPORTS if needle in (a.city.lower(), a.name.lower())]
    if len(matches) == 1:
        return matches[0].code, ""
    if len(matches) > 1:
        return None, f"More than one airport matches “{text}”. Choose one from the list."
    return None, f"We don't recognise the airport “{text}”. Choose an airport from the list."


def suggest(q: str, limit: int = 8) -> list[dict[str, str]]:
    """Autocomplete: codes first, then cities and airport names that start with q, then contain it."""
    q = q.strip().lower()
    if not q:
        return []
    scored = []
    for a in AIRPORTS:
        fields = (a.code.lower(), a.city.lower(), a.name.lower(), a.country.lower())
        if fields[0] == q:
            rank = 0
        elif any(f.startswith(q) for f in fields[1:3]):
            rank = 1
        elif any(q in f for f in fields):
            rank = 2
        else:
            continue
        scored.append((rank, a.city, a))
    scored.sort(key=lambda x: (x[0], x[1]))
    return [{"code": a.code, "label": a.label, "detail": f"{a.name}, {a.country}"}
            for _, _, a in scored[:limit]]


class Flights:
    def __init__(self, schedule: Schedule, state: FlightState, processor: Processor, knobs: Knobs,
                 payments_url: str) -> None:
        self.schedule = schedule
        self.state = state
        self.processor = processor
        self.knobs = knobs
        self.payments_url = payments_url
        self.tpl = templates("flights", airports=AIRPORT_BY_CODE, airlines=AIRLINE_BY_CODE, hm=hm,
                             seat_kind=seat_kind, day_label=day_label)

    def render(self, request: Request, name: str, status: int = 200, **ctx: Any) -> Response:
        base = {"cookie_banner": self.knobs.cookie_banner and not request.cookies.get(CONSENT_COOKIE)}
        return self.tpl.TemplateResponse(request, name, {**base, **ctx}, status_code=status)

    def snapshot(self) -> dict[str, Any]:
        return {"site": "flights", "seed": self.schedule.seed, **self.state.snapshot(),
                "payments": self.processor.submissions(MERCHANT), "knobs": self.knobs.as_dict()}

    def reset(self) -> None:
        self.state.reset()
        self.processor.reset(MERCHANT)
        self.knobs.restore()

    def app(self) -> Starlette:
        from . import booking, browse

        routes = [*browse.routes(self), *booking.routes(self),
                  *admin_routes(self.snapshot, self.reset, self.knobs), static_mount("flights")]
        return Starlette(routes=routes, middleware=[
            Middleware(SessionCookie, cookie=SESSION_COOKIE),
            Middleware(VariantMiddleware, enabled=lambda: self.knobs.variant)])
