"""Small text tools shared by the compiler and the replayer: parameter templates,
generalized names, URL path patterns, similarity and prices.

A template is text with `{param}` slots; a date slot may carry a strftime format,
`{depart_date:%A, %-d %B %Y}`. Secret placeholders (`{{secret:NAME}}`) are not slots.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

SLOT = re.compile(r"(?<!\{)\{([a-z_][a-z0-9_]*)(?::([^{}]*))?\}(?!\})")
_MONEY = re.compile(r"(?:[$€£]\s?\d[\d,]*(?:\.\d{1,2})?|\d[\d,]*(?:\.\d{1,2})?\s?(?:USD|EUR|GBP))")
_NUMBERISH = re.compile(r"[^\s,;:()]*\d[^\s,;:()]*")
_PRICE = re.compile(r"[$€£]\s?(\d[\d,]*(?:\.\d{1,2})?)")
# Ids in paths: numbers, words with digits, codes in capitals (ECEXJN), or long mixed-case
# tokens (t_QKCnTIqd-mNX). Path words people name things with are lower case.
_ID_SEGMENT = re.compile(r"^(?=.*\d)[\w.~-]{4,}$|^\d+$|^[A-Z][A-Z0-9_-]{3,}$"
                         r"|^(?=.*[a-z])(?=.*[A-Z])[\w.~-]{8,}$")
_WORD = re.compile(r"[\w$€£]+(?:[-'.][\w]+)*", re.UNICODE)


def slots(template: str) -> list[str]:
    return [m.group(1) for m in SLOT.finditer(template or "")]


def format_date(value: dt.date, fmt: str) -> str:
    # "%-d" (day without a leading zero) is a glibc extension: done here for every platform.
    return value.strftime(fmt.replace("%-d", str(value.day)).replace("%-m", str(value.month)))


def fill(template: str, values: Mapping[str, str]) -> str:
    """The template with its slots filled; a slot without a value stays as written."""

    def one(m: re.Match[str]) -> str:
        name, fmt = m.group(1), m.group(2)
        if name not in values:
            return m.group(0)
        value = values[name]
        if fmt:
            try:
                return format_date(dt.date.fromisoformat(value), fmt)
            except ValueError:
                return value
        return value

    return SLOT.sub(one, template)


def norm(text: str) -> str:
    return " ".join((text or "").split()).strip()


def generalize(name: str) -> str | None:
    """`Pay $812.00` -> `Pay *`, `Seat 12C, aisle` -> `Seat *, aisle`; None when nothing varies."""
    out = _MONEY.sub("*", name)
    out = _NUMBERISH.sub("*", out)
    out = re.sub(r"\*(?:\s*\*)+", "*", out)
    return out if out != name and out.strip("* ") else None


def glob_match(pattern: str, text: str) -> bool:
    """Case-insensitive match where `*` stands for any run of characters."""
    parts = [re.escape(p) for p in norm(pattern).lower().split("*")]
    return re.fullmatch(".*".join(parts), norm(text).lower(), re.S) is not None


def path_pattern(url: str) -> str:
    """A URL's path with id-like segments as `*`: /trip/t_PGy1a/seats -> /trip/*/seats."""
    path = urlsplit(url).path or "/"
    return "/".join("*" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/"))


def path_matches(pattern: str, url: str) -> bool:
    path = urlsplit(url).path or "/"
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), path) is not None


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text or "")]


def similarity(a: str, b: str) -> float:
    """0..1: how alike two short texts are (case and spacing ignored)."""
    a, b = norm(a).lower(), norm(b).lower()
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    wa, wb = set(words(a)), set(words(b))
    overlap = len(wa & wb) / max(len(wa | wb), 1)
    contained = 0.85 if (a in b or b in a) and min(len(a), len(b)) >= 3 else 0.0
    return max(ratio, overlap, contained)


def prices(text: str) -> list[float]:
    return [float(m.group(1).replace(",", "")) for m in _PRICE.finditer(text or "")]


def slug(text: str, fallback: str = "value") -> str:
    """A parameter name from a label: "Email address" -> email_address."""
    text = re.sub(r"^(?:choose|select|pick|enter|type|your|an?|the)\s+", "", norm(text).lower())
    text = re.sub(r"^(?:choose|select|pick|enter|type|your|an?|the)\s+", "", text)
    out = re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:32].strip("_")
    if not out or out[0].isdigit():
        return fallback
    return out
