"""A check before the action, like a permission: a pick that breaks one of the
person's "must" or "never" preferences is put to the person first.

Precise on purpose: only actions that pick among options are judged (a result's
"Select"/"Book", a seat, "Add to cart"/"Buy", a select option, a delivery option),
and only on facts read off that option (its departure time, airline, stops, seat
kind, brand, price, speed). Search buttons, navigation, filters, opening a product
to look at it, and typing into text fields always pass. An attribute the page does
not show is never guessed.
"""

from __future__ import annotations

import re

from ..protocols import Gate
from ..types import Action, Click, Observation, Select, Type, Verdict
from .choices import Choice, choice_at
from .context import Context, host_of, page_categories
from .lookup import terms
from .model import Preference
from .names import Names
from .store import PreferenceStore
from .text import describe, phrase
from .vocab import same_name


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _mentions(value: str, text: str) -> bool:
    """Whether the page text names `value` (an airline or brand) as a whole word."""
    core = re.sub(r"\s+(air|airways|airlines)$", "", value.strip(), flags=re.IGNORECASE)
    body = r"\s+".join(re.escape(w) for w in core.split())
    return bool(body) and re.search(rf"(?<![\w-]){body}(?![\w-])", text, re.IGNORECASE) is not None


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_FLIGHTY = re.compile(r"\b(flights?|depart\w*|airlines?|nonstop|non-stop|\d+ stops?)\b", re.IGNORECASE)


def _about_a_flight(choice: Choice) -> bool:
    """A time on a flight (not on a delivery slot or a table booking)."""
    return choice.facts.flight or bool(choice.facts.airlines) or bool(_FLIGHTY.search(choice.context))


def _amount(value: str) -> float | None:
    m = re.search(r"\d[\d,]*(?:\.\d+)?", value)
    return float(m.group(0).replace(",", "")) if m else None


def violation(p: Preference, choice: Choice) -> str | None:
    """What about `choice` breaks must/never preference `p` (None: it does not, or the
    page does not say)."""
    f, must = choice.facts, p.polarity == "must"
    s, v = p.subject, p.value.casefold()
    if s == "flights.seat" and choice.kind == "seat" and f.seat:
        return f"it is a {f.seat} seat" if (f.seat != v) == must else None
    if s == "flights.departure_time" and choice.kind != "seat" and (f.departs is not None or f.red_eye) \
            and _about_a_flight(choice):
        when = f"it departs at {_clock(f.departs)}" if f.departs is not None else "it is a red-eye"
        return when if (v in f.windows()) != must else None
    if s == "flights.max_stops" and f.flight and f.stops is not None and v.isdigit():
        limit = int(v)
        broken = f.stops > limit if must else f.stops == limit
        return (f"it has {f.stops} stop{'s' if f.stops != 1 else ''}" if f.stops else "it is nonstop") \
            if broken else None
    if s == "flights.airline" and f.flight:
        if must:
            ok = any(same_name(a, p.value) or _mentions(p.value, a) for a in f.airlines)
            return f"it is on {', '.join(f.airlines)}" if f.airlines and not ok else None
        return f"it is on {p.value}" if _mentions(p.value, choice.context) else None
    if s == "flights.cabin" and f.cabin:
        return f"it is {f.cabin}" if (f.cabin != v) == must else None
    if f.flight:
        return None  # shopping preferences say nothing about a flight
    # A product is picked by "Add to cart"/"Select", or as a priced option (not a filter).
    product = choice.kind in ("cart", "result") or (choice.kind == "option" and f.price is not None)
    if s == "shopping.brand" and product:
        if must:
            return f"it is by {f.brand}" if f.brand and not same_name(f.brand, p.value) else None
        title = choice.label.split(",")[0][:40]  # a product title names its brand first
        named = (f.brand and same_name(f.brand, p.value)) or _mentions(p.value, title)
        return f"it is by {p.value}" if named else None
    if s == "shopping.budget" and choice.kind == "cart" and f.price is not None:
        limit = _amount(p.value)
        return f"it costs {f.price:,.2f}" if limit is not None and f.price > limit else None
    if s == "shipping.speed" and f.speed:
        return f"it is {f.speed} delivery" if (f.speed != v) == must else None
    return None


def read_choice(action: Action, observation: Observation, names: Names | None = None) -> Choice | None:
    """The choice an action makes on this page, or None for anything else."""
    if not isinstance(action, Click | Select | Type):
        return None
    el = observation.element(action.index)
    if el is None:
        return None
    if isinstance(action, Select):
        return choice_at(el.index, el.role, el.name, observation.text, title=observation.title,
                         option=action.option, names=names)
    if isinstance(action, Type):
        # Typing is judged only where it picks from a list (an autocomplete), by what is typed.
        if el.role not in ("combobox", "listbox"):
            return None
        return Choice("option", action.text, action.text)
    choice = choice_at(el.index, el.role, el.name, observation.text, title=observation.title, names=names)
    # Opening a product to look at it commits to nothing; "Add to cart" is the choice.
    return None if choice is None or choice.kind == "product" else choice


