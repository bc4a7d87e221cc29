"""Turning what the in-page walker saw into the compact text the model reads.

Pure functions, no Playwright: the element-line format (`[3] button "Pay"`) is
shared with any other perceiver (a desktop one builds Elements itself and calls
`element_line`).

The text is, in order: a header (URL, title, tabs when more than one, how far
the page scrolls), a summary of what lies above the listed window, the window's
page text and indexed elements interleaved in document order (child frames
spliced in where their iframe sits), and a summary of what lies below.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..types import BBox, Element, Tab

# Walker item layouts (see dom.js).
E_K, E_ROLE, E_TAG, E_NAME, E_X, E_Y, E_W, E_H, E_INVP = range(1, 10)
E_VALUE, E_PH, E_ATTRS, E_OPTS, E_CHECKED, E_SENS, E_FILLED, E_CLOSED = range(10, 18)

HEADING, ALERT, DISABLED = range(1, 7), 7, 8
_CHECKABLE = {"checkbox", "radio", "switch", "menuitemcheckbox", "menuitemradio"}
# Input types the role already says (or that say nothing).
_PLAIN_TYPES = {"text", "submit", "button", "reset", "image", "checkbox", "radio", "search",
                "number", "range", "file", "hidden"}
_FLAGS = ("required", "readonly", "multiple")
MERGE_MAX = 40  # short text lines next to each other are joined with " · "
MERGE_LINE = 120


@dataclass
class FrameWalk:
    """One frame's walker result."""

    key: int
    url: str  # "" for the main frame
    items: list[list[Any]]
    far: list[list[Any]] = field(default_factory=list)
    scroll: list[float] | None = None  # [scrollX, scrollY, innerW, innerH, scrollW, scrollH]


@dataclass
class Built:
    elements: list[Element]
    refs: dict[int, tuple[int, int]]  # index -> (frame key, walker ordinal k)
    text: str
    closed: set[int] = field(default_factory=set)  # indexes inside closed shadow roots


def short_url(href: str, origin: str, limit: int = 200) -> str:
    """Same-origin links as a path; very long ones cut (tracking parameters...)."""
    parts = urlsplit(href)
    if origin and f"{parts.scheme}://{parts.netloc}" == origin:
        href = parts.path + (f"?{parts.query}" if parts.query else "") + (
            f"#{parts.fragment}" if parts.fragment else "")
    return href if len(href) <= limit else href[: limit - 1] + "…"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else ""


def describe_locator(role: str, tag: str, name: str, attributes: dict[str, str], frame_url: str) -> str:
    """A readable description a person (or Playwright) could use to find the element again."""
    if name and role != "clickable":
        base = f"role={role}[name={json.dumps(name, ensure_ascii=False)}]"
    elif attributes.get("id"):
        base = f"#{attributes['id']}"
    elif attributes.get("name"):
        base = f"{tag}[name={json.dumps(attributes['name'])}]"
    elif name:
        base = f"{tag}:has-text({json.dumps(name, ensure_ascii=False)})"
    else:
        base = tag
    return f"{base} >> frame={frame_url}" if frame_url else base


def element_from_item(item: Sequence[Any], index: int, frame_url: str, page_origin: str) -> Element:
    """One walker ['e', ...] record as an Element (sensitive values were never read)."""
    raw = item[E_ATTRS] or []
    attrs: dict[str, str] = {}
    for i in range(0, len(raw) - 1, 2):
        key, val = str(raw[i]), str(raw[i + 1])
        attrs[key] = short_url(val, origin_of(frame_url) or page_origin) if key == "href" else val
    sensitive = bool(item[E_SENS])
    if sensitive:
        attrs["filled"] = "true" if item[E_FILLED] else "false"
    role, tag, name = str(item[E_ROLE]), str(item[E_TAG]), str(item[E_NAME] or "")
    return Element(
        index=index, role=role, tag=tag, name=name,
        value=None if sensitive or item[E_VALUE] is None else str(item[E_VALUE]),
        placeholder=item[E_PH] or None,
        attributes=attrs,
        options=[str(o) for o in item[E_OPTS]] if item[E_OPTS] is not None else None,
        checked=item[E_CHECKED],
        bbox=BBox(x=round(item[E_X], 1), y=round(item[E_Y], 1),
                  width=round(item[E_W], 1), height=round(item[E_H], 1)),
        frame=frame_url,
        locator=describe_locator(role, tag, name, attrs, frame_url),
        sensitive=sensitive,
        in_viewport=bool(item[E_INVP]),
    )


