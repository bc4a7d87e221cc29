"""Keeping secret values out of everything written to disk.

One Redactor serves the trace, the report built from it and the audit log: it
knows each secret value and the forms the value takes in what we store (JSON
escapes, %-encoding, base64 at any alignment, a card number grouped by spaces or
dashes) and replaces them with a fixed marker.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

REDACTED = "[redacted]"
# Shorter secrets are ignored: replacing every "a" or "12" in a trace would
# mangle URLs, numbers and prose, and such a value is no real secret anyway.
MIN_SECRET_LEN = 3
# A base64 fragment shorter than this is too likely to occur by chance in other data.
_MIN_B64 = 6

# A run of URL characters holding at least one %XX escape: everything but the
# separators of query parameters and fragments, since encoders differ on the rest
# (encodeURIComponent leaves "!'()*" as they are, Python's quote does not).
_URLISH = r"[\w.~+\-/=!$'()*,;:@]"
_ENCODED_RUN = re.compile(_URLISH + r"*(?:%[0-9A-Fa-f]{2}" + _URLISH + r"*)+")
# Digits with the separators people and URLs put between them.
_DIGIT_RUN = re.compile(r"\d(?:[\d \-.+]|%20)*\d")


def base64_forms(value: str) -> set[str]:
    """The base64 text of `value` wherever it sits in a longer encoded string
    (`btoa("user:" + password)`): for each of the 3 alignments, the characters
    that depend only on the value's bytes; standard and URL-safe alphabets."""
    raw = value.encode("utf-8")
    out: set[str] = set()
    for shift in range(3):
        text = base64.b64encode(b"\0" * shift + raw).decode("ascii").rstrip("=")
        # Leading characters mixed with the bytes before; the last one mixes with the bytes after.
        start = {0: 0, 1: 2, 2: 3}[shift]
        end = len(text) if (shift + len(raw)) % 3 == 0 else len(text) - 1
        core = text[start:end]
        if len(core) >= _MIN_B64:
            out.update({core, core.replace("+", "-").replace("/", "_")})
    return out


class Redactor:
    """Secret values that must never be written to disk."""

    def __init__(self, values: list[str] | None = None) -> None:
        self._secrets: set[str] = set()  # each secret and its encoded forms
        self._plain: set[str] = set()  # the values themselves
        for value in values or []:
            self.add(value)

    def add(self, value: str | None) -> None:
        if not value or len(value) < MIN_SECRET_LEN or value in self._plain:
            return
        self._plain.add(value)
        # The forms the value takes inside text we store verbatim: the model's raw
        # JSON reply (escaped quotes, \uXXXX), URLs (a form sent by GET puts the
        # value in the query string), and base64 (what page scripts wrap data in).
        self._secrets.update({
            value,
            json.dumps(value)[1:-1],
            json.dumps(value, ensure_ascii=False)[1:-1],
            quote(value, safe=""),
            quote_plus(value),
            *base64_forms(value),
        })

    def redact(self, text: str) -> str:
        if not self._secrets:
            return text
        # Longest first, so a secret that contains another is removed whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        if "%" in text:
            text = _ENCODED_RUN.sub(self._redact_encoded, text)
        if any(v.isdigit() for v in self._plain):
            text = _DIGIT_RUN.sub(self._redact_digits, text)
        return text

    def _redact_digits(self, m: re.Match[str]) -> str:
        # A card number grouped by spaces, dashes, dots or '+' is still the card number.
        digits = re.sub(r"\D", "", m.group(0).replace("%20", ""))  # "%20" is a space, not "20"
        return REDACTED if any(v.isdigit() and v in digits for v in self._plain) else m.group(0)

    def _redact_encoded(self, m: re.Match[str]) -> str:
        # A value percent-encoded some other way ("%34%32...", base64 with %2B): whole run out.
        run = m.group(0)
        decoded = {unquote(run), unquote_plus(run)}
        return REDACTED if any(s in d for s in self._secrets for d in decoded) else run

    def redact_obj(self, obj: Any) -> Any:
        """Redact every string (keys too) in a JSON-like value.

        Redacting the strings before serializing, rather than the serialized
        line, catches secrets containing quotes, backslashes or non-ASCII that
        JSON would escape, and always leaves valid JSON.
        """
        if not self._secrets:
            return obj
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, dict):
            return {self.redact_obj(k): self.redact_obj(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.redact_obj(v) for v in obj]
        return obj
