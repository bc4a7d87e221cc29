"""Success checks: what must be true after a task, judged on what the servers hold
(orders, bookings, payments), the final page, the agent's answer, the approvals it
asked for, or a MiniWoB page's reward.

In a suite file each check is a one-key mapping, `- order: {items: [...]}`, or a
flag, `- no_payment: true`. Every kind is a pydantic model, so a typo in a suite
fails when the suite is loaded, not at the end of a long run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

_CENT = 0.005


@dataclass
class ApprovalRecord:
    """One question the permission gate put to the (simulated) person."""

    summary: str  # exactly what the person was shown
    reason: str
    approved: bool
    amount: float | None = None  # parsed from the summary's "amount:" line
    currency: str | None = None


@dataclass
class Outcome:
    """Everything a check may look at once a task has run."""

    answer: str | None = None
    agent_success: bool = False  # the agent finished with done(success=true), verified
    gave_up: bool = False  # the agent said done(success=false)
    stop_reason: str = ""
    final_url: str = ""
    final_text: str = ""
    state: dict[str, Any] = field(default_factory=dict)  # site name -> its /api/state
    approvals: list[ApprovalRecord] = field(default_factory=list)
    raw_reward: float | None = None  # MiniWoB
    reward_reason: str | None = None
    product: Callable[[int], dict[str, Any] | None] = lambda _pid: None  # shop catalogue: product by id
    cheapest: Callable[[str], float | None] = lambda _kind: None  # lowest in-stock price of a product kind
    # Every itinerary the flights site sells (origin, destination, ISO date): id, price, stops, redeye.
    itineraries: Callable[[str, str, str], list[dict[str, Any]]] = lambda _o, _d, _day: []
    judged: dict[str, tuple[bool, str]] = field(default_factory=dict)  # rubric -> the judge's verdict


class CheckResult(BaseModel):
    name: str
    ok: bool
    detail: str = ""


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[str] = ""

    def evaluate(self, o: Outcome) -> CheckResult:
        ok, detail = self.judge(o)
        return CheckResult(name=self.label(), ok=ok, detail=detail)

    def judge(self, o: Outcome) -> tuple[bool, str]:
        raise NotImplementedError

    def label(self) -> str:
        args = self.model_dump(exclude_defaults=True)
        return f"{self.kind} {args}" if args else self.kind


def _lower(v: str | None) -> str:
    return (v or "").casefold()


def _words(v: str | list[str] | None) -> list[str]:
    return [] if v is None else [v] if isinstance(v, str) else list(v)


def _near(a: float, b: float) -> bool:
    return abs(a - b) < _CENT


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
        title = _lower(item.get("title"))
        price = float(item.get("unit_price") or 0)
        qty = int(item.get("quantity") or 0)
        if any(_lower(w) not in title for w in _words(self.title)):
            return False
        if self.title_any and not any(_lower(w) in title for w in self.title_any):
            return False
        if self.colour and _lower(item.get("colour")) != _lower(self.colour):
            return False
        if self.size and _lower(item.get("size")) != _lower(self.size):
            return False
        if (self.quantity is not None and qty != self.quantity) or qty < (self.min_quantity or 0):
            return False
        if self.max_unit_price is not None and price > self.max_unit_price + _CENT:
            return False
        if self.min_unit_price is not None and price < self.min_unit_price - _CENT:
            return False
        if self.cheapest_of is not None:
            floor = o.cheapest(self.cheapest_of)
            if floor is None or price > floor + _CENT:
                return False
        if self.brand or self.brand_not or self.category or self.min_rating is not None:
            p = o.product(int(item.get("product_id") or 0)) or {}
            if self.brand and _lower(p.get("brand")) != _lower(self.brand):
                return False
            if self.brand_not and _lower(p.get("brand")) in {_lower(b) for b in self.brand_not}:
                return False
            if self.category and _lower(self.category) not in _lower(p.get("category_name")):
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
            if self.total is not None and not _near(total, self.total):
                continue
            if self.max_total is not None and total > self.max_total + _CENT:
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
        want = _lower(self.words).split()
        hits = [s for s in searches if all(w in _lower(s.get("q")) for w in want)]
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
        return mine is not None and mine["price"] <= min(i["price"] for i in options) + _CENT

    def _fits(self, b: dict[str, Any], o: Outcome) -> bool:
        segs = b.get("segments", [])
        depart = str((segs[0] if segs else {}).get("depart", ""))[11:16]
        names = sorted(_lower(f"{p.get('first_name')} {p.get('last_name')}") for p in b.get("passengers", []))
        checks = [
            self.origin is None or b.get("origin") == self.origin.upper(),
            self.destination is None or b.get("destination") == self.destination.upper(),
            self.date is None or b.get("date") == self.date,
            self.flight is None or any(_lower(s.get("flight")) == _lower(self.flight) for s in segs),
            self.airline is None or all(_lower(s.get("airline")) == _lower(self.airline) for s in segs),
            self.stops is None or b.get("stops") == self.stops,
            self.max_stops is None or int(b.get("stops") or 0) <= self.max_stops,
            self.redeye is None or bool(b.get("redeye")) == self.redeye,
            self.fare is None or _lower(b.get("fare")) == _lower(self.fare),
            self.passengers is None or len(b.get("passengers", [])) == self.passengers,
            self.names is None or names == sorted(_lower(n) for n in self.names),
            self.seat is None or all(t == self.seat for s in segs for t in s.get("seat_types") or ["none"]),
            self.max_total is None or float(b.get("total") or 0) <= self.max_total + _CENT,
            self.max_per_person is None
            or float(b.get("price_per_person") or 0) <= self.max_per_person + _CENT,
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
                    and (self.amount is None or _near(float(s.get("amount") or 0), self.amount))
                    and (self.merchant is None or _lower(s.get("merchant")) == _lower(self.merchant))):
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
            if want is not None and (a.amount is None or not _near(a.amount, float(want))):
                continue
            if self.contains and _lower(self.contains) not in _lower(a.summary):
                continue
            return True, f"asked: {a.summary.splitlines()[0]} {a.amount} {a.currency}"
        return False, f"expected an approval for {want}; asked: {shown or 'nothing'}"


# --- page, answer, agent ---------------------------------------------------------------


def _text_check(text: str, contains: str | list[str] | None, any_: list[str] | None,
                matches: str | None, absent: str | list[str] | None) -> tuple[bool, str]:
    low = _lower(text)
    missing = [w for w in _words(contains) if _lower(w) not in low]
    if missing:
        return False, f"missing {missing}"
    if any_ and not any(_lower(w) in low for w in any_):
        return False, f"none of {any_}"
    if matches and not re.search(matches, text, re.I | re.S):
        return False, f"no match for /{matches}/"
    present = [w for w in _words(absent) if _lower(w) in low]
    if present:
        return False, f"should not contain {present}"
    return True, ""


_DOLLARS = re.compile(r"\$\s?(\d[\d,]*(?:\.\d{1,2})?)")


class AnswerCheck(Check):
    """Words in the agent's answer; and, so that an answer listing every candidate does not
    pass, `amount` (every dollar amount it names is this one, ± 1 cent, and it names one;
    `cheapest_of: KIND` computes it from the shop's catalogue, whatever the seed) and
    `one_of` (it names exactly one of these)."""

    kind: ClassVar[str] = "answer"
    contains: str | list[str] | None = None
    any: list[str] | None = None
    matches: str | None = None
    absent: str | list[str] | None = None
    amount: float | None = None
    cheapest_of: str | None = None
    one_of: list[str] | None = None

    def judge(self, o: Outcome) -> tuple[bool, str]:
        text = o.answer or ""
        ok, why = _text_check(text, self.contains, self.any, self.matches, self.absent)
        if ok and (self.amount is not None or self.cheapest_of is not None):
            want = self.amount if self.amount is not None else o.cheapest(self.cheapest_of or "")
            named = [float(m.replace(",", "")) for m in _DOLLARS.findall(text)]
            ok = want is not None and bool(named) and all(_near(x, want) for x in named)
            said = ", ".join(f"${x:g}" for x in named) or "no amount"
            why = "" if ok else f"wanted ${want} alone, it names {said}"
        if ok and self.one_of:
            named_one = [w for w in self.one_of if _lower(w) in _lower(text)]
            ok = len(named_one) == 1
            why = "" if ok else f"names {named_one or 'none'} of {self.one_of}, not exactly one"
        return ok, why or f"answer: {text[:120]}"


class Judged(Check):
    """An open answer, graded by a model against `rubric` (evals/judge.py asks it after the
    run; the verdict and the judge's reason are this check's result)."""

    kind: ClassVar[str] = "judged"
    rubric: str

    def judge(self, o: Outcome) -> tuple[bool, str]:
        return o.judged.get(self.rubric, (False, "not judged"))


class PageCheck(Check):
    kind: ClassVar[str] = "page"
    contains: str | list[str] | None = None
    any: list[str] | None = None
    matches: str | None = None
    absent: str | list[str] | None = None

    def judge(self, o: Outcome) -> tuple[bool, str]:
        return _text_check(o.final_text, self.contains, self.any, self.matches, self.absent)


class UrlCheck(Check):
    kind: ClassVar[str] = "url"
    contains: str | None = None
    matches: str | None = None

    def judge(self, o: Outcome) -> tuple[bool, str]:
        ok = (self.contains is None or self.contains in o.final_url) and (
            self.matches is None or re.search(self.matches, o.final_url) is not None)
        return ok, o.final_url


class AgentCheck(Check):
    """What the agent itself reported: `success: false` passes when it gave up with
    done(success=false), as it must on an impossible task."""

    kind: ClassVar[str] = "agent"
    success: bool

    def judge(self, o: Outcome) -> tuple[bool, str]:
        ok = o.agent_success if self.success else o.gave_up
        return ok, f"stop: {o.stop_reason}; answer: {(o.answer or '')[:100]}"


class RewardCheck(Check):
    """MiniWoB: the page's raw reward is above `above` (success is a positive reward)."""

    kind: ClassVar[str] = "reward"
    above: float = 0.0

    def judge(self, o: Outcome) -> tuple[bool, str]:
        r = o.raw_reward
        return r is not None and r > self.above, f"raw reward {r} ({o.reward_reason or 'no reason'})"


class StateCheck(Check):
    """A value in a site's state by dotted path, e.g. `path: shop.newsletter, length: 0`."""

    kind: ClassVar[str] = "state"
    path: str
    equals: Any = None
    contains: Any = None
    length: int | None = None

    def judge(self, o: Outcome) -> tuple[bool, str]:
        value: Any = o.state
        for part in self.path.split("."):
            index = int(part) if part.lstrip("-").isdigit() else None
            if isinstance(value, list) and index is not None and -len(value) <= index < len(value):
                value = value[index]
            elif isinstance(value, dict) and part in value:
                value = value[part]
            else:
                return False, f"{self.path}: no {part!r}"
        ok = (self.equals is None or value == self.equals) and (
            self.contains is None or self.contains in value) and (
            self.length is None or (hasattr(value, "__len__") and len(value) == self.length))
        return ok, f"{self.path} = {str(value)[:120]}"


KINDS: dict[str, type[Check]] = {c.kind: c for c in (
    OrderCheck, CartCheck, NoOrder, Searched, BookingCheck, NoBooking, NoPayment, PaymentCheck, ApprovalCheck,
    AnswerCheck, Judged, PageCheck, UrlCheck, AgentCheck, RewardCheck, StateCheck)}


def parse_check(raw: object) -> Check:
    if isinstance(raw, Check):
        return raw
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValueError(f"a check is a one-key mapping like `order: {{...}}`, not {raw!r}")
    (kind, args), = raw.items()
    cls = KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown check {kind!r}; known: {', '.join(sorted(KINDS))}")
    if args is True or args is None:
        args = {}
    elif not isinstance(args, dict):
        raise ValueError(f"check {kind}: expected a mapping of arguments, not {args!r}")
    try:
        return cls.model_validate(args)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ValueError(f"check {kind}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def parse_checks(raw: list[Any]) -> list[Check]:
    return [parse_check(r) for r in raw]


def evaluate(checks: Sequence[Check], outcome: Outcome) -> list[CheckResult]:
    return [c.evaluate(outcome) for c in checks]
