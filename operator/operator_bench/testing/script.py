"""Helpers for scripted models: find an element's index by its name in the
serialization the model is sent, as a model would read it."""

from __future__ import annotations

import re

_LINE = re.compile(r'\[(\d+)\]\s+(\S+)\s+"([^"]*)"')


def find_index(text: str, name: str, role: str | None = None) -> int:
    """Index of the first listed element whose name contains `name` (case-insensitive)."""
    wanted = name.lower()
    for m in _LINE.finditer(text):
        if wanted in m.group(3).lower() and (role is None or m.group(2) == role):
            return int(m.group(1))
    raise LookupError(f"no element named {name!r} in the observation")


def find_text(text: str, pattern: str) -> str:
    """First match (group 1 if any) of a regex in the observation text."""
    m = re.search(pattern, text)
    if m is None:
        raise LookupError(f"{pattern!r} not found in the observation")
    return m.group(1) if m.groups() else m.group(0)


def user_text(request_body: dict) -> str:
    """The last user message of a chat-completions request, as plain text."""
    for message in reversed(request_body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "\n".join(p.get("text", "") for p in content if p.get("type") == "text")
            return str(content or "")
    return ""
