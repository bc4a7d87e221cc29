"""Plumbing shared by the practice sites: where their files live, money, SQLite,
templates, the hazard knobs and the state/reset/control endpoints."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from operator_agent.package_data import package_dir
from operator_agent.protocols import ConfigError

SITES_ENV = "OPERATOR_SITES_DIR"


def sites_dir() -> Path:
    """The sites' templates and static files (shop/, flights/, payments/): $OPERATOR_SITES_DIR,
    else the package's own web/ folder."""
    env = os.environ.get(SITES_ENV)
    if not env:
        return package_dir("operator_bench.sites", "web")
    path = Path(env)
    if not path.is_dir():
        raise ConfigError(f"${SITES_ENV} is {env}, which is not a folder (it should hold shop/, flights/ "
                          "and payments/)")
    return path


def money(cents: int | None) -> str:
    if cents is None:
        return ""
    return f"${cents / 100:,.2f}"


def dollars(cents: int) -> float:
    """State endpoints report amounts in dollars (two decimals), as a receipt does."""
    return round(cents / 100, 2)


def token(n: int = 16) -> str:
    return secrets.token_urlsafe(n)


def origin_of(request: Request) -> str:
    """The origin the browser used for this request (host header, so localhost stays localhost)."""
    return f"{request.url.scheme}://{request.headers.get('host') or request.url.netloc}"


@dataclass
class Knobs:
    """Controls for the deliberate hazards. Defaults are what a real site does."""

    newsletter_delay_ms: int = 8000  # the shop's pop-up shows this long after a page loads; -1: never
    session_ttl_s: float = 900.0  # a shop sign-in lasts this long, then asks to sign in again
    slow_ms: int = 1500  # how long the flight search endpoint takes to answer
    results_batch: int = 10  # flight results loaded per scroll
    cookie_banner: bool = True  # both sites ask for cookie consent until answered
    variant: bool = False  # a redesign: renamed ids and classes, moved layout, reworded buttons (variant.py)
    payment_delay_ms: int = 0  # the payment processor takes this long to answer a card (a busy processor)

    def __post_init__(self) -> None:
        self.set_baseline()

    def set_baseline(self) -> None:
        """The current values become what restore() returns to."""
        self._baseline = asdict(self)

    def restore(self) -> None:
        """Back to the values this object was created with (what a reset does)."""
        for name, value in self._baseline.items():
            setattr(self, name, value)

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        unknown = set(changes) - set(known)
        if unknown:
            raise ValueError(f"unknown knob(s): {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            current = getattr(self, name)
            if isinstance(current, bool):
                if isinstance(value, str):  # from a query string or a hand-written JSON
                    value = value.strip().lower() in {"1", "true", "yes", "on"}
                setattr(self, name, bool(value))
            elif isinstance(current, int):
                setattr(self, name, int(value))
            else:
                setattr(self, name, float(value))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)



class Db:
    """One SQLite connection shared by a server's threads (and a test calling in directly);
    a lock serialises use, which is plenty for one person clicking through a site."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA synchronous=OFF")  # practice state: speed over durability
        self.lock = threading.RLock()

    def all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> dict[str, Any] | None:
        with self.lock:
            row = self.conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def run(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        with self.lock:
            return self.conn.execute(sql, params).lastrowid or 0

    def script(self, sql: str) -> None:
        with self.lock:
            self.conn.executescript(sql)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            self.conn.close()


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def templates(site: str, **globals_: Any) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(sites_dir() / site / "templates")),
        autoescape=jinja2.select_autoescape(default=True),
        trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = money
    env.filters["date"] = lambda ts: time.strftime("%-d %B %Y", time.localtime(ts))
    env.globals.update(globals_)
    return Jinja2Templates(env=env)


def static_mount(site: str) -> Mount:
    return Mount("/static", StaticFiles(directory=str(sites_dir() / site / "static")), name="static")


def admin_routes(state: Callable[[], dict[str, Any]], reset: Callable[[], None],
                 knobs: Knobs) -> list[BaseRoute]:
    """/api/state (GET), /api/reset (POST), /api/control (GET; POST a JSON object of knobs)."""

    async def get_state(request: Request) -> Response:
        return JSONResponse(state())

    async def post_reset(request: Request) -> Response:
        reset()
        return JSONResponse({"ok": True})

    async def control(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = await request.json()
                if not isinstance(changes, dict):
                    raise ValueError("send a JSON object of knobs")
                knobs.update(changes)
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(knobs.as_dict())

    return [
        Route("/api/state", get_state, methods=["GET"]),
        Route("/api/reset", post_reset, methods=["POST"]),
        Route("/api/control", control, methods=["GET", "POST"]),
    ]
