"""Preferences in words: for the planner ("prefer aisle seats (flights.seat)") and for
the person ("because you prefer aisle seats")."""

from __future__ import annotations

from collections.abc import Sequence

from .model import EVERYWHERE, Preference

_VERB = {"prefer": "prefer", "avoid": "avoid", "must": "always want", "never": "never want"}

_WINDOWS = {"red-eye": "red-eye flights", "early-morning": "early-morning departures",
            "morning": "morning departures", "afternoon": "afternoon departures",
            "evening": "evening departures"}


def _stops(value: str) -> str:
    if value.strip() in ("0", "nonstop"):
        return "nonstop flights"
    n = value.strip()
    return f"flights with at most {n} stop{'' if n == '1' else 's'}"


def _object(p: Preference) -> str:
    v, s = p.value, p.subject
    if s == "flights.seat":
        return v if v.endswith("seat") or v.endswith("seats") else f"{v} seats"
    if s == "flights.airline":
        return f"flights on {v}"
    if s == "flights.max_stops":
        return _stops(v)
    if s == "flights.departure_time":
        return _WINDOWS.get(v, f"{v} departures")
    if s == "flights.cabin":
        return v if "class" in v else f"{v} class"
    if s == "shopping.brand":
        return f"{v} products"
    if s == "shipping.speed":
        return f"{v} shipping"
    return f"{v} ({s})"


def phrase(p: Preference) -> str:
    """The preference as a verb phrase: "prefer aisle seats", "never want red-eye flights"."""
    if p.subject == "note":
        return p.value
    if p.subject == "shopping.budget":
        return {"must": f"spend at most {p.value}", "never": f"never spend more than {p.value}",
                "prefer": f"prefer to spend at most {p.value}",
                "avoid": f"avoid spending more than {p.value}"}[p.polarity]
    if p.subject == "shipping.address":
        return f"{'never ship' if p.polarity in ('never', 'avoid') else 'ship'} to {p.value}"
    if p.subject == "travel.loyalty_number":
        return f"use the loyalty number {p.value}"
    return f"{_VERB[p.polarity]} {_object(p)}"


def _scope_words(scope: str) -> str:
    if scope == EVERYWHERE:
        return ""
    kind, _, rest = scope.partition(":")
    return f" on {rest}" if kind == "site" else f" for {rest}"


def describe(p: Preference) -> str:
    """One line for the planner: what, where, and the typed subject."""
    tag = p.subject + (", learned" if p.source == "learned" else "")
    return f"{phrase(p)}{_scope_words(p.scope)} ({tag})"


def _reason(p: Preference) -> str:
    if p.subject == "note":
        return f"you said: {p.value}"
    return f"you {phrase(p)}{_scope_words(p.scope)}"


def join_words(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def explain(prefs: Sequence[Preference]) -> str:
    """"because you prefer aisle seats and never want red-eye flights" ("" for none)."""
    reasons = list(dict.fromkeys(_reason(p) for p in prefs))
    return f"because {join_words(reasons)}" if reasons else ""
