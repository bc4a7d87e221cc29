"""What a preference is: a typed subject, a value, a polarity, a scope, and where it came from.

Subjects are a small open vocabulary ("flights.seat", "shopping.brand", ...); the
category a subject belongs to decides on which tasks it is relevant. Scopes are
"everywhere", "site:<host>" or "category:<name>".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Polarity = Literal["prefer", "avoid", "must", "never"]
Source = Literal["told", "asked", "learned"]
# proposed: learned, waiting for the person; superseded: overridden by a later statement.
Status = Literal["active", "proposed", "rejected", "superseded"]

POLARITIES: tuple[Polarity, ...] = ("prefer", "avoid", "must", "never")
POSITIVE = frozenset({"prefer", "must"})
HARD = frozenset({"must", "never"})  # the ones the guard enforces

CATEGORIES = ("flights", "shopping")
EVERYWHERE = "everywhere"


@dataclass(frozen=True)
class SubjectInfo:
    category: str | None  # None: relevant only by scope or word overlap (notes)
    # single: one wanted value per scope (a later one replaces it), though many may be
    # avoided side by side ("never middle" stands next to "prefer aisle");
    # set: many values may be wanted at once (brands, airlines), but a "must" is exclusive;
    # keyed: one value per key, the part before ":" (a loyalty number per programme).
    kind: Literal["single", "set", "keyed"]


SUBJECTS: dict[str, SubjectInfo] = {
    "flights.airline": SubjectInfo("flights", "set"),
    "flights.seat": SubjectInfo("flights", "single"),
    "flights.max_stops": SubjectInfo("flights", "single"),
    "flights.departure_time": SubjectInfo("flights", "single"),
    "flights.cabin": SubjectInfo("flights", "single"),
    "travel.loyalty_number": SubjectInfo("flights", "keyed"),
    "shopping.brand": SubjectInfo("shopping", "set"),
    "shopping.budget": SubjectInfo("shopping", "single"),
    "shipping.speed": SubjectInfo("shopping", "single"),
    "shipping.address": SubjectInfo("shopping", "single"),
    "note": SubjectInfo(None, "set"),
}

_SUBJECT = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)?$")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def subject_info(subject: str) -> SubjectInfo:
    known = SUBJECTS.get(subject)
    if known is not None:
        return known
    prefix = subject.split(".", 1)[0]
    return SubjectInfo(prefix if prefix in CATEGORIES else None, "single")


def normalize_scope(scope: str) -> str:
    """"everywhere", "site:example.com" or "category:flights"; raises ValueError otherwise."""
    s = scope.strip().lower()
    if s in ("", EVERYWHERE, "global", "all"):
        return EVERYWHERE
    kind, _, rest = s.partition(":")
    rest = rest.strip()
    if kind == "site":
        host = re.sub(r"^[a-z]+://", "", rest).split("/", 1)[0].split(":", 1)[0]
        host = host.removeprefix("www.")
        if _HOST.match(host):
            return f"site:{host}"
    elif kind == "category" and rest in CATEGORIES:
        return f"category:{rest}"
    raise ValueError(f"scope {scope!r} is not understood: use everywhere, site:HOST or "
                     f"category:{'|'.join(CATEGORIES)}")


def now() -> datetime:
    return datetime.now(UTC)


class Draft(BaseModel):
    """A preference as parsed from a sentence (by rules or a model), not yet stored."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(description="e.g. flights.seat, flights.airline, shopping.brand, or note")
    value: str = Field(description="e.g. aisle, Lufthansa, $15, red-eye, 0 (stops)")
    polarity: Polarity = "prefer"
    scope: str = Field(default=EVERYWHERE, description="everywhere, site:HOST or category:flights|shopping")

    @field_validator("subject")
    @classmethod
    def _subject(cls, v: str) -> str:
        v = v.strip().lower()
        if not _SUBJECT.match(v):
            raise ValueError(f"subject {v!r} must look like area.name, e.g. flights.seat")
        return v

    @field_validator("value")
    @classmethod
    def _value(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("value is empty")
        if len(v) > 300:
            raise ValueError("value is longer than 300 characters")
        return v

    @field_validator("scope")
    @classmethod
    def _scope(cls, v: str) -> str:
        return normalize_scope(v)


class Preference(Draft):
    """A stored preference. `id` is short and stable ("p12"); "" before it is stored."""

    id: str = ""
    source: Source = "told"
    evidence: list[str] = Field(default_factory=list)  # the person's words, or run/step choices
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    status: Status = "active"
    created: datetime = Field(default_factory=now)
    updated: datetime = Field(default_factory=now)
    superseded_by: str | None = None

    @field_validator("created", "updated")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        # An import may carry times without a zone: they are taken as UTC, so ordering holds.
        return v if v.tzinfo else v.replace(tzinfo=UTC)

    @property
    def category(self) -> str | None:
        return subject_info(self.subject).category

    @property
    def explicit(self) -> bool:
        return self.source != "learned"

    @property
    def number(self) -> int:
        """The numeric part of the id (insertion order), 0 before it is stored."""
        return int(self.id[1:]) if self.id[1:].isdigit() else 0

    @property
    def text(self) -> str:
        from .text import describe

        return describe(self)
