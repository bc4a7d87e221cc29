"""Likely controls on a screenshot, found with OpenCV, and merged with OCR text.

A control on screen is a framed box: a field, a button, a drop-down, a
checkbox. Its frame is a ring of edges around a plain interior, so the
interior shows up as a rectangular *hole* in the edge image (text inside it
is an island in the hole and does not break it). Each hole is classified by
its shape and what is in it:

- a small square: a checkbox (checked when its inside has ink);
- a wide box with a small box of its own near the right end (the arrow or
  indicator): a drop-down (combobox);
- any other wide box: a button when its text is centred, a text field when
  the text starts at its left edge (or it is empty and lighter than around).

Text lines inside a control become its name (button) or value (field,
drop-down); a field's name is the label to its left or just above it, a
checkbox's the text to its right. Everything else is listed as text.
Template matching finds a saved image (an icon) on the screen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..types import Element
from .ocr import TextLine
from .screen import Region

CONTROL_H = (12, 64)  # heights of fields and buttons, in pixels
CHECKBOX = (8, 28)  # side of a checkbox
LABEL_GAP = 220  # how far left of a field its label may end
SCATTER = 3  # texts in a box further apart than this many line heights are not one label
SENSITIVE_NAME = re.compile(
    r"pass(word|code|phrase)?\b|\bpin\b|\bcvc\b|\bcvv\b|security code|card number|secret", re.I)


@dataclass(frozen=True)
class Control:
    role: str  # "textbox" | "combobox" | "button" | "checkbox" | "box" (field or button: see merge)
    outer: Region  # the frame's outside
    hole: Region  # the plain interior
    checked: bool | None = None
    lighter: bool = False  # the inside is lighter than around it (fields usually are)
    marks: tuple[Region, ...] = ()  # a drop-down's arrow or indicator: not text
    inked: bool = False  # something is written inside (also what OCR cannot read: ••••)

    def frames(self) -> list[tuple[Region, Region | None]]:
        """For text segmentation: what to ignore, as (outer, hole) rings; all of a
        checkbox and of a drop-down's indicator."""
        if self.role == "checkbox":
            return [(self.outer, None)]
        return [(self.outer, self.hole), *((m.expand(2), None) for m in self.marks)]


@dataclass(frozen=True)
class _Hole:
    outer: Region
    hole: Region
    rect: bool  # the interior is a clean rectangle (nothing touches the frame)


