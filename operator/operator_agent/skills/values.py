"""A skill's parameter values for one run: given ones checked and normalised, the
rest from defaults (secret placeholders) or the recorded examples.

Dates are accepted as people write them ("2026-08-14", "14 August", "Aug 14",
"the 14th", "tomorrow", "next friday") and become ISO dates; amounts ("$15",
"15 dollars") become plain numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from ..protocols import ConfigError
from .format import Skill

_MONTHS = {m.lower(): i for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"], start=1)}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"
DATE_PATTERNS = (
    re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"),
    re.compile(rf"\b{_ORD}\s+(?:of\s+)?({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?\b", re.I),
    re.compile(rf"\b({_MONTH_RE})\.?\s+{_ORD}(?:,?\s+(\d{{4}}))?\b", re.I),
    re.compile(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b", re.I),
    re.compile(r"\b(today|tomorrow|day after tomorrow)\b", re.I),
    re.compile(r"\b(?:(next|this|on)\s+)?(" + "|".join(_DAYS) + r")\b", re.I),
)
MONEY = re.compile(r"(?:[$€£]\s?(\d[\d,]*(?:\.\d{1,2})?)"
                   r"|(\d[\d,]*(?:\.\d{1,2})?)\s?(?:dollars|usd|euros?|eur|gbp|pounds?)\b)", re.I)


def _future(year: int | None, month: int, day: int, today: dt.date) -> dt.date | None:
    try:
        if year is not None:
            return dt.date(year, month, day)
        found = dt.date(today.year, month, day)
        return found if found >= today else dt.date(today.year + 1, month, day)
    except ValueError:
        return None


def find_date(text: str, today: dt.date | None = None) -> tuple[dt.date, str] | None:
    """The first date written in `text` (the next one in the future when no year is given),
    and the words that said it."""
    today = today or dt.date.today()
    for i, pattern in enumerate(DATE_PATTERNS):
        m = pattern.search(text)
        if not m:
            continue
        g = m.groups()
        day: dt.date | None = None
        if i == 0:
            day = _future(int(g[0]), int(g[1]), int(g[2]), today)
        elif i == 1:
            day = _future(int(g[2]) if g[2] else None, _MONTHS[g[1].lower().rstrip(".")], int(g[0]), today)
        elif i == 2:
            day = _future(int(g[2]) if g[2] else None, _MONTHS[g[0].lower().rstrip(".")], int(g[1]), today)
        elif i == 3:
            n = int(g[0])
            month = today if n >= today.day else (today.replace(day=1) + dt.timedelta(days=32))
            day = _future(month.year, month.month, n, today)
        elif i == 4:
            day = today + dt.timedelta(days={"today": 0, "tomorrow": 1}.get(g[0].lower(), 2))
        else:
            ahead = (_DAYS.index(g[1].lower()) - today.weekday()) % 7
            day = today + dt.timedelta(days=ahead or 7)  # "friday" said on a friday: next week's
        if day is not None:
            return day, m.group(0)
    return None


def parse_money(text: str) -> str | None:
    m = MONEY.search(text)
    if m:
        return (m.group(1) or m.group(2)).replace(",", "")
    plain = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*", text)
    return plain.group(1) if plain else None


def normalise(kind: str, name: str, value: str, today: dt.date | None = None) -> str:
    value = value.strip()
    if kind == "money":
        amount = parse_money(value)
        if amount is None:
            raise ConfigError(f"{name}={value!r} is not an amount (e.g. {name}=15 or {name}='$15')")
        return amount
    if kind == "date":
        found = find_date(value, today)
        if found is None:
            raise ConfigError(f"{name}={value!r} is not a date "
                              f"(e.g. {name}=2026-08-14 or {name}='14 August')")
        return found[0].isoformat()
    return value


def resolve(skill: Skill, given: Mapping[str, str], *, today: dt.date | None = None) -> dict[str, str]:
    """Every parameter's value for a run; ConfigError (one line) for unknown or missing ones."""
    unknown = sorted(set(given) - set(skill.parameters))
    if unknown:
        raise ConfigError(f"skill {skill.name!r} has no parameter {', '.join(unknown)}; it takes: "
                          + (", ".join(skill.parameters) or "none"))
    today = today or dt.date.today()
    values: dict[str, str] = {}
    missing: list[str] = []
    for name, p in skill.parameters.items():
        raw = given.get(name)
        if raw is None:
            raw = p.default if p.default is not None else p.example
        if raw is None:
            missing.append(name)
            continue
        values[name] = raw if p.type == "secret" else normalise(p.type, name, raw, today)
        if p.type == "date" and name not in given and dt.date.fromisoformat(values[name]) < today:
            missing.append(f"{name} (the recorded {values[name]} is past)")
    if missing:
        raise ConfigError(f"skill {skill.name!r} needs {', '.join(missing)}: give it as NAME=VALUE, "
                          f"e.g. `operator skill run {skill.name} {missing[0].split()[0]}=...`")
    return values


def parse_assignments(items: list[str]) -> dict[str, str]:
    """`key=value` words from the command line."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[a-z_][a-z0-9_]*", key.strip()):
            raise ConfigError(f"{item!r} is not NAME=VALUE (parameter names are lower_case)")
        out[key.strip()] = value
    return out
