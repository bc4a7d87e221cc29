"""PracticeSites: the shop, the flights site and the payment processor, started
together in this process (uvicorn in background threads) on loopback.

    with PracticeSites(seed=0) as sites:
        sites.shop_url, sites.flights_url, sites.payments_url
        sites.state("shop")      # what the server holds: orders, carts, sign-ins, payments
        sites.reset()            # back to a known state (and the default knobs)

Payments are served as `localhost`, the other two as 127.0.0.1, so the card form
is a different site from the merchant, as a real processor's is.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from .common import Knobs
from .flights import data as flight_data
from .flights.search import Schedule
from .flights.site import CONSENT_COOKIE as FLIGHTS_CONSENT
from .flights.site import Flights
from .flights.state import FlightState
from .payments import Processor
from .payments import create_app as payments_app
from .runner import ThreadedServer
from .shop.catalog import Catalog
from .shop.generate import DEFAULT_COUNT
from .shop.generate import build as build_catalog
from .shop.site import CONSENT_COOKIE as SHOP_CONSENT
from .shop.site import NEWSLETTER_COOKIE, Shop
from .shop.state import ShopState

SITES = ("shop", "flights", "payments")


def _url_host(host: str, *, other_site: bool = False) -> str:
    loopback = host in ("127.0.0.1", "0.0.0.0", "localhost")
    if other_site and loopback:
        return "localhost"
    return "127.0.0.1" if host == "0.0.0.0" else host


class PracticeSites:
    def __init__(self, seed: int = 0, *, state_dir: Path | str | None = None, host: str = "127.0.0.1",
                 shop_port: int = 0, flights_port: int = 0, payments_port: int = 0,
                 knobs: Knobs | dict[str, Any] | None = None, catalog_size: int = DEFAULT_COUNT) -> None:
        self.seed = seed
        self.host = host
        self.ports = {"shop": shop_port, "flights": flights_port, "payments": payments_port}
        self.catalog_size = catalog_size
        if isinstance(knobs, Knobs):
            self.knobs = knobs
        else:
            self.knobs = Knobs()
            self.knobs.update(knobs or {})
            self.knobs.set_baseline()  # these values are what a reset returns to
        self._own_dir = state_dir is None
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="operator-sites-"))
        self._servers: dict[str, ThreadedServer] = {}
        self.shop: Shop | None = None
        self.flights: Flights | None = None
        self.processor: Processor | None = None

    # --- lifecycle --------------------------------------------------------------

    def start(self) -> PracticeSites:
        d = self.state_dir
        d.mkdir(parents=True, exist_ok=True)
        try:
            self.processor = Processor(d / "payments.sqlite")
            pay = ThreadedServer(payments_app(self.processor, self.knobs), host=self.host,
                                 port=self.ports["payments"], url_host=_url_host(self.host, other_site=True),
                                 name="payments")
            self._servers["payments"] = pay
            catalog_path = d / f"shop-catalog-{self.seed}.sqlite"
            catalog = Catalog(build_catalog(self.seed, catalog_path, self.catalog_size))
            self.shop = Shop(catalog, ShopState(d / "shop-state.sqlite"), self.processor, self.knobs, pay.url)
            self._servers["shop"] = ThreadedServer(self.shop.app(), host=self.host, port=self.ports["shop"],
                                                   url_host=_url_host(self.host), name="shop")
            seed, legs = flight_data.load(flight_data.build(self.seed, d / f"flights-{self.seed}.sqlite"))
            self.flights = Flights(Schedule(seed, legs), FlightState(d / "flights-state.sqlite"),
                                   self.processor, self.knobs, pay.url)
            self._servers["flights"] = ThreadedServer(
                self.flights.app(), host=self.host, port=self.ports["flights"], url_host=_url_host(self.host),
                name="flights")
            for server in self._servers.values():
                server.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()
        for db in (self.processor.db if self.processor else None,
                   self.shop.state.db if self.shop else None, self.shop.catalog.db if self.shop else None,
                   self.flights.state.db if self.flights else None):
            if db is not None:
                db.close()
        self.shop = self.flights = self.processor = None
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def wait(self) -> None:
        """Blocks while the servers run (Ctrl+C raises KeyboardInterrupt here)."""
        for server in list(self._servers.values()):
            server.wait()

    def __enter__(self) -> PracticeSites:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- addresses ----------------------------------------------------------------

    def url(self, site: str) -> str:
        if site not in self._servers:
            raise KeyError(f"unknown or stopped site {site!r}; sites are {', '.join(SITES)}")
        return self._servers[site].url

    @property
    def shop_url(self) -> str:
        return self.url("shop")

    @property
    def flights_url(self) -> str:
        return self.url("flights")

    @property
    def payments_url(self) -> str:
        return self.url("payments")

    # --- state ----------------------------------------------------------------------

    def state(self, site: str) -> dict[str, Any]:
        """What GET <site>/api/state returns, read directly."""
        if site == "shop" and self.shop:
            return self.shop.snapshot()
        if site == "flights" and self.flights:
            return self.flights.snapshot()
        if site == "payments" and self.processor:
            return self.processor.state()
        raise KeyError(f"unknown or stopped site {site!r}; sites are {', '.join(SITES)}")

    def reset(self, site: str | None = None) -> None:
        """Empties the state of one site (or all) and restores the default knobs."""
        if site not in (None, *SITES):
            raise KeyError(f"unknown site {site!r}; sites are {', '.join(SITES)}")
        if site in (None, "shop") and self.shop:
            self.shop.reset()
        if site in (None, "flights") and self.flights:
            self.flights.reset()
        if site in (None, "payments") and self.processor:
            self.processor.reset()
        self.knobs.restore()

    def configure(self, **knobs: Any) -> None:
        """Changes hazard knobs until the next reset (see Knobs)."""
        self.knobs.update(knobs)

    def expire_sessions(self) -> int:
        """Ends every shop sign-in now, as if the session lifetime had passed."""
        return self.shop.state.expire_sessions() if self.shop else 0

    def dismissed_cookies(self) -> list[dict[str, str]]:
        """Cookies for `context.add_cookies(...)` that answer the cookie banners and the
        newsletter pop-up beforehand, for a test about something else."""
        return [
            {"name": SHOP_CONSENT, "value": "essential", "url": self.shop_url},
            {"name": NEWSLETTER_COOKIE, "value": "dismissed", "url": self.shop_url},
            {"name": FLIGHTS_CONSENT, "value": "necessary", "url": self.flights_url},
        ]