def _q(text: str, limit: int = 80) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return json.dumps(text, ensure_ascii=False)


def element_line(el: Element) -> str:
    """`[12] textbox "Email" value="a@b.c" required` — one element, one line."""
    parts = [f"[{el.index}] {el.role}"]
    if el.name:
        parts.append(_q(el.name, 100))
    attrs = el.attributes
    typ = attrs.get("type", "")
    if el.tag == "input" and typ and typ not in _PLAIN_TYPES:
        parts.append(f"type={typ}")
    if not el.name:
        for key in ("name", "id"):
            if attrs.get(key):
                parts.append(f"{key}={attrs[key]}")
                break
    if el.sensitive:
        parts.append("secret")
        if attrs.get("filled") == "true":
            parts.append("value=<hidden, filled>")
    elif el.value is not None and el.value != el.name:
        parts.append(f"value={_q(el.value)}")
    if el.placeholder and el.placeholder != el.name and not el.value:
        parts.append(f"placeholder={_q(el.placeholder, 60)}")
    if el.checked is not None:
        if el.role in _CHECKABLE or el.tag == "input":
            parts.append("checked" if el.checked else "unchecked")
        elif el.checked:
            parts.append("checked")
    if attrs.get("aria-checked") == "mixed":
        parts.append("mixed")
    exp = attrs.get("aria-expanded")
    if exp in ("true", "false"):
        parts.append("expanded" if exp == "true" else "collapsed")
    for key, word in (("aria-pressed", "pressed"), ("aria-selected", "selected"),
                      ("aria-invalid", "invalid")):
        if attrs.get(key) == "true":
            parts.append(word)
    if attrs.get("aria-current") not in (None, "false"):
        parts.append("current")
    parts.extend(flag for flag in _FLAGS if flag in attrs)
    if attrs.get("target") == "_blank":
        parts.append("new-tab")
    if el.options is not None:
        parts.append("options=[" + ", ".join(el.options) + "]")
    return " ".join(parts)


def _plural(role: str, n: int) -> str:
    if n == 1:
        return role
    return role + ("es" if role.endswith(("x", "ch", "s")) else "s")


def far_line(direction: str, groups: dict[str, tuple[int, Counter[str]]], *, more: bool = False) -> str:
    """`... 180 more below (scroll down): 172 links, 172 buttons "Add to cart"`; with
    `more`, the counts are of the first ones only: `... 250+ more below ...`."""
    total = sum(n for n, _ in groups.values())
    pieces = []
    for role, (n, names) in sorted(groups.items(), key=lambda kv: -kv[1][0])[:6]:
        piece = f"{n} {_plural(role, n)}"
        top = [(name, c) for name, c in names.most_common(2) if c >= 2]
        if top and top[0][1] == n:
            piece += f" {_q(top[0][0], 40)}"
        elif top:
            piece += " (" + ", ".join(f"{c} {_q(name, 40)}" for name, c in top) + ")"
        pieces.append(piece)
    if len(groups) > 6:
        pieces.append("…")
    verb = "scroll up" if direction == "above" else "scroll down"
    return f"... {total}{'+' if more else ''} more {direction} ({verb}): " + ", ".join(pieces)


def header_lines(url: str, title: str, tabs: Sequence[Tab] = (), scroll: Sequence[float] | None = None,
                 ) -> list[str]:
    lines = [f"url: {url}"]
    if title:
        lines.append(f"title: {title}")
    if len(tabs) > 1:
        lines.append("tabs: " + " | ".join(
            f"[{t.index}] {t.title or t.url}{' (current)' if t.active else ''}" for t in tabs))
    if scroll:
        _, sy, _, ih, _, sh = scroll
        if ih > 0:
            above, below = sy / ih, max(0.0, (sh - sy - ih) / ih)
            parts = [f"{v:.1f} screens {d}" for v, d in ((above, "above"), (below, "below")) if v >= 0.05]
            if parts:
                lines.append("page: " + ", ".join(parts))
    return lines


