"""Reading a choice off the page: is this click a pick among options (a result row's
"Select", a seat, a product, a delivery option), and what are the chosen option's
attributes (departure time, airline, stops, seat kind, brand, price, speed)?

Works on the observation text the model reads (`[12] button "Select"` lines with
the page's own words between them), so the guard (live observations) and the
learner (recorded StepRecords) read choices the same way. Nothing read here is
ever written to the preference store as a preference.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal

from .names import WORLD, Names
from .vocab import general, speed_of, windows_of

Kind = Literal["seat", "result", "cart", "option", "product"]

_ELEMENT = re.compile(r'^\[(\d+)\] (\S+)(?: ("(?:[^"\\]|\\.)*"))?')
_HEADER = re.compile(r"^(url|title|page|tabs): ")
_VERB = re.compile(r"^(select|choose|book|reserve|pick|buy|add to (?:cart|basket|bag|trolley)|add)\b",
                   re.IGNORECASE)
_CART = re.compile(r"^(buy|add to (?:cart|basket|bag|trolley)|add)\b", re.IGNORECASE)
_OPTION_ROLES = frozenset({"option", "radio", "menuitemradio", "row", "gridcell"})
_SEAT_NAME = re.compile(r"\bseat\b.*\b(window|aisle|middle)\b|\b(window|aisle|middle)\b.*\bseat\b",
                        re.IGNORECASE)
# "22:35", "22h35", "10:35 pm"; never a price such as "$12.50".
_TIME = re.compile(r"(?<![$€£\d.,])\b([01]?\d|2[0-3])[:h]([0-5]\d)\s*([ap]\.?m\.?)?(?![\w])", re.IGNORECASE)
_PRICE = re.compile(r"([$€£])\s?(\d[\d,]*(?:\.\d{1,2})?)")
_STOPS = re.compile(r"\b(non-?stop|direct)\b|\b(\d+)\s+stops?\b", re.IGNORECASE)
_BY = re.compile(r"\bby ([A-Z][\w&'.-]*(?: [A-Z][\w&'.-]*)?)")
_AIRLINE_NAME = re.compile(r"\b([A-Z][a-z]+(?: [A-Z][a-z]+)* (?:Air|Airways|Airlines))\b")
# What only a flight shows: stops, a route between airports, a duration, a flight number.
_FLIGHT_MARK = re.compile(r"\b(?:non-?stop|direct)\b|\b\d+\s+stops?\b"
                          r"|\b[A-Z]{3}\s*(?:→|->|–|—|-|to)\s*[A-Z]{3}\b"
                          r"|\b\d{1,2}h\s?\d{1,2}m\b|\b[A-Z][A-Z0-9]\s?\d{1,4}\b")
_NAME_WORD = re.compile(r"[A-Z][A-Za-z'&.-]*|[a-z]+[A-Z]\w*")  # "Qantas", "easyJet"; no digits
_OPERATED = re.compile(r"\b[Oo]perated by ([A-Z][\w&'.-]*(?: [A-Z][\w&'.-]*){0,3})")
_CABIN = re.compile(r"\b(premium economy|economy|business|first)\b", re.IGNORECASE)
_NAV_VERB = re.compile(r"^(see|view|read|show|more|learn|details|back|next|previous|sign|log|help|shop)\b",
                       re.IGNORECASE)
_PRODUCT_LINE = re.compile(r"\bby [A-Z]|\bstars?\b|\bratings?\b|\breviews?\b|\bin stock\b|\bout of stock\b",
                           re.IGNORECASE)
_SHIPPY = re.compile(r"\b(delivery|shipping|ship|shipped|courier|postage)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Line:
    text: str
    index: int | None = None  # set on element lines
    role: str = ""
    name: str = ""


def parse_lines(text: str) -> list[Line]:
    out = []
    for raw in text.splitlines():
        m = _ELEMENT.match(raw)
        if not m:
            out.append(Line(raw.strip()))
            continue
        name = ""
        if m.group(3):
            try:
                name = json.loads(m.group(3))
            except ValueError:
                name = m.group(3).strip('"')
        out.append(Line(raw, int(m.group(1)), m.group(2), name.rstrip("…")))
    return out


@dataclass(frozen=True)
class Facts:
    seat: str | None = None
    departs: int | None = None  # minutes after midnight
    red_eye: bool = False  # labelled red-eye by the page
    stops: int | None = None
    airlines: tuple[str, ...] = ()
    brand: str | None = None
    price: float | None = None
    speed: str | None = None
    cabin: str | None = None

    def windows(self) -> set[str]:
        found = windows_of(self.departs) if self.departs is not None else set()
        return found | ({"red-eye"} if self.red_eye else set())

    @property
    def flight(self) -> bool:
        """A flight result (a time and an airline or stops), not a product or a fare."""
        return self.departs is not None and (bool(self.airlines) or self.stops is not None)


@dataclass(frozen=True)
class Choice:
    kind: Kind
    label: str  # what was chosen, as the page names it
    context: str  # the label with the words around it that describe the option
    facts: Facts = field(default_factory=Facts)


def _departs(text: str) -> int | None:
    m = _TIME.search(text)
    if not m:
        return None
    hour, minute, ampm = int(m.group(1)), int(m.group(2)), (m.group(3) or "").lower().replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    return hour * 60 + minute


def _airline_like(name: str) -> bool:
    """A few capitalised words, none a general one ("Nonstop", "Economy Light") and no
    lone airport code ("MAD")."""
    words = name.split()
    if not 1 <= len(words) <= 4 or (len(words) == 1 and words[0].isupper() and len(words[0]) <= 3):
        return False
    return not any(general(w) or not _NAME_WORD.fullmatch(w) for w in words)


def row_airlines(context: str) -> list[str]:
    """The airlines of a flight result, by the row's shape, without knowing any: a part
    that is only a name ("Qantas · 07:10 – 09:00 · QF 12 · Nonstop"), "A + B" for a
    codeshare, or "operated by A". Only on a row with a time and a flight's marks, so a
    restaurant's "Terrace · 22:30" is no airline."""
    if not (_TIME.search(context) and _FLIGHT_MARK.search(context)):
        return []
    found = list(_OPERATED.findall(context))
    for part in re.split(r"\s+[·|•]\s+|\n", context):
        carriers = re.split(r"\s*[+/]\s*|,\s+", part.strip())
        if all(_airline_like(c) for c in carriers):
            found += carriers
    return found


