"""How a demonstration's particular values become a skill's parameters.

- Typed text becomes a parameter named after its field's label (a search box's is
  `query`); the same value typed again reuses it ("{first_name} {last_name}").
- Typed secrets become secret parameters whose default is a vault placeholder.
- Text typed into an autocomplete, then a suggestion picked, is one parameter
  (the suggestion is found again by that value).
- A date picked in a calendar becomes a date parameter; the button's name is a
  date format (`{departure_date:%A, %-d %B %Y}`).
- A choice among similar items (search results, seats) becomes a choice rule that
  explains the choice: the first available one, whose name has the search words,
  under a price (a new parameter), or the cheapest.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .format import Choice, Param
from .templates import generalize, glob_match, norm, prices, slug, words

SECRET_PARAMS = {  # secret kind -> (parameter name, default placeholder)
    "password": ("password", "{{secret:password}}"),
    "card.number": ("card_number", "{{secret:card.number}}"),
    "card.exp": ("card_expiry", "{{secret:card.exp}}"),
    "card.cvc": ("card_cvc", "{{secret:card.cvc}}"),
    "otp": ("one_time_code", "{{secret:otp.totp}}"),
}
UNAVAILABLE = re.compile(r"out of stock|sold out|unavailable|not available|\btaken\b|no longer", re.I)
_DATE_FORMATS = ("%A, %d %B %Y", "%A %d %B %Y", "%a %d %b %Y", "%a, %d %b %Y", "%d %B %Y", "%B %d, %Y",
                 "%A, %B %d, %Y", "%Y-%m-%d", "%d %b %Y", "%b %d, %Y")


@dataclass
class Params:
    """The parameters found so far, and which typed values they stand for."""

    params: dict[str, Param] = field(default_factory=dict)
    by_value: dict[str, str] = field(default_factory=dict)  # lower-cased value -> name
    last_text: str | None = None  # the last free-text parameter (search words for choices)
    task_money: list[float] = field(default_factory=list)

    def new(self, base: str, param: Param, value: str | None = None) -> str:
        name, n = base, 2
        while name in self.params:
            name, n = f"{base}_{n}", n + 1
        self.params[name] = param
        if value:
            self.by_value.setdefault(value.strip().lower(), name)
        return name

    def template_for(self, value: str) -> str | None:
        """An existing parameter (or two, space-separated) that typed this value."""
        v = value.strip().lower()
        if v in self.by_value:
            return "{" + self.by_value[v] + "}"
        for a, na in self.by_value.items():
            for b, nb in self.by_value.items():
                if na != nb and v == f"{a} {b}":
                    return "{" + na + "} {" + nb + "}"
        return None


def field_label(target: dict[str, Any]) -> str:
    return norm(target.get("label") or target.get("name") or target.get("placeholder") or target.get("field")
                or "")


def typed_param(ps: Params, target: dict[str, Any], value: str) -> str:
    """The template that replaces a typed value (a new or an existing parameter)."""
    existing = ps.template_for(value)
    if existing:
        return existing
    label = field_label(target)
    is_search = target.get("role") == "searchbox" or target.get("type") == "search" or re.search(
        r"\bsearch\b", label, re.I)
    base = "query" if is_search else slug(label, "text")
    kind = "number" if re.fullmatch(r"\d+(?:\.\d+)?", value.strip()) else (
        "date" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) else "text")
    name = ps.new(base, Param(type=kind, description=f'typed into "{label}"' if label else "typed text",
                              example=value), value)
    if kind == "text":
        ps.last_text = name
    return "{" + name + "}"


def secret_param(ps: Params, kind: str, target: dict[str, Any]) -> str:
    name, default = SECRET_PARAMS.get(kind, (slug(field_label(target), "secret"), ""))
    if not default:
        default = "{{secret:" + name.replace("_", "-") + "}}"
    if name not in ps.params:
        label = field_label(target)
        ps.params[name] = Param(type="secret", default=default,
                                description=(f'typed into "{label}"; ' if label else "")
                                + "never stored: give it when running, or keep it in the vault")
    return "{" + name + "}"


def suggestion_example(option_name: str) -> str:
    """What to type to get this suggestion again: "New York (JFK)" -> "New York"."""
    base = re.split(r"\s+\(|,\s|\s[–—-]\s", option_name, maxsplit=1)[0].strip()
    return base or option_name


def autocomplete_param(ps: Params, target: dict[str, Any], typed: str, option_name: str) -> str:
    example = suggestion_example(option_name)
    label = field_label(target)
    name = ps.new(slug(label, "place"), Param(
        description=f'typed into "{label}", then the suggestion that has it is picked' if label else "",
        example=example), typed)
    ps.by_value.setdefault(example.lower(), name)
    return name


def choice_param(ps: Params, target: dict[str, Any], option: str) -> str:
    label = field_label(target)
    name = ps.new(slug(label, "option"), Param(type="choice", description=f'chosen in "{label}"',
                                               example=option, options=list(target.get("options") or [])))
    return "{" + name + "}"


# --- dates ------------------------------------------------------------------------


def find_date(name: str) -> tuple[dt.date, str] | None:
    """A date written in a control's name, and its format (day without a leading zero)."""
    text = norm(name)
    for fmt in _DATE_FORMATS:
        try:
            day = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if "%d" in fmt and not (day.day < 10 and f"0{day.day}" in text):
            fmt = fmt.replace("%d", "%-d")
        return day, fmt
    return None