def _holes(bw: np.ndarray, min_side: int, max_h: int) -> list[_Hole]:
    """The holes of a 0/1 mask (interiors of rings) of a plausible size."""
    contours, hierarchy = cv2.findContours(bw, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    out = []
    for i, c in enumerate(contours):
        parent = int(hierarchy[0][i][3])
        if parent < 0:
            continue  # an outer boundary; interiors are holes (they have a parent)
        x, y, w, h = cv2.boundingRect(c)
        if w < min_side or h < min_side or h > max_h or w > 1200:
            continue
        rect = cv2.contourArea(c) >= 0.9 * (w - 1) * (h - 1)  # contour area runs through pixel centres
        px, py, pw, ph = cv2.boundingRect(contours[parent])
        hole = Region(x, y, w, h)
        outer = Region(px, py, pw, ph)
        if outer.w > w + 16 or outer.h > h + 16:  # the ring is a whole panel: frame just around it
            outer = hole.expand(3)
        out.append(_Hole(outer, hole, rect))
    return out


def _rect_holes(bw: np.ndarray, min_side: int, max_h: int) -> list[tuple[Region, Region]]:
    """(outer, hole) of each rectangular hole in a 0/1 mask."""
    return [(h.outer, h.hole) for h in _holes(bw, min_side, max_h) if h.rect]


def _split_by_caret(holes: list[_Hole], gray: np.ndarray) -> list[tuple[Region, Region]]:
    """A text caret runs from the top of a field to its bottom and cuts its interior in
    two (and the text it touches makes the left part ragged). Side-by-side holes of the
    same height are one when what parts them is a dark stroke on the field's own
    colour; a table's column separator has a light edge beside its dark one, so
    headings stay apart. Returns the rectangular interiors."""
    holes = sorted(holes, key=lambda h: (h.hole.y, h.hole.x))
    out: list[_Hole] = []
    for cur in holes:
        for i, prev in enumerate(out):
            a, b = prev.hole, cur.hole
            if (abs(a.y - b.y) <= 1 and abs(a.h - b.h) <= 1 and 0 <= b.x - a.right <= 6
                    and (prev.rect or cur.rect) and _caret_between(gray, a, b)):
                out[i] = _Hole(prev.outer.union(cur.outer), a.union(b), True)
                break
        else:
            out.append(cur)
    return [(h.outer, h.hole) for h in out if h.rect]


def _caret_between(gray: np.ndarray, left: Region, right: Region) -> bool:
    y0, y1 = max(left.y, right.y), min(left.bottom, right.bottom)
    gap = gray[y0:y1, left.right:right.x].astype(np.int16)
    if gap.size == 0:
        return False
    field = float(np.median(gray[y0:y1, left.x:left.right]))
    columns = gap.mean(axis=0)
    if not (columns.min() < field - 100 and columns.max() <= field + 10):
        return False
    # One stroke, not two: the frames of two boxes side by side (a keypad's buttons)
    # are dark columns with the background between them. The holes' edges are ring
    # pixels, so look one column into each.
    around = gray[y0:y1, max(0, left.right - 1):right.x + 1].astype(np.int16).mean(axis=0)
    dark = np.flatnonzero(around < field - 100)
    return bool(dark.size and dark[-1] - dark[0] + 1 == dark.size)


def _checkboxes(bw: np.ndarray, gray: np.ndarray) -> list[Control]:
    """Small squares whose four sides are edges; a check mark may touch the frame, so
    they are found as components, not as holes."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    out = []
    for x, y, w, h, _ in stats[1:n]:
        if not (CHECKBOX[0] + 2 <= w <= CHECKBOX[1] + 2 and abs(int(w) - int(h)) <= 2):
            continue
        box = Region(int(x), int(y), int(w), int(h))
        sub = box.slice(bw)
        sides = [sub[0, :], sub[-1, :], sub[:, 0], sub[:, -1]]
        if min(float(s.mean()) for s in sides) < 0.85:
            continue
        inside = box.expand(-3).slice(gray).astype(np.int16)
        if inside.size == 0:
            continue
        values, counts = np.unique(inside, return_counts=True)
        plain = int(values[counts.argmax()])
        if counts.max() < 0.4 * inside.size:
            continue  # no plain interior: a picture, not a box
        checked = float(np.mean(np.abs(inside - plain) > 60)) > 0.08
        out.append(Control("checkbox", box, box.expand(-2), checked=checked))
    return out


def find_controls(gray: np.ndarray) -> list[Control]:
    """Framed boxes that look like controls: checkboxes, drop-downs, fields and buttons."""
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((2, 2), np.uint8))
    bw = (grad >= 16).astype(np.uint8)  # bevels are faint: lower than the text threshold
    # Frames are long straight edges: keep only those, so text or a caret touching a
    # frame cannot break the box's interior.
    frames = (cv2.morphologyEx(bw, cv2.MORPH_OPEN, np.ones((1, 15), np.uint8))
              | cv2.morphologyEx(bw, cv2.MORPH_OPEN, np.ones((10, 1), np.uint8)))
    holes = _split_by_caret(_holes(frames, 3, CONTROL_H[1] + 8), gray)
    small = [h for _, h in _rect_holes(bw, 3, CONTROL_H[1])]  # drop-down arrows and indicators
    found = _checkboxes(bw, gray)
    for outer, hole in holes:
        ctl = _classify(gray, outer, hole, small)
        if ctl is not None:
            found.append(ctl)
    found.sort(key=lambda c: -c.hole.area)
    kept: list[Control] = []
    for c in found:
        # A bevel drawn as two rings leaves a second, slightly smaller box: the same control.
        if any(k.outer.contains(c.hole) and c.hole.w >= k.hole.w - 12 and c.hole.h >= k.hole.h - 12
               and k.role != "checkbox" for k in kept):
            continue
        kept.append(c)
    # A box holding other controls is a panel, a toolbar or a highlighted row: not a control.
    out = [c for c in kept if not any(o is not c and c.hole.contains(o.outer) for o in kept)]
    return sorted(out, key=lambda c: (c.outer.y, c.outer.x))


def _classify(gray: np.ndarray, outer: Region, hole: Region, small: Sequence[Region]) -> Control | None:
    w, h = hole.w, hole.h
    if not CONTROL_H[0] <= h <= CONTROL_H[1] or w < 1.5 * h:
        return None
    # A small box of its own near the right end: a drop-down's arrow or indicator.
    for inner in small:
        if hole.contains(inner) and inner.x > hole.x + 0.6 * w and inner.w >= 8 and inner.h < 0.7 * h:
            return Control("combobox", outer, hole, marks=(inner,))
    inside = float(np.median(hole.slice(gray)))
    inked = _inked(hole.expand(-2).slice(gray))
    around_box = outer.expand(3).slice(gray)  # just outside the frame, above and below
    ring = np.concatenate([around_box[:2].ravel(), around_box[-2:].ravel()])
    around = float(np.median(ring)) if ring.size else inside
    lighter = inside - around >= 15 or (inside >= 245 and around < 240)
    return Control("box", outer, hole, lighter=lighter, inked=inked)


def _inked(inside: np.ndarray) -> bool:
    """Ink in a box's interior, not counting a text caret (a stroke as tall as the box)."""
    if inside.size == 0:
        return False
    values, counts = np.unique(inside, return_counts=True)
    ink = (np.abs(inside.astype(np.int16) - int(values[counts.argmax()])) > 60).astype(np.uint8)
    tall = max(4, int(0.7 * inside.shape[0]))
    ink &= 1 - cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((tall, 1), np.uint8))
    return int(ink.sum()) >= 12


