"""What a request the browser is about to send says about money: the amounts,
currency, items and card number it carries.

A page shows one thing and sends another (a hidden field, a handler that edits the
form on mousedown, a processor's iframe that posts its own figure), so the
approval of a purchase is held to what is read here, from the request itself
(permissions.payment_wire). This module is the pure part: no browser, no policy.

Amounts come from fields whose name says money (amount, total, price, charge,
cost; `amount.value` as processors nest it) and from any value written as money
("$499.90", "EUR 12.00", a bare "499.90" with two decimals). Minor units are
read as such only where the field's name says so (amount_cents, minor_units):
an integer is otherwise taken at face value, so a mistaken reading can only ask
again, never let more through. Where several amounts are sent the largest counts,
as on the page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qsl, urlsplit

from .money import CODES, find_money

_AMOUNT_KEY = re.compile(r"amount|\bamt\b|total|price|charge|\bcost\b|\bsum\b|grand|to_?pay|payable", re.I)
_NOT_AMOUNT_KEY = re.compile(r"count|qty|quantity|\bid\b|_id\b|percent|rate|ratio|items?_?count", re.I)
_MINOR_KEY = re.compile(r"cents|minor|in_?pence|_?units?\b", re.I)
_CURRENCY_KEY = re.compile(r"currency|\bcur\b|\bccy\b", re.I)
_ITEM_KEY = re.compile(r"(?:item|product|line|sku|cart).*(?:name|title|description|label)"
                       r"|^(?:items?|products?|description)$", re.I)
_PLAIN_NUMBER = re.compile(r"[+]?\d{1,12}(?:\.\d{1,4})?")
_TWO_DECIMALS = re.compile(r"\d{1,9}\.\d{2}")
# A card number: 13 to 19 digits, optionally in groups split by one space or dash.
_CARD_RUN = re.compile(r"(?<![\d])\d(?:[ \-]?\d){12,18}(?![\d])")
_MAX_FIELDS = 2_000  # a huge body is read in part: what it carries past this asks again


@dataclass(frozen=True)
class SentPayment:
    """What one request carries. Empty amounts: none could be read."""

    amounts: tuple[Decimal, ...]
    currency: str | None  # an ISO code the request names, if exactly one
    currencies: tuple[str, ...]  # every code named (several: cannot be compared)
    items: tuple[str, ...]
    has_card: bool  # a Luhn-valid card number is in it

    @property
    def amount(self) -> Decimal | None:
        return max(self.amounts) if self.amounts else None


def read_request(url: str, body: bytes | str | None, content_type: str = "") -> SentPayment:
    """The money in a request's URL query and body (form, JSON, multipart or text)."""
    fields = list(_query_fields(url))
    text = ""
    if body:
        raw = body if isinstance(body, bytes) else body.encode("utf-8", "replace")
        text = raw.decode("utf-8", "replace")
        fields += list(_body_fields(raw, text, content_type))
    fields = fields[:_MAX_FIELDS]
    amounts: list[Decimal] = []
    currencies: list[str] = []
    items: list[str] = []
    for key, value in fields:
        amounts += _amounts(key, value)
        if _CURRENCY_KEY.search(key) and value.strip().upper() in CODES:
            currencies.append(value.strip().upper())
        elif _ITEM_KEY.search(_last(key)) and _is_name(value):
            items.append(" ".join(value.split())[:120])
        currencies += [m.currency for m in find_money(value)]
    if not fields and text:  # a body we could not split: its money as written
        found = find_money(text)
        amounts += [m.amount for m in found]
        currencies += [m.currency for m in found]
    codes = tuple(dict.fromkeys(currencies))
    return SentPayment(amounts=tuple(amounts), currency=codes[0] if len(codes) == 1 else None,
                       currencies=codes, items=tuple(dict.fromkeys(items)),
                       has_card=has_card_number(url + "\n" + text))


def has_card_number(text: str) -> bool:
    return any(luhn_ok(re.sub(r"\D", "", m.group(0))) for m in _CARD_RUN.finditer(text))


def luhn_ok(digits: str) -> bool:
    """A card number's check digit is right (12 to 19 digits, nothing else)."""
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _amounts(key: str, value: str) -> list[Decimal]:
    value = value.strip()
    if not value or len(value) > 200:
        return []
    money = find_money(value)
    if money:
        return [m.amount for m in money]
    named = bool(_AMOUNT_KEY.search(key)) and not _NOT_AMOUNT_KEY.search(_last(key))
    if named and _PLAIN_NUMBER.fullmatch(value):
        amount = _decimal(value)
        if amount is None:
            return []
        minor = _MINOR_KEY.search(_last(key)) and "." not in value
        return [amount / 100 if minor else amount]
    if _TWO_DECIMALS.fullmatch(value):  # "499.90" under any name is read as money
        amount = _decimal(value)
        return [amount] if amount is not None else []
    return []


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.lstrip("+"))
    except InvalidOperation:
        return None


def _last(key: str) -> str:
    return re.split(r"[.\[\]]+", key.strip(".[]"))[-1] if key else ""


def _is_name(value: str) -> bool:
    """An item's name, not an id: words, not one token of digits and dashes."""
    v = value.strip()
    return (2 <= len(v) <= 200 and bool(re.search(r"[A-Za-z]{3}", v))
            and not re.fullmatch(r"[\w\-]*\d[\w\-]*", v))


def _query_fields(url: str) -> Iterator[tuple[str, str]]:
    try:
        query = urlsplit(url).query
    except ValueError:
        return
    yield from parse_qsl(query, keep_blank_values=False)


def _body_fields(raw: bytes, text: str, content_type: str) -> Iterator[tuple[str, str]]:
    ctype = content_type.lower()
    stripped = text.lstrip()
    if "json" in ctype or stripped[:1] in ("{", "["):
        try:
            yield from _json_fields("", json.loads(text))
            return
        except ValueError:
            pass
    if "multipart/" in ctype:
        yield from _multipart_fields(raw, content_type)
        return
    if "=" in text and "\n" not in text.strip():
        yield from parse_qsl(text, keep_blank_values=False)


def _json_fields(prefix: str, value: object) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _json_fields(f"{prefix}.{k}" if prefix else str(k), v)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _json_fields(f"{prefix}[{i}]", v)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        yield prefix, format(Decimal(str(value)), "f")
    else:
        yield prefix, str(value)


def _multipart_fields(raw: bytes, content_type: str) -> Iterator[tuple[str, str]]:
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1")
                                                  + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        return
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name or part.get_filename():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            yield str(name), payload.decode("utf-8", "replace")
