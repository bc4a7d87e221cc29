"""Secrets in actions: placeholders the model may write, and stored values it
must never write (it can only know them if something leaked; typing them would
skip the origin binding)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ...types import Action

MIN_SUBSTRING = 6  # shorter values (a CVC) only count when they are the whole text


def action_texts(action: Action) -> list[str]:
    """Every free-text field of an action (what the model wrote)."""
    return [v for k, v in action.model_dump().items() if isinstance(v, str) and k != "action"]


def _digits(text: str) -> str:
    return re.sub(r"[\s\-.]", "", text)


def literal_secret(action: Action, values: Iterable[tuple[str, str]]) -> str | None:
    """The name of a stored secret whose value the action contains, or None."""
    texts = action_texts(action)
    if not texts:
        return None
    squeezed = [_digits(t) for t in texts]
    for name, value in values:
        if not value:
            continue
        if len(value) >= MIN_SUBSTRING:
            if any(value in t for t in texts):
                return name
            if value.isdigit() and any(value in s for s in squeezed):  # "4242 4242 ..." too
                return name
        elif any(t.strip() == value for t in texts):
            return name
    return None
