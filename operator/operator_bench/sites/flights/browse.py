"""Skyway's search routes: the search form, airport autocomplete, the results page and
the (deliberately slow, batched) results endpoint the page loads as you scroll."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .data import AIRLINE_BY_CODE
from .search import FARES, SORTS, TIME_BANDS, Filters
from .site import parse_airport, suggest

if TYPE_CHECKING:
    from .site import Flights

BOOKING_WINDOW_DAYS = 330
MAX_PASSENGERS = 6


def parse_search(params: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The search form's values and per-field errors (empty when it can be searched)."""
    errors: dict[str, str] = {}
    values = {"from": params.get("from", ""), "to": params.get("to", ""), "date": params.get("date", ""),
              "passengers": params.get("passengers", "1")}
    origin, err = parse_airport(values["from"])
    if not values["from"].strip():
        errors["from"] = "Enter the airport you're flying from."
    elif err:
        errors["from"] = err
    dest, err = parse_airport(values["to"])
    if not values["to"].strip():
        errors["to"] = "Enter where you're flying to."
    elif err:
        errors["to"] = err
    if origin and dest and origin == dest:
        errors["to"] = "Choose a destination different from where you're flying from."
    day: dt.date | None = None
    try:
        day = dt.date.fromisoformat(values["date"]) if values["date"] else None
    except ValueError:
        day = None
    today = dt.date.today()
    if day is None:
        errors["date"] = "Choose a departure date."
    elif day < today:
        errors["date"] = "Choose a date from today onwards."
    elif day > today + dt.timedelta(days=BOOKING_WINDOW_DAYS):
        errors["date"] = f"Flights can be booked up to {BOOKING_WINDOW_DAYS} days ahead."
    try:
        passengers = int(values["passengers"])
    except ValueError:
        passengers = 0
    if not 1 <= passengers <= MAX_PASSENGERS:
        errors["passengers"] = f"Choose between 1 and {MAX_PASSENGERS} passengers."
    return {**values, "origin": origin, "dest": dest, "day": day, "count": passengers}, errors


def parse_filters(params: Any) -> Filters:
    def ints(name: str) -> set[int]:
        return {int(v) for v in params.getlist(name) if v.isdigit()}

    try:
        max_price = round(float(params.get("max_price", "")) * 100) if params.get("max_price") else None
    except ValueError:
        max_price = None
    sort = params.get("sort", "best")
    return Filters(airlines={a for a in params.getlist("airline") if a in AIRLINE_BY_CODE},
                   stops=ints("stops"), times={t for t in params.getlist("time") if t in TIME_BANDS},
                   max_price=max_price, sort=sort if sort in SORTS else "best")


def booking_window() -> dict[str, str]:
    # The calendar offers the days the server takes: its today, not the browser's clock.
    today = dt.date.today()
    last = today + dt.timedelta(days=BOOKING_WINDOW_DAYS)
    return {"today": today.isoformat(), "last_day": last.isoformat()}


def routes(site: Flights) -> list[Route]:
    async def home(request: Request) -> Response:
        values = {"from": "", "to": "", "date": "", "passengers": "1"}
        return site.render(request, "home.html", values=values, errors={}, **booking_window())

    async def results(request: Request) -> Response:
        query, errors = parse_search(request.query_params)
        if errors:
            typed = {k: str(query.get(k) or "") for k in ("from", "to", "date", "passengers")}
            site.state.record_refused(typed, "; ".join(errors.values()))
            return site.render(request, "home.html", 400, values=query, errors=errors, **booking_window())
        site.state.record_search(query["origin"], query["dest"], query["day"].isoformat(), query["count"])
        found = site.schedule.search(query["origin"], query["dest"], query["day"])
        airlines: dict[str, int] = {}
        stops: dict[int, int] = {}
        for it in found:
            for code in it.airlines:
                airlines[code] = min(airlines.get(code, it.price), it.price)
            stops[min(it.stops, 2)] = min(stops.get(min(it.stops, 2), it.price), it.price)
        return site.render(request, "results.html", query=query, total=len(found), sorts=SORTS,
                           airline_prices=sorted(airlines.items(), key=lambda x: AIRLINE_BY_CODE[x[0]].name),
                           stop_prices=sorted(stops.items()), time_bands=TIME_BANDS)

    async def airports(request: Request) -> Response:
        return JSONResponse(suggest(request.query_params.get("q", "")))

    async def flights(request: Request) -> Response:
        if site.knobs.slow_ms > 0:
            await asyncio.sleep(site.knobs.slow_ms / 1000)  # the hazard: a search that takes its time
        query, errors = parse_search(request.query_params)
        if errors:
            return JSONResponse({"error": " ".join(errors.values())}, status_code=400)
        filters = parse_filters(request.query_params)
        found = filters.apply(site.schedule.search(query["origin"], query["dest"], query["day"]))
        try:
            offset = max(0, int(request.query_params.get("offset", "0")))
        except ValueError:
            offset = 0
        batch = found[offset:offset + max(1, site.knobs.results_batch)]
        html = site.tpl.get_template("_results.html").render(
            itineraries=batch, passengers=query["count"], fares=FARES, start=offset)
        nxt = offset + len(batch)
        return JSONResponse({"total": len(found), "offset": offset, "next": nxt if nxt < len(found) else None,
                             "html": html})

    return [
        Route("/", home),
        Route("/results", results),
        Route("/api/airports", airports),
        Route("/api/flights", flights),
    ]
