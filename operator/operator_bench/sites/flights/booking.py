"""Skyway's booking routes: fare choice starts a trip, then seats (a seat map per
flight), passenger details, card payment in Paylane's cross-origin iframe, the
confirmation with a booking reference, and booking lookup."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..common import origin_of
from ..sessions import session_id
from .search import FARE_BY_CODE, SEAT_LETTERS
from .site import MERCHANT

if TYPE_CHECKING:
    from .site import Flights

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def routes(site: Flights) -> list[Route]:
    def load(request: Request) -> dict[str, Any] | None:
        return site.state.trip(request.path_params["trip"], session_id(request))

    def seat_maps(trip: dict[str, Any]) -> list[dict[str, Any]]:
        maps = []
        for seg in trip["itinerary"]["segments"]:
            leg = site.schedule.by_number[seg["flight"]]
            taken = site.schedule.taken_seats(leg, seg["depart"][:10]) | site.state.booked_seats(
                seg["flight"], seg["depart"])
            maps.append({"segment": seg, "rows": leg.rows, "taken": sorted(taken)})
        return maps

    def not_found(request: Request) -> Response:
        return site.render(request, "message.html", 404, title="Trip not found",
                           message="This booking session has ended. Start a new search to book a flight.")

    async def start(request: Request) -> Response:
        form = await request.form()
        itinerary = site.schedule.find(str(form.get("itinerary") or ""))
        fare = FARE_BY_CODE.get(str(form.get("fare") or ""))
        passengers = _int(form.get("passengers"), 1)
        if itinerary is None or fare is None or not 1 <= passengers <= 6 or itinerary.date < dt.date.today():
            return site.render(
                request, "message.html", 400, title="That fare is no longer available",
                message="Prices and availability change quickly. Search again to see current fares.")
        trip = site.state.start_trip(session_id(request), itinerary.as_dict(), fare.code, passengers,
                                     itinerary.fares[fare.code])
        return _redirect(f"/trip/{trip}/seats")

    async def seats(request: Request) -> Response:
        trip = load(request)
        if trip is None:
            return not_found(request)
        if trip["booking"]:
            return _redirect(f"/booking/{trip['booking']}")
        maps = seat_maps(trip)
        errors: list[str] = []
        chosen: list[list[str]] = trip["seats"] or [[] for _ in maps]
        if request.method == "POST":
            form = await request.form()
            if form.get("action") == "skip":
                site.state.update_trip(trip["id"], seats=[[] for _ in maps])
                return _redirect(f"/trip/{trip['id']}/passengers")
            chosen = []
            for i, m in enumerate(maps):
                typed = str(form.get(f"seats_{i}") or "").split(",")
                picked = [s.strip().upper() for s in typed if s.strip()]
                chosen.append(picked)
                route = f"{m['segment']['origin']} → {m['segment']['destination']}"
                valid = all(re.fullmatch(r"\d{1,2}[A-F]", s) and 1 <= int(s[:-1]) <= m["rows"]
                            for s in picked)
                if not valid or len(set(picked)) != len(picked):
                    errors.append(f"Those seats don't exist on the {route} flight.")
                elif set(picked) & set(m["taken"]):
                    errors.append(f"Someone has just taken one of your seats on {route}. Choose another.")
                elif len(picked) != trip["passengers"]:
                    n = trip["passengers"]
                    errors.append(f"Choose {n} seat{'s' if n > 1 else ''} on the {route} flight,"
                                  " or skip seat selection.")
            if not errors:
                site.state.update_trip(trip["id"], seats=chosen)
                return _redirect(f"/trip/{trip['id']}/passengers")
        return site.render(request, "seats.html", 422 if errors else 200, trip=trip, maps=maps, chosen=chosen,
                           errors=errors, letters=SEAT_LETTERS, fare=FARE_BY_CODE[trip["fare"]])

    async def passengers(request: Request) -> Response:
        trip = load(request)
        if trip is None:
            return not_found(request)
        if trip["booking"]:
            return _redirect(f"/booking/{trip['booking']}")
        if trip["seats"] is None:
            return _redirect(f"/trip/{trip['id']}/seats")
        travellers = trip["travellers"] or [{"first_name": "", "last_name": ""}
                                            for _ in range(trip["passengers"])]
        contact = trip["contact"] or {"email": "", "phone": ""}
        errors: dict[str, str] = {}
        if request.method == "POST":
            form = await request.form()
            travellers = []
            for i in range(trip["passengers"]):
                person = {k: str(form.get(f"{k}_{i}") or "").strip() for k in ("first_name", "last_name")}
                travellers.append(person)
                if not person["first_name"]:
                    errors[f"first_name_{i}"] = "Enter the first name as shown on the passport."
                if not person["last_name"]:
                    errors[f"last_name_{i}"] = "Enter the last name as shown on the passport."
            contact = {k: str(form.get(k) or "").strip() for k in ("email", "phone")}
            if not contact["email"]:
                errors["email"] = "Enter an email address for your booking confirmation."
            elif not EMAIL.fullmatch(contact["email"]):
                errors["email"] = "Enter a valid email address, like name@example.com."
            if not errors:
                site.state.update_trip(trip["id"], travellers=travellers, contact=contact)
                return _redirect(f"/trip/{trip['id']}/payment")
        return site.render(request, "passengers.html", 422 if errors else 200, trip=trip,
                           travellers=travellers, contact=contact, errors=errors,
                           fare=FARE_BY_CODE[trip["fare"]])

    async def payment(request: Request, error: str = "") -> Response:
        trip = load(request)
        if trip is None:
            return not_found(request)
        if trip["booking"]:
            return _redirect(f"/booking/{trip['booking']}")
        if not trip["travellers"]:
            return _redirect(f"/trip/{trip['id']}/passengers")
        total = trip["price"] * trip["passengers"]
        it = trip["itinerary"]
        origin = origin_of(request)
        intent = site.processor.create_intent(
            merchant=MERCHANT, amount=total, currency="USD", origin=origin,
            description=(f"Flight {it['origin']}-{it['destination']} {it['date']},"
                         f" {trip['passengers']} passenger(s)"))
        return site.render(request, "payment.html", 402 if error else 200, trip=trip, total=total,
                           fare=FARE_BY_CODE[trip["fare"]], intent=intent, error=error,
                           pay_src=f"{site.payments_url}/pay/{intent}?{urlencode({'parent': origin})}")

    async def complete(request: Request) -> Response:
        trip = load(request)
        if trip is None:
            return not_found(request)
        if trip["booking"]:
            return _redirect(f"/booking/{trip['booking']}")
        form = await request.form()
        paid = site.processor.capture(str(form.get("intent") or ""), merchant=MERCHANT,
                                      amount=trip["price"] * trip["passengers"])
        if paid is None or not trip["travellers"]:
            return await payment(request, "We could not confirm your payment, so nothing was booked."
                                          " Please enter your card details again.")
        ref = site.state.book(trip, paid)
        return _redirect(f"/booking/{ref}?new=1")

    async def booking(request: Request) -> Response:
        found = site.state.booking(request.path_params["ref"])
        last = request.query_params.get("last_name", "").strip().lower()
        allowed = found is not None and (found["sid"] == session_id(request) or (
            last and any(t["last_name"].lower() == last for t in found["travellers"])))
        if not allowed or found is None:
            return site.render(request, "message.html", 404, title="Booking not found",
                               message="Find your booking with its reference and your last name.",
                               link=("/manage", "Find a booking"))
        return site.render(request, "booking.html", b=found, fare=FARE_BY_CODE[found["fare"]],
                           new=request.query_params.get("new") == "1")

    async def manage(request: Request) -> Response:
        values = {"reference": "", "last_name": ""}
        errors: dict[str, str] = {}
        if request.method == "POST":
            form = await request.form()
            values = {k: str(form.get(k) or "").strip() for k in values}
            if not values["reference"]:
                errors["reference"] = "Enter your booking reference."
            if not values["last_name"]:
                errors["last_name"] = "Enter the last name of a passenger."
            if not errors:
                found = site.state.booking(values["reference"])
                last = values["last_name"].lower()
                if found and any(t["last_name"].lower() == last for t in found["travellers"]):
                    query = urlencode({"last_name": values["last_name"]})
                    return _redirect(f"/booking/{found['reference']}?{query}")
                errors["form"] = "We couldn't find a booking with that reference and last name."
        return site.render(request, "manage.html", 422 if errors else 200, values=values, errors=errors)

    return [
        Route("/trip", start, methods=["POST"]),
        Route("/trip/{trip}/seats", seats, methods=["GET", "POST"]),
        Route("/trip/{trip}/passengers", passengers, methods=["GET", "POST"]),
        Route("/trip/{trip}/payment", payment),
        Route("/trip/{trip}/complete", complete, methods=["POST"]),
        Route("/booking/{ref}", booking),
        Route("/manage", manage, methods=["GET", "POST"]),
    ]