def date_param(ps: Params, context: str, day: dt.date) -> str:
    name = ps.new(slug(context, "date") if context else "date",
                  Param(type="date", description=f'picked in "{context}"' if context else "a date",
                        example=day.isoformat()))
    if not name.endswith("date"):
        ps.params[name + "_date"] = ps.params.pop(name)
        name += "_date"
    return name


# --- choices among similar items ------------------------------------------------------


def _available(sib: dict[str, Any]) -> bool:
    return not sib.get("disabled") and not UNAVAILABLE.search(sib.get("name", "") + " " + sib.get("text", ""))


def has_words(name: str, text: str) -> bool:
    """Every word of `text` is in `name` (cable/cables alike)."""
    have = words(name)
    return all(any(h.startswith(w) or (len(h) >= 4 and w.startswith(h)) for h in have) for w in words(text))


def _price(sib: dict[str, Any]) -> float | None:
    found = prices(sib.get("text", ""))
    return found[0] if found else None


def infer_choice(ps: Params, target: dict[str, Any]) -> Choice | None:
    """A rule that picks the item the person picked, among its like siblings, or None."""
    item = target.get("item") or {}
    sibs: list[dict[str, Any]] = item.get("siblings") or []
    k = item.get("index", -1)
    if len(sibs) < 3 or not 0 <= k < len(sibs):
        return None
    name = target.get("name", "")
    group = int((target.get("group") or {}).get("index", 0))
    like = generalize(name) or ""
    same = [i for i, s in enumerate(sibs)
            if s.get("name") == name or (like and glob_match(like, s.get("name", "")))]
    stem = like.split("*", 1)[0] if like else ""
    numbered = len(stem.strip()) >= 3 and sum(
        s.get("name", "").startswith(stem) for s in sibs) >= 0.8 * len(sibs)
    if len(same) >= 3 or numbered:
        # Items that look alike ("Select" x 10, "Seat 12C, aisle"...): which of them.
        pattern = like or name
        usable = [i for i in same if _available(sibs[i])]
        if usable and usable[0] == k:
            return Choice(pick="first", like=pattern, group=group)
        if k in usable:
            return Choice(pick="nth", nth=usable.index(k), like=pattern, group=group)
        return None
    # Items that differ (products): the first (or cheapest) one that passes the tests it passes.
    chosen = sibs[k]
    need_available = _available(chosen)
    query = ps.params[ps.last_text].example if ps.last_text else None
    need_words = bool(query) and has_words(chosen.get("name", ""), query or "")
    price = _price(chosen)
    limit = None
    if price is not None:
        above = sorted(m for m in ps.task_money if m >= price)
        limit = above[0] if above else float(math.ceil(price))

    def passes(s: dict[str, Any]) -> bool:
        if need_available and not _available(s):
            return False
        if need_words and not has_words(s.get("name", ""), query or ""):
            return False
        p = _price(s)
        return limit is None or (p is not None and p <= limit)

    passing = [i for i, s in enumerate(sibs) if passes(s)]
    cheapest = price is not None and k in passing and price == min(_price(sibs[i]) or 0 for i in passing)
    pick = "first" if passing and passing[0] == k else ("cheapest" if cheapest else None)
    if pick is None:
        return None
    choice = Choice(pick=pick, available=need_available, group=group)
    if need_words and ps.last_text:
        choice.words = "{" + ps.last_text + "}"
    if limit is not None:
        name = ps.new("max_price", Param(type="money", description="the highest price to pay for the item",
                                         example=f"{limit:g}"))
        choice.max_price = "{" + name + "}"
    return choice


# --- the description ----------------------------------------------------------------


def describe_task(task: str, ps: Params) -> str:
    """The person's own words with the parameters' examples as slots."""
    text = task.strip()
    for name, p in sorted(ps.params.items(), key=lambda kv: -len(kv[1].example or "")):
        ex = (p.example or "").strip()
        if not ex or p.type == "secret":
            continue
        if p.type == "money":
            text = re.sub(rf"(?<![\d.]){re.escape(ex)}(?:\.00)?(?![\d.])", "{" + name + "}", text)
            continue
        if p.type == "date":
            text = _replace_date(text, ex, name)
            continue
        text = re.sub(re.escape(ex), "{" + name + "}", text, flags=re.I)
    return text


def _replace_date(text: str, iso: str, name: str) -> str:
    day = dt.date.fromisoformat(iso)
    forms = [iso, f"{day.day} {day:%B} {day.year}", f"{day:%B} {day.day}, {day.year}", f"{day.day} {day:%B}",
             f"{day:%B} {day.day}", f"{day.day} {day:%b}", f"{day:%b} {day.day}"]
    for form in forms:
        if form.lower() in text.lower():
            return re.sub(re.escape(form), "{" + name + "}", text, count=1, flags=re.I)
    return text