def subjects_for(choice: Choice, *, typed: bool = False) -> set[str]:
    """The preference subjects a choice can say anything about."""
    if typed:
        return {"flights.airline", "shopping.brand"}
    if choice.kind == "seat":
        return {"flights.seat"}
    if choice.facts.flight:
        return {"flights.departure_time", "flights.max_stops", "flights.airline", "flights.cabin"}
    found = {"shipping.speed"} if choice.facts.speed else set()
    if choice.facts.cabin:
        found.add("flights.cabin")
    if choice.facts.departs is not None or choice.facts.red_eye:
        found.add("flights.departure_time")  # a flight offered as a select option
    if choice.kind in ("cart", "result", "option"):
        found |= {"shopping.brand", "shopping.budget"}
    return found


class PreferenceGuard:
    """The Gate protocol over the store's must/never preferences: "ask" when the chosen
    option breaks one, citing its id; "allow" otherwise. Reads only."""

    def __init__(self, store: PreferenceStore) -> None:
        self.store = store

    def check_arrival(self, url: str) -> Verdict:
        return Verdict(decision="allow")  # where a page lands breaks no preference

    def record_answer(self, verdict: Verdict, approved: bool) -> None:
        """Nothing to keep: a yes applies to this one action (the next pick is asked again)."""

    @property
    def filters_requests(self) -> bool:
        return False  # requests a page makes by itself choose nothing

    def check_request(self, url: str) -> Verdict:
        return Verdict(decision="allow")

    def _context(self, observation: Observation) -> Context:
        cats = frozenset(c for c, n in page_categories(observation).items() if n >= 2)
        return Context(host=host_of(observation.url), categories=cats, task_words=frozenset(),
                       page_words=frozenset())

    def broken(self, action: Action, observation: Observation,
               choice: Choice | None = None) -> list[tuple[Preference, str]]:
        """The must/never preferences this action's choice breaks, with what breaks them."""
        choice = choice or read_choice(action, observation, self.store.names())
        if choice is None:
            return []  # not a pick among options: nothing to look up
        subjects = subjects_for(choice, typed=isinstance(action, Type))
        out = []
        for p in self.store.standing(self._context(observation), subjects, terms(choice.context)):
            if isinstance(action, Type):
                why = f"it names {p.value}" if p.polarity == "never" and _mentions(p.value, action.text) \
                    else None
            else:
                why = violation(p, choice)
            if why:
                out.append((p, why))
        return out

    async def check(self, action: Action, observation: Observation) -> Verdict:
        choice = read_choice(action, observation, self.store.names())
        broken = self.broken(action, observation, choice)
        if not broken:
            return Verdict(decision="allow")
        what = _short(choice.context if choice else action.action)
        reason = "; ".join(f"[{p.id}] you {phrase(p)} ({p.subject}), but {why}" for p, why in broken)
        summary = (f"Choose {what!r}? It goes against your preference"
                   f"{'s' if len(broken) > 1 else ''}: " + "; ".join(describe(p) for p, _ in broken))
        return Verdict(decision="ask", reason=reason, summary=summary)


class WithPreferences:
    """A Gate: the permission gate first, then the preference guard, as one question.

    A deny from the permission gate stands; otherwise an "ask" from either is asked
    (both reasons in one question when both ask). Answers and arrivals go to the
    permission gate with its own verdict, so its approvals and audit log work as before.
    """

    def __init__(self, gate: Gate, guard: PreferenceGuard) -> None:
        self.gate = gate
        self.guard = guard
        self._theirs: dict[str, Verdict] = {}  # summary of a verdict we returned -> the gate's

    async def check(self, action: Action, observation: Observation) -> Verdict:
        verdict = await self.gate.check(action, observation)
        if verdict.decision == "deny":
            return verdict
        mine = await self.guard.check(action, observation)
        if mine.decision == "allow":
            if verdict.decision == "ask":
                self._theirs[verdict.summary] = verdict
            return verdict
        if verdict.decision == "allow":
            return mine
        both = Verdict(decision="ask", reason=f"{verdict.reason}; {mine.reason}",
                       summary=f"{verdict.summary}\nAlso: {mine.summary}")
        self._theirs[both.summary] = verdict
        return both

    def check_arrival(self, url: str) -> Verdict:
        verdict = self.gate.check_arrival(url)
        if verdict.decision == "ask":
            self._theirs[verdict.summary] = verdict
        return verdict

    def record_answer(self, verdict: Verdict, approved: bool) -> None:
        theirs = self._theirs.pop(verdict.summary, None)
        if theirs is not None:
            self.gate.record_answer(theirs, approved)

    def __getattr__(self, name: str) -> object:
        # The rest of the Gate protocol (request filtering, ...) is the permission gate's.
        return getattr(self.gate, name)
