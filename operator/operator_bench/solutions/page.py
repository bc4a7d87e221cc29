"""Reading the observation text the way the scripted replies need: the listed
elements (`[3] button "Submit" ...`) and the instruction in the page's words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_ELEMENT = re.compile(r'^\[(\d+)\] (\S+)(?: "((?:[^"\\]|\\.)*)")?(.*)$', re.M)


@dataclass(frozen=True)
class El:
    index: int
    role: str
    name: str
    rest: str  # state and attributes after the name: value="..." checked ...

    @property
    def value(self) -> str | None:
        m = re.search(r'value="((?:[^"\\]|\\.)*)"', self.rest)
        return unescape(m.group(1)) if m else None


def unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\")


def elements(text: str) -> list[El]:
    return [El(int(m.group(1)), m.group(2), unescape(m.group(3) or ""), m.group(4).strip())
            for m in _ELEMENT.finditer(text)]


def find(text: str, name: str | None = None, *, role: str | None = None, contains: str | None = None,
         nth: int = 0) -> El:
    """The nth element with exactly this name (case matters, as on MiniWoB pages), or
    whose name contains `contains` (any case), and this role."""
    hits = [e for e in elements(text)
            if (name is None or e.name == name) and (role is None or e.role == role)
            and (contains is None or contains.casefold() in e.name.casefold())]
    if len(hits) <= nth:
        raise LookupError(f"no element {name or contains!r} (role {role}) on the page")
    return hits[nth]


def first(text: str, *roles: str, name: str | None = None) -> El:
    """The first element with one of these roles (and this exact name)."""
    for e in elements(text):
        if e.role in roles and (name is None or e.name == name):
            return e
    raise LookupError(f"no {'/'.join(roles)} {name or ''} on the page")


def has(text: str, name: str | None = None, **kw: Any) -> bool:
    try:
        find(text, name, **kw)
    except LookupError:
        return False
    return True


def search(pattern: str, text: str) -> re.Match[str]:
    """A regex over the page's words (escaped quotes in element names undone)."""
    m = re.search(pattern, unescape(text), re.S)
    if m is None:
        raise LookupError(f"/{pattern}/ not on the page")
    return m


# --- decisions -------------------------------------------------------------------------


def step(reasoning: str, *actions: dict[str, Any]) -> dict[str, Any]:
    return {"reasoning": reasoning, "actions": list(actions)}


def click(el: El) -> dict[str, Any]:
    return {"action": "click", "index": el.index}


def type_(el: El, text: str, *, submit: bool = False) -> dict[str, Any]:
    return {"action": "type", "index": el.index, "text": text, "submit": submit}


def select(el: El, option: str) -> dict[str, Any]:
    return {"action": "select", "index": el.index, "option": option}


def done(answer: str, success: bool = True) -> dict[str, Any]:
    return {"action": "done", "answer": answer, "success": success}
