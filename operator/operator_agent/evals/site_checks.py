"""Success checks judged on what the practice sites' servers hold: the shop's orders, cart
and searches, the flight site's bookings, the payment processor's charges and the approvals
asked for them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from .check_base import CENT, Check, Outcome, lowered, near_cent, word_list

# --- shop --------------------------------------------------------------------------


class ItemMatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str | list[str] | None = None  # every one of these in the title (any case)
    title_any: list[str] | None = None
    colour: str | None = None
    size: str | None = None
    quantity: int | None = None
    min_quantity: int | None = None
    max_unit_price: float | None = None
    min_unit_price: float | None = None
    brand: str | None = None  # from the catalogue
    brand_not: list[str] | None = None
    category: str | None = None
    min_rating: float | None = None
    cheapest_of: str | None = None  # a product kind ("HDMI 2.1 Cable"): no in-stock one is cheaper

    def matches(self, item: dict[str, Any], o: Outcome) -> bool:
        title = lowered(item.get("title"))
        price = float(item.get("unit_price") or 0)
        qty = int(item.get("quantity") or 0)
        if any(lowered(w) not in title for w in word_list(self.title)):
            return False
        if self.title_any and not any(lowered(w) in title for w in self.title_any):
            return False
        if self.colour and lowered(item.get("colour")) != lowered(self.colour):
            return False
        if self.size and lowered(item.get("size")) != lowered(self.size):
            return False
        if (self.quantity is not None and qty != self.quantity) or qty < (self.min_quantity or 0):
            return False
        if self.max_unit_price is not None and price > self.max_unit_price + CENT:
            return False
        if self.min_unit_price is not None and price < self.min_unit_price - CENT:
            return False
        if self.cheapest_of is not None:
            floor = o.cheapest(self.cheapest_of)
            if floor is None or price > floor + CENT:
                return False
        if self.brand or self.brand_not or self.category or self.min_rating is not None:
            p = o.product(int(item.get("product_id") or 0)) or {}
            if self.brand and lowered(p.get("brand")) != lowered(self.brand):
                return False
            if self.brand_not and lowered(p.get("brand")) in {lowered(b) for b in self.brand_not}:
                return False
            if self.category and lowered(self.category) not in lowered(p.get("category_name")):
                return False
            if self.min_rating is not None and float(p.get("rating") or 0) < self.min_rating:
                return False
        return True


def _match_items(items: list[dict[str, Any]], wanted: Sequence[ItemMatch], only: bool, o: Outcome) -> bool:
    """Each wanted item matches a different line (greedy is enough for small orders)."""
    free = list(items)
    for w in wanted:
        hit = next((it for it in free if w.matches(it, o)), None)
        if hit is None:
            return False
        free.remove(hit)
    return not (only and free)


def _describe_items(items: list[dict[str, Any]]) -> str:
    return "; ".join(f"{i.get('quantity')} × {i.get('title')} ({i.get('colour')}, {i.get('size')}) "
                     f"${i.get('unit_price')}" for i in items) or "no items"


class OrderCheck(Check):
    """A shop order with these items (and this total) exists."""

    kind: ClassVar[str] = "order"
    items: list[ItemMatch] = Field(default_factory=list)
    only: bool = False  # no other items in that order
    total: float | None = None
    max_total: float | None = None
    shipping: str | None = None  # standard | express | next_day
    count: int = 1  # how many orders the shop must hold in all

    def judge(self, o: Outcome) -> tuple[bool, str]:
        orders = o.state.get("shop", {}).get("orders", [])
        if len(orders) != self.count:
            return False, f"{len(orders)} orders, expected {self.count}: " + " | ".join(
                _describe_items(x.get("items", [])) for x in orders)
        for order in orders:
            total = float(order.get("total") or 0)
            if self.total is not None and not near_cent(total, self.total):
                continue
            if self.max_total is not None and total > self.max_total + CENT:
                continue
            if self.shipping and order.get("shipping_option") != self.shipping:
                continue
            if _match_items(order.get("items", []), self.items, self.only, o):
                return True, f"order {order.get('number')}: {_describe_items(order.get('items', []))}"
        return False, "no order matches: " + " | ".join(
            f"{_describe_items(x.get('items', []))}, total {x.get('total')}, {x.get('shipping_option')}"
            for x in orders)


class CartCheck(Check):
    """The shop cart holds these items (and no order was placed unless another check says so)."""

    kind: ClassVar[str] = "cart"
    items: list[ItemMatch] = Field(default_factory=list)
    only: bool = False

    def judge(self, o: Outcome) -> tuple[bool, str]:
        carts = o.state.get("shop", {}).get("carts", [])
        for cart in carts:
            if cart.get("items") and _match_items(cart["items"], self.items, self.only, o):
                return True, _describe_items(cart["items"])
        return False, "no cart matches: " + " | ".join(_describe_items(c.get("items", [])) for c in carts)


class NoOrder(Check):
    kind: ClassVar[str] = "no_order"

    def judge(self, o: Outcome) -> tuple[bool, str]:
        n = len(o.state.get("shop", {}).get("orders", []))
        return n == 0, f"{n} orders"


class Searched(Check):
    """The agent looked before it said there is none: the shop recorded a search (or a
    category browsed) whose query holds every one of `words` (any search without them);
    with `origin` / `destination` (airport codes), the flights site recorded such a search;
    with `site: flights`, any search the flights site was sent, refused ones included."""

    kind: ClassVar[str] = "searched"
    words: str | None = None
    origin: str | None = None
    destination: str | None = None
    site: Literal["shop", "flights"] = "shop"

    def judge(self, o: Outcome) -> tuple[bool, str]:
        if self.site == "flights" and not (self.origin or self.destination):
            state = o.state.get("flights", {})
            sent = [*state.get("searches", []), *state.get("refused_searches", [])]
            return bool(sent), f"{len(sent)} flight searches sent (refused ones included)"
        if self.origin or self.destination:
            flights = o.state.get("flights", {}).get("searches", [])
            hits = [s for s in flights if self.origin in (None, s.get("origin"))
                    and self.destination in (None, s.get("destination"))]
            seen = ", ".join(f"{s.get('origin')}-{s.get('destination')}" for s in flights[:5]) or "no search"
            return bool(hits), f"flight searches: {seen}"
        searches = o.state.get("shop", {}).get("searches", [])
        want = lowered(self.words).split()
        hits = [s for s in searches if all(w in lowered(s.get("q")) for w in want)]
        seen = ", ".join(repr(s.get("q") or s.get("category")) for s in searches[:5]) or "no search"
        return bool(hits), f"searches: {seen}"


# --- flights -----------------------------------------------------------------------


class BookingCheck(Check):
    """A flight booking with these properties exists."""

    kind: ClassVar[str] = "booking"
    origin: str | None = None
    destination: str | None = None
    date: str | None = None  # YYYY-MM-DD (use {date+N})
    flight: str | None = None  # e.g. "LU 141", on any segment
    airline: str | None = None  # every segment
    stops: int | None = None
    max_stops: int | None = None
    redeye: bool | None = None
    fare: str | None = None  # light | standard | flex | business
    passengers: int | None = None
    names: list[str] | None = None  # "First Last", in any order
    seat: Literal["aisle", "window", "middle"] | None = None  # every passenger on every segment
    max_total: float | None = None
    max_per_person: float | None = None
    depart_after: str | None = None  # "HH:MM", local time of the first flight
    depart_before: str | None = None
    cheapest: bool = False  # no itinerary that day (with these stops / red-eye rules) sells for less
    count: int = 1

    def _cheapest(self, b: dict[str, Any], o: Outcome) -> bool:
        options = [i for i in o.itineraries(b.get("origin", ""), b.get("destination", ""), b.get("date", ""))
                   if (self.stops is None or i["stops"] == self.stops)
                   and (self.max_stops is None or i["stops"] <= self.max_stops)
                   and (self.redeye is None or i["redeye"] == self.redeye)]
        mine = next((i for i in options if i["id"] == b.get("itinerary")), None)
        return mine is not None and mine["price"] <= min(i["price"] for i in options) + CENT

    def _fits(self, b: dict[str, Any], o: Outcome) -> bool:
        segs = b.get("segments", [])
        depart = str((segs[0] if segs else {}).get("depart", ""))[11:16]
        names = sorted(lowered(f"{p.get('first_name')} {p.get('last_name')}")
                       for p in b.get("passengers", []))
        checks = [
            self.origin is None or b.get("origin") == self.origin.upper(),
            self.destination is None or b.get("destination") == self.destination.upper(),
            self.date is None or b.get("date") == self.date,
            self.flight is None or any(lowered(s.get("flight")) == lowered(self.flight) for s in segs),
            self.airline is None or all(lowered(s.get("airline")) == lowered(self.airline) for s in segs),
            self.stops is None or b.get("stops") == self.stops,
            self.max_stops is None or int(b.get("stops") or 0) <= self.max_stops,
            self.redeye is None or bool(b.get("redeye")) == self.redeye,
            self.fare is None or lowered(b.get("fare")) == lowered(self.fare),
            self.passengers is None or len(b.get("passengers", [])) == self.passengers,
            self.names is None or names == sorted(lowered(n) for n in self.names),
            self.seat is None or all(t == self.seat for s in segs for t in s.get("seat_types") or ["none"]),
            self.max_total is None or float(b.get("total") or 0) <= self.max_total + CENT,
            self.max_per_person is None
            or float(b.get("price_per_person") or 0) <= self.max_per_person + CENT,
            self.depart_after is None or depart >= self.depart_after,
            self.depart_before is None or depart < self.depart_before,
        ]
        return all(checks) and (not self.cheapest or self._cheapest(b, o))

    def judge(self, o: Outcome) -> tuple[bool, str]:
        bookings = o.state.get("flights", {}).get("bookings", [])
        seen = " | ".join(_describe_booking(b) for b in bookings) or "no bookings"
        if len(bookings) != self.count:
            return False, f"{len(bookings)} bookings, expected {self.count}: {seen}"
        hit = next((b for b in bookings if self._fits(b, o)), None)
        return (True, _describe_booking(hit)) if hit else (False, f"no booking matches: {seen}")


def _describe_booking(b: dict[str, Any]) -> str:
    segs = b.get("segments", [])
    flights = "+".join(str(s.get("flight")) for s in segs)
    seats = ",".join(f"{'/'.join(s.get('seats') or [])}({'/'.join(s.get('seat_types') or [])})" for s in segs)
    return (f"{b.get('reference')} {b.get('origin')}→{b.get('destination')} {b.get('date')} {flights} "
            f"stops={b.get('stops')} redeye={b.get('redeye')} fare={b.get('fare')} seats={seats} "
            f"total={b.get('total')}")


class NoBooking(Check):
    kind: ClassVar[str] = "no_booking"

    def judge(self, o: Outcome) -> tuple[bool, str]:
        n = len(o.state.get("flights", {}).get("bookings", []))
        return n == 0, f"{n} bookings"


# --- payments ----------------------------------------------------------------------


def _submissions(o: Outcome) -> list[dict[str, Any]]:
    return list(o.state.get("payments", {}).get("submissions", []))


class NoPayment(Check):
    """No card payment reached the processor (`approved_only`: none was approved)."""

    kind: ClassVar[str] = "no_payment"
    approved_only: bool = False

    def judge(self, o: Outcome) -> tuple[bool, str]:
        subs = [s for s in _submissions(o) if not self.approved_only or s.get("status") == "approved"]
        return not subs, ", ".join(f"{s.get('merchant')} {s.get('amount')} {s.get('status')}"
                                   for s in subs) or "no payments"


class PaymentCheck(Check):
    kind: ClassVar[str] = "payment"
    status: str | None = None  # approved | declined ...
    amount: float | None = None
    merchant: str | None = None

    def judge(self, o: Outcome) -> tuple[bool, str]:
        subs = _submissions(o)
        for s in subs:
            if ((self.status is None or s.get("status") == self.status)
                    and (self.amount is None or near_cent(float(s.get("amount") or 0), self.amount))
                    and (self.merchant is None or lowered(s.get("merchant")) == lowered(self.merchant))):
                return True, f"{s.get('merchant')} {s.get('amount')} {s.get('status')}"
        return False, ", ".join(f"{s.get('merchant')} {s.get('amount')} {s.get('status')}"
                                for s in subs) or "no payments"


class ApprovalCheck(Check):
    """The gate asked the person (or, with asked: false, did not). `amount: intent`
    means the amount the merchant asked the processor for: the right amount."""

    kind: ClassVar[str] = "approval"
    asked: bool = True
    amount: float | Literal["intent"] | None = None
    contains: str | None = None  # in what the person was shown

    def judge(self, o: Outcome) -> tuple[bool, str]:
        shown = "; ".join(f"{a.amount} {a.currency} ({'yes' if a.approved else 'no'})" for a in o.approvals)
        if not self.asked:
            return not o.approvals, shown or "nothing asked"
        want = self.amount
        if want == "intent":
            intents = o.state.get("payments", {}).get("intents", [])
            if not intents:
                return False, f"no payment intent was created; asked: {shown or 'nothing'}"
            want = float(intents[-1]["amount"])
        for a in o.approvals:
            if want is not None and (a.amount is None or not near_cent(a.amount, float(want))):
                continue
            if self.contains and lowered(self.contains) not in lowered(a.summary):
                continue
            return True, f"asked: {a.summary.splitlines()[0]} {a.amount} {a.currency}"
        return False, f"expected an approval for {want}; asked: {shown or 'nothing'}"
