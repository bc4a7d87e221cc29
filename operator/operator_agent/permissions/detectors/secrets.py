"""Secrets in actions: placeholders the model may write, and stored values it
must never write (it can only know them if something leaked; typing them would
skip the origin binding)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote_plus

from ...types import Action

MIN_SUBSTRING = 6  # shorter values (a CVC) only count when they are the whole text


def action_texts(action: Action) -> list[str]:
    """Every free-text field of an action (what the model wrote)."""
    return [v for k, v in action.model_dump().items() if isinstance(v, str) and k != "action"]


def _variants(text: str) -> list[str]:
    """The text as written, URL-decoded, and with separators removed: a value split by
    spaces, '+', dashes or dots (or pressed key by key) is still the value."""
    decoded = unquote_plus(text)
    return [text, decoded, *(re.sub(r"[\s+\-.]", "", t) for t in (text, decoded))]


def literal_secret(action: Action, values: Iterable[tuple[str, str]]) -> str | None:
    """The name of a stored secret whose value the action contains, or None."""
    texts = action_texts(action)
    if not texts:
        return None
    variants = [v for t in texts for v in _variants(t)]
    digits = [re.sub(r"\D", "", v) for v in variants]
    for name, value in values:
        if not value:
            continue
        if len(value) >= MIN_SUBSTRING:
            squeezed = re.sub(r"[\s+\-.]", "", value)
            if any(value in v or (squeezed and squeezed in v) for v in variants):
                return name
            if value.isdigit() and any(value in d for d in digits):  # "4242%204242 ..." too
                return name
        elif any(v.strip() == value for v in variants):
            return name
    return None