def read_facts(kind: Kind, label: str, context: str, names: Names | None = None) -> Facts:
    """What the page says about an option; `names`, the brands and airlines the person's
    data knows, find those the page names without saying what they are."""
    names = WORLD if names is None else names
    seat = None
    if kind == "seat" or re.search(r"\bseat\b", context, re.IGNORECASE):
        m = re.search(r"\b(window|aisle|middle)\b", context, re.IGNORECASE)
        seat = m.group(1).lower() if m else None
    stops = None
    if kind != "seat" and (m := _STOPS.search(context)):
        stops = 0 if m.group(1) else int(m.group(2))
    airlines = tuple(dict.fromkeys([*names.named(context, "airline"), *_AIRLINE_NAME.findall(context),
                                    *row_airlines(context)]))
    by = _BY.search(context)
    brands = names.named(context, "brand")
    brand = by.group(1) if by else (brands[0] if len(brands) == 1 else None)
    price = None
    if m := _PRICE.search(context):
        price = float(m.group(2).replace(",", ""))
    speed = speed_of(context) if kind == "option" and _SHIPPY.search(context) else None
    cabin = None
    if kind == "result" and (m := _CABIN.search(label)):
        cabin = m.group(1).lower()
    departs = _departs(context) if kind in ("result", "option", "product") else None
    # A flight the page itself marks as overnight is a red-eye, whatever its first leg's time.
    red_eye = bool(re.search(r"\bred[- ]?eye\b", context, re.IGNORECASE)) or (
        stops is not None and re.search(r"\bovernight\b", context, re.IGNORECASE) is not None)
    return Facts(seat=seat, departs=departs, red_eye=red_eye, stops=stops, airlines=airlines,
                 brand=brand, price=price, speed=speed, cabin=cabin)


# --- where on the page the option's description is ----------------------------


def _position(lines: list[Line], index: int) -> int | None:
    for i, line in enumerate(lines):
        if line.index == index:
            return i
    return None


def _before(lines: list[Line], pos: int, limit: int = 4) -> list[str]:
    """The page's words just above an element, back to the previous element or heading."""
    got: list[str] = []
    for line in reversed(lines[max(0, pos - limit):pos]):
        if line.index is not None or _HEADER.match(line.text):
            break
        got.append(line.text)
        if line.text.startswith("#"):
            break
    return list(reversed(got))


def _after(lines: list[Line], pos: int, limit: int = 2) -> list[str]:
    got: list[str] = []
    for line in lines[pos + 1:pos + 1 + limit]:
        if line.index is not None or line.text.startswith(("#", "...")):
            break
        got.append(line.text)
    return got