# --- template matching -----------------------------------------------------------------


def find_template(gray: np.ndarray, template: np.ndarray | str | Path, *, threshold: float = 0.9,
                  limit: int = 20) -> list[tuple[Region, float]]:
    """Where a saved image (an icon) is on the screen: boxes and scores, best first.

    Normalised cross-correlation on gray pixels, so a small change of brightness
    does not matter; matches overlapping a better one are dropped.
    """
    if isinstance(template, str | Path):
        loaded = cv2.imread(str(template), cv2.IMREAD_GRAYSCALE)
        if loaded is None:
            raise FileNotFoundError(f"cannot read image {template}")
        template = loaded
    elif template.ndim == 3:
        template = cv2.cvtColor(template, cv2.COLOR_BGR2GRAY)
    th, tw = template.shape[:2]
    if th > gray.shape[0] or tw > gray.shape[1]:
        return []
    scores = cv2.matchTemplate(gray, template, cv2.TM_CCOEFF_NORMED)
    scores = np.nan_to_num(scores, nan=0.0)  # flat templates give 0/0
    ys, xs = np.nonzero(scores >= threshold)
    order = np.argsort(-scores[ys, xs])
    out: list[tuple[Region, float]] = []
    for k in order:
        r = Region(int(xs[k]), int(ys[k]), tw, th)
        if any(r.intersects(o) for o, _ in out):
            continue
        out.append((r, float(scores[ys[k], xs[k]])))
        if len(out) >= limit:
            break
    return out


# --- merging controls with text ----------------------------------------------------------


@dataclass
class Item:
    """An element before it has an index: what it is and where."""

    role: str
    region: Region
    name: str = ""
    value: str | None = None
    checked: bool | None = None
    sensitive: bool = False
    block: int = 0
    attributes: dict[str, str] = field(default_factory=dict)


def _label(text: str) -> str:
    return text.strip().rstrip(":*").strip()


def _same_row(a: Region, b: Region) -> bool:
    return abs((a.y + a.h / 2) - (b.y + b.h / 2)) <= max(a.h, b.h) / 2