def text_line(text: str, kind: int) -> str:
    if kind in HEADING:
        return "#" * kind + " " + text
    if kind == ALERT:
        return "! " + text
    if kind == DISABLED:
        return text + " (disabled)"
    return text


def _compact(entries: list[tuple[str, Any]]) -> list[str]:
    """Text and element entries to lines: drop text that repeats a neighbour, join short runs."""
    lines: list[str] = []
    run: list[str] = []

    def end_run() -> None:
        if run:
            lines.append(" · ".join(run))
            run.clear()

    prev_text = ""
    for i, (kind, val) in enumerate(entries):
        if kind == "e":
            end_run()
            lines.append(element_line(val))
            prev_text = ""
            continue
        if kind == "l":  # a literal line (frame markers)
            end_run()
            lines.append(val)
            prev_text = ""
            continue
        text, tkind = val
        near = [entries[j][1].name for j in (i - 1, i + 1)
                if 0 <= j < len(entries) and entries[j][0] == "e"]
        if text == prev_text or text in near or text.rstrip(":*").strip() in near:
            continue
        prev_text = text
        if tkind == 0 and len(text) <= MERGE_MAX and " | " not in text:  # table rows stay rows
            if run and sum(len(r) + 3 for r in run) + len(text) > MERGE_LINE:
                end_run()
            run.append(text)
            continue
        end_run()
        lines.append(text_line(text, tkind))
    end_run()
    return lines


def build(walks: dict[int, FrameWalk], *, main_key: int, url: str, title: str,
          tabs: Sequence[Tab] = (), page_origin: str = "") -> Built:
    """Assign indexes in reading order and write the observation text."""
    elements: list[Element] = []
    refs: dict[int, tuple[int, int]] = {}
    closed: set[int] = set()
    entries: list[tuple[str, Any]] = []
    placed: set[int] = set()

    def emit(walk: FrameWalk) -> None:
        placed.add(walk.key)
        for item in walk.items:
            tag = item[0]
            if tag == "e":
                index = len(elements) + 1
                el = element_from_item(item, index, walk.url, page_origin)
                elements.append(el)
                refs[index] = (walk.key, int(item[E_K]))
                if len(item) > E_CLOSED and item[E_CLOSED]:
                    closed.add(index)
                entries.append(("e", el))
            elif tag == "t":
                entries.append(("t", (str(item[1]), int(item[2]))))
            elif tag == "f":
                child = walks.get(int(item[1]))
                if child is not None and child.key not in placed:
                    frame_entries(child)

    def frame_entries(walk: FrameWalk) -> None:
        start = len(entries)
        entries.append(("l", f"-- frame {short_url(walk.url, '', 100)} --"))
        emit(walk)
        if len(entries) == start + 1:
            entries.pop()  # nothing visible in it
        else:
            entries.append(("l", "-- end frame --"))

    main = walks.get(main_key)
    if main is not None:
        emit(main)
    for key in sorted(walks):
        if key not in placed:  # its iframe was not met in the walk (closed shadow root...)
            frame_entries(walks[key])

    far: dict[str, dict[str, tuple[int, Counter[str]]]] = {"above": {}, "below": {}}
    more: set[str] = set()  # a walk counted as far as it counts, and there was more
    for walk in walks.values():
        for direction, role, n, names in walk.far:
            if not role:
                more.add(direction)
                continue
            prev_n, prev_names = far[direction].get(role, (0, Counter()))
            merged = prev_names + Counter({str(name): int(c) for name, c in names})
            far[direction][role] = (prev_n + int(n), merged)

    lines = header_lines(url, title, tabs, main.scroll if main else None)
    if far["above"]:
        lines.append(far_line("above", far["above"], more="above" in more))
    body = _compact(entries)
    lines.extend(body)
    if not body:
        lines.append("(nothing to read or click in view)")
    if far["below"]:
        lines.append(far_line("below", far["below"], more="below" in more))
    return Built(elements, refs, "\n".join(lines), closed)