def _rowish(words: list[str]) -> bool:
    text = " ".join(words)
    return bool(_TIME.search(text) or _PRICE.search(text) or _BY.search(text) or _STOPS.search(text))


def _siblings(lines: list[Line], role: str, name: str) -> list[int]:
    """Positions of elements like this one (same role, same leading verb or name)."""
    head = name.split()[0].casefold() if name.split() else ""
    return [i for i, ln in enumerate(lines)
            if ln.index is not None and ln.role == role and ln.name.split()[:1]
            and ln.name.split()[0].casefold() == head]


def _row(lines: list[Line], pos: int, siblings: list[int]) -> list[str]:
    """The description of a generic "Select"-like button's row. Rows put it above the
    button or below it: the first sibling shows which, so the next row's text is never
    read as this one's."""
    first = siblings[0] if siblings else pos
    if not _rowish(_before(lines, first)) and _rowish(_after(lines, first)):
        return _after(lines, pos)
    return _before(lines, pos)


def _page_subject(lines: list[Line], title: str) -> list[str]:
    """On a product page the product is the page: its "Brand:", title, heading and the
    first price under the heading."""
    got: list[str] = []
    heading = None
    for i, line in enumerate(lines):
        if line.text.rstrip().endswith("Brand:") and i + 1 < len(lines) and lines[i + 1].name:
            got.insert(0, f"by {lines[i + 1].name}")
        if heading is None and line.text.startswith("# "):
            heading = i
            got.append(line.text[2:])
    if heading is not None:
        price = next((ln.text for ln in lines[heading + 1:heading + 15]
                      if ln.index is None and _PRICE.search(ln.text)), None)
        if price:
            got.append(price)
    return [*got, title.split(" | ")[0]] if title else got


def choice_at(index: int, role: str, name: str, text: str, *, title: str = "",
              option: str | None = None, names: Names | None = None) -> Choice | None:
    """The choice an action on element `index` makes, or None when it is no pick among
    options (search buttons, navigation, filters, text fields)."""
    lines = parse_lines(text)
    pos = _position(lines, index)
    if option is not None:
        ctx = f"{name}: {option}"
        return Choice("option", option, ctx, read_facts("option", option, ctx, names))
    if _SEAT_NAME.search(name):
        return Choice("seat", name, name, read_facts("seat", name, name, names))
    if pos is None:
        return None
    if role in _OPTION_ROLES:
        ctx = " · ".join([name, *_after(lines, pos)])
        return Choice("option", name, ctx, read_facts("option", name, ctx, names))
    if _VERB.match(name):
        kind: Kind = "cart" if _CART.match(name) else "result"
        siblings = _siblings(lines, role, name)
        if kind == "cart" and len(siblings) <= 1:
            row = _page_subject(lines, title)  # the one "Add to cart" of a product page
        else:
            row = _row(lines, pos, siblings)
        ctx = " · ".join([*row, name])
        return Choice(kind, name, ctx, read_facts(kind, name, ctx, names))
    if role == "link" and _product_link(name, _after(lines, pos)):
        ctx = " · ".join([name, *_after(lines, pos)])
        return Choice("product", name, ctx, read_facts("product", name, ctx, names))
    return None


def _product_link(name: str, after: list[str]) -> bool:
    """A product in a list: a title of a few words, then a line with its price and
    the marks of a product card (brand, rating, stock) or nothing but the price."""
    if len(name.split()) < 3 or _NAV_VERB.match(name) or not after:
        return False
    first = after[0]
    return bool(_PRICE.search(first)) and (bool(_PRODUCT_LINE.search(first)) or len(first) < 30)


def element_line(text: str, index: int) -> Line | None:
    """The element line `[index] role "name"` of an observation text."""
    for line in parse_lines(text):
        if line.index == index:
            return line
    return None


def alternatives(index: int, role: str, name: str, text: str, *, title: str = "",
                 names: Names | None = None) -> list[Choice]:
    """The other options the page offered next to the clicked one (for learning)."""
    seat = bool(_SEAT_NAME.search(name))
    out = []
    for ln in parse_lines(text):
        if ln.index is None or ln.index == index or ln.role != role:
            continue
        if seat != bool(_SEAT_NAME.search(ln.name)):
            continue
        c = choice_at(ln.index, ln.role, ln.name, text, title=title, names=names)
        if c is not None:
            out.append(c)
    return out