def merge(controls: Sequence[Control], lines: Sequence[TextLine]) -> list[Item]:
    """Controls named and valued from the text around and inside them, plus the rest of
    the text as items of their own."""
    used: set[int] = set()
    items: list[Item] = []

    def inside(box: Region) -> list[int]:
        return [i for i, ln in enumerate(lines) if i not in used and box.contains_point(*ln.region.center)]

    for c in controls:
        texts = inside(c.outer)
        if c.role == "box" and _scattered([lines[i].region for i in texts]):
            continue  # a display or a panel, not one control: its texts are listed on their own
        used.update(texts)
        text = " ".join(lines[i].text for i in sorted(texts, key=lambda i: lines[i].region.x))
        role = c.role if c.role != "box" else _field_or_button(c, [lines[i].region for i in texts])
        item = Item(role=role, region=c.outer, checked=c.checked)
        if role == "button":
            item.name = text
        else:
            item.value = text.rstrip("|").strip() if role != "checkbox" else None
            label = _find_label(c, lines, used)
            if label is not None:
                used.add(label)
                item.name = _label(lines[label].text)
            elif role == "checkbox":  # a small square with no text beside it: an icon button
                item.role, item.checked = "button", None
        if role == "textbox" and SENSITIVE_NAME.search(item.name):
            item.sensitive = True
            item.attributes["filled"] = "true" if item.value or c.inked else "false"
            item.value = None
        items.append(item)
    for i, ln in enumerate(lines):
        if i not in used:
            items.append(Item(role="text", region=ln.region, name=ln.text, block=ln.block))
    return items


def _scattered(texts: Sequence[Region]) -> bool:
    """Texts in a box on different rows and in different columns (a calculator's display:
    the number at the top right, its mode at the bottom left), or far apart on one row
    (keys whose frames were not found), are not one label or value."""
    def apart(a: Region, b: Region) -> bool:
        gap = max(a.x, b.x) - min(a.right, b.right)
        return gap >= 0 and (not _same_row(a, b) or gap > SCATTER * max(a.h, b.h))

    return any(apart(a, b) for i, a in enumerate(texts) for b in texts[i + 1:])


def _field_or_button(c: Control, texts: Sequence[Region]) -> str:
    """Text centred in the box: a button; text from the left edge, or an empty box
    lighter than around it: a field."""
    if not texts:
        return "textbox" if c.lighter else "button"
    left = min(r.x for r in texts) - c.hole.x
    right = c.hole.right - max(r.right for r in texts)
    tol = max(8, 0.15 * c.hole.w)
    # A label filling most of its box, off centre to the right (a mark after it: "√‾"),
    # is no field's text either: that starts at the left edge, or is a number at the
    # right of a lighter field.
    wide = max(r.right for r in texts) - min(r.x for r in texts) >= 0.5 * c.hole.w
    off_right = left > right + tol and wide and not c.lighter
    return "button" if abs(left - right) <= tol or off_right else "textbox"


def _find_label(c: Control, lines: Sequence[TextLine], used: set[int]) -> int | None:
    box = c.outer
    best: tuple[float, int] | None = None
    for i, ln in enumerate(lines):
        if i in used:
            continue
        r = ln.region
        if c.role == "checkbox":  # its text is to the right
            gap = r.x - box.right
            if -2 <= gap <= 40 and _same_row(r, box):
                best = min(best or (gap, i), (gap, i))
            continue
        gap = box.x - r.right
        if 0 <= gap <= LABEL_GAP and _same_row(r, box):
            best = min(best or (gap, i), (gap, i))
        above = box.y - r.bottom
        if 0 <= above <= 1.5 * r.h and box.x - 12 <= r.x <= box.x + box.w / 2:
            best = min(best or (above + 5.0, i), (above + 5.0, i))  # prefer a label on the same row
    return best[1] if best else None


def to_elements(items: Sequence[Item], offset: tuple[int, int] = (0, 0)) -> list[Element]:
    """Indexed Elements (from 1) in the given order; boxes in screen coordinates."""
    out = []
    for n, it in enumerate(items, start=1):
        r = it.region.offset(*offset)
        cx, cy = r.center
        attrs = dict(it.attributes)
        if it.block:
            attrs["block"] = str(it.block)
        out.append(Element(index=n, role=it.role, tag=it.role, name=it.name, value=it.value,
                           checked=it.checked, bbox=r.bbox(), attributes=attrs, sensitive=it.sensitive,
                           locator=f"{it.role} at ({cx}, {cy})"))
    return out

