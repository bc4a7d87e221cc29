"""Secrets leaving the browser: is a vault value in what a request carries?

A page's own script can read a field the agent filled and send it anywhere (a
beacon, an image URL, a fetch, a WebSocket frame), encoded as it likes. The
gate cannot see that; the wire can. This module is the pure part: given a
request's destination, URL, headers and body, it names the secret that is
going to an origin it is not bound to, in any of the usual spellings:

- raw, URL-encoded (%xx and +), JSON-escaped, hex;
- base64 (standard and URL-safe) at any alignment, so `btoa("pw=" + secret)`
  is found as well as `btoa(secret)`;
- card numbers with spaces, dashes or dots inserted or removed anywhere.

Values shorter than MIN_LENGTH (a CVC, an expiry) are not scanned: three digits
occur in every other request, and a filter that blocks everything gets turned
off. The last four digits of a card are not a secret either.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from .hosts import URLError, parse

MIN_LENGTH = 8
_CARD = re.compile(r"\d{12,19}")
_SEPARATED = re.compile(r"(?<=\d)[\s\-.]+(?=\d)")


@dataclass(frozen=True)
class Leak:
    """A secret on its way to an origin it is not bound to. No value in here."""

    name: str
    form: str  # "raw", "base64", "url-encoded", ...
    where: str  # "url", "header <name>", "body", "message"
    origin: str  # where the request goes

    @property
    def reason(self) -> str:
        return (f"the value of secret {self.name!r} ({self.form}) was in the {self.where} of a request "
                f"to {self.origin}, which it is not bound to")


@dataclass(frozen=True)
class _Needle:
    name: str
    text: str
    form: str


def _base64_forms(value: bytes) -> list[str]:
    """The base64 characters that depend only on `value`, for each of the three
    alignments it can have inside a longer encoded string."""
    out = []
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + value).decode("ascii").rstrip("=")
        start = -(-pad * 8 // 6)  # first 6-bit group wholly inside the value
        end = (pad + len(value)) * 8 // 6  # groups after this mix in what follows
        core = encoded[start:end]
        if len(core) >= MIN_LENGTH:
            out += [core, core.replace("+", "-").replace("/", "_")]
    return out


def spellings(value: str) -> list[tuple[str, str]]:
    """(form, text) pairs a value is recognised in (on a haystack already %-decoded)."""
    raw = value.encode("utf-8")
    forms = [("raw", value), ("json", json.dumps(value, ensure_ascii=False)[1:-1]),
             ("json", json.dumps(value)[1:-1]), ("url-encoded", quote(value, safe="")),
             ("url-encoded", quote_plus(value, safe="")), ("hex", raw.hex()), ("hex", raw.hex().upper())]
    forms += [("base64", b) for b in _base64_forms(raw)]
    return list(dict.fromkeys(forms))


class SecretScanner:
    """The vault's values and where each may go; `scan` a request for leaks."""

    def __init__(self, secrets: Iterable[tuple[str, str, Iterable[str]]]) -> None:
        """secrets: (name, value, bound origins as hosts.ParsedURL.origin gives them)."""
        self._needles: list[_Needle] = []
        self._cards: list[tuple[str, str]] = []  # (name, digits)
        self._bound: dict[str, frozenset[str]] = {}
        for name, value, origins in secrets:
            if len(value) < MIN_LENGTH:
                continue
            self._bound[name] = self._bound.get(name, frozenset()) | frozenset(origins)
            digits = re.sub(r"[\s\-.]", "", value)
            if _CARD.fullmatch(digits):
                self._cards.append((name, digits))
                value = digits
            self._needles += [_Needle(name, text, form) for form, text in spellings(value)]

    @classmethod
    def from_vault(cls, vault: object) -> SecretScanner:
        """From a permissions.vault.Vault: every value the model must never type itself."""
        pairs = vault.literal_values()  # type: ignore[attr-defined]
        return cls((name, value, vault.origins(name)) for name, value in pairs)  # type: ignore[attr-defined]

    def __bool__(self) -> bool:
        return bool(self._needles)

    def scan(self, url: str, headers: Mapping[str, str] | None = None, body: bytes | str | None = None,
             *, kind: str = "request") -> Leak | None:
        """The first secret this request carries to an origin it is not bound to, or None.
        An unparseable destination is bound to nothing."""
        if not self._needles:
            return None
        try:
            origin = parse(url).origin
        except URLError:
            origin = ""
        origin = _http_origin(origin)
        parts: list[tuple[str, str]] = [("url", url)]
        parts += [(f"header {k}", f"{v}") for k, v in (headers or {}).items()]
        if body:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            parts.append(("message" if kind == "message" else "body", text))
            if isinstance(body, bytes) and not body.isascii():
                parts.append(("body", body.decode("latin-1")))
        for where, text in parts:
            leak = self._find(text, origin, where)
            if leak is not None:
                return leak
        return None

    def _find(self, text: str, origin: str, where: str) -> Leak | None:
        hays = _decodings(text)
        for needle in self._needles:
            if origin in self._bound[needle.name]:
                continue
            if any(needle.text in hay for hay in hays):
                return Leak(needle.name, needle.form, where, origin or "an unknown origin")
        for name, digits in self._cards:
            if origin in self._bound[name]:
                continue
            if any(digits in _SEPARATED.sub("", hay) for hay in hays):
                return Leak(name, "card number with separators", where, origin or "an unknown origin")
        return None


def _decodings(text: str) -> list[str]:
    """The text as sent and %-decoded (once and twice), each also base64-decoded where
    it is a whole base64 token (so a value encoded after a prefix is found too)."""
    hays = list(dict.fromkeys([text, unquote(text), unquote_plus(text), unquote(unquote(text))]))
    for hay in list(hays):
        for token in re.findall(r"[A-Za-z0-9+/_\-]{16,}={0,2}", hay):
            decoded = _b64decode(token)
            if decoded:
                hays.append(decoded)
    return hays


def _b64decode(token: str) -> str:
    t = token.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(t + "=" * (-len(t) % 4)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def _http_origin(origin: str) -> str:
    """A WebSocket goes to the http(s) origin of the same host and port."""
    if origin.startswith(("ws://", "wss://")):
        return "http" + origin[2:]  # same default ports: 80 and 443
    return origin
