"""Finding text lines on a screenshot without OCR, and turning each into a small page
for Tesseract (see ocr.py for why the screen is read line by line).

Text lines are found from the image gradient: glyph-sized connected components
joined along the line, skipping the frames of detected controls so a field's
border is not read as "|". Tiny parts stacked in a column (the bars of "=",
the dots of "÷") are one glyph, and so are a root sign and its overline. A
line's page holds only its glyph pixels on a plain background, dark on light,
upscaled when small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .screen import Region

# --- segmentation parameters (screen pixels) ---------------------------------------
GRAD_MIN = 48  # gradient that counts as an edge: text contrast, not a subtle bevel
MAX_GLYPH_H = 64  # taller components are pictures or panels, not letters
RULE = 48  # straight edges this long are borders and rules, never part of a letter
JOIN_X, JOIN_Y = 5, 3  # glyphs closer than this are one word (letters, an i's dot)
WORD_GAP = 0.75  # words closer than this many line heights are one line
PAD = 6  # background around each page, as Tesseract likes a margin
SMALL_LINE = 14  # lines lower than this (fonts up to ~12 px) are upscaled 2x before reading
TINY = 5  # ink lower than this is no line of its own: the bars of "=", the dots and bar of "÷"

# --- 1. segmentation ---------------------------------------------------------------


def edge_mask(gray: np.ndarray, frames: Sequence[tuple[Region, Region | None]] = ()) -> np.ndarray:
    """Strong edges (0/1) without long straight lines (borders, rules, underlines) and
    without control frames. `frames` are (outer, hole) pairs: the ring between them
    is cleared, and a caret inside; a frame without a hole (a checkbox) is cleared
    entirely."""
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((2, 2), np.uint8))
    bw = (grad >= GRAD_MIN).astype(np.uint8)
    rules = (cv2.morphologyEx(bw, cv2.MORPH_OPEN, np.ones((1, RULE), np.uint8))
             | cv2.morphologyEx(bw, cv2.MORPH_OPEN, np.ones((RULE, 1), np.uint8)))
    bw &= 1 - rules  # text touching a border stays; the border goes
    for outer, hole in frames:
        inner = hole.slice(bw).copy() if hole is not None else None
        outer.slice(bw)[...] = 0
        if hole is not None and inner is not None and inner.size:
            # A stroke nearly as tall as the box is a text caret, not a letter.
            tall = max(8, int(0.7 * hole.h))
            if inner.shape[0] >= tall:
                inner &= 1 - cv2.morphologyEx(inner, cv2.MORPH_OPEN, np.ones((tall, 1), np.uint8))
            hole.slice(bw)[...] = inner
    return bw


def glyph_components(bw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label the edge mask; return (labels, stats, keep) where keep marks letter-like
    components: not too big, not a ruled line, not an empty outline."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(bw, connectivity=8)
    w, h, area = stats[:, 2], stats[:, 3], stats[:, 4]
    keep = (h <= MAX_GLYPH_H) & (w <= 1000) & (h >= 2) & (w >= 2)
    keep &= ~((h <= 4) & (w > 4 * h + 8))  # short horizontal rules, separators
    keep &= ~((w <= 4) & (h > 24))  # short vertical rules
    keep[0] = False
    for i in np.nonzero(keep & (w > 16) & (h > 16))[0]:
        x, y = stats[i, 0], stats[i, 1]
        inside = labels[y + 4:y + h[i] - 4, x + 4:x + w[i] - 4] == i
        if inside.sum() < 0.08 * area[i]:  # all of it on the rim: a box outline, not a letter
            keep[i] = False
    return labels, stats, keep


def _row_runs(rows: np.ndarray) -> list[list[int]]:
    """[start, end) of the runs of rows with ink; small runs (the dot of an i, an
    accent, a bar of "=") are joined to their neighbour."""
    runs: list[list[int]] = []
    for y in np.nonzero(rows)[0]:
        if runs and runs[-1][1] == y:
            runs[-1][1] = int(y) + 1
        else:
            runs.append([int(y), int(y) + 1])
    if len(runs) <= 1:
        return runs
    small_h = max(0.4 * max(b - a for a, b in runs), TINY)
    merged: list[list[int]] = []
    for run in runs:
        small = run[1] - run[0] < small_h or (merged and merged[-1][1] - merged[-1][0] < small_h)
        if merged and small and run[0] - merged[-1][1] <= 3:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    return merged


def _words(glyphs: np.ndarray) -> list[tuple[Region, np.ndarray]]:
    """Letters joined into words: (box, the word's own letter pixels in the box)."""
    joined = cv2.dilate(glyphs, cv2.getStructuringElement(cv2.MORPH_RECT, (JOIN_X, JOIN_Y)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        own = (labels[y:y + h, x:x + w] == i) & (glyphs[y:y + h, x:x + w] > 0)
        # Lines set tightly touch once dilated: split them again at their empty rows.
        for a, b in _row_runs(own.any(axis=1)):
            part = own[a:b]
            cols = np.nonzero(part.any(axis=0))[0]
            if len(cols):
                c0, c1 = int(cols[0]), int(cols[-1]) + 1
                out.append((Region(x + c0, y + a, c1 - c0, b - a), part[:, c0:c1]))
    return out


def _stack(words: list[tuple[Region, np.ndarray]]) -> list[tuple[Region, np.ndarray]]:
    """Tiny words in a column, further apart than a letter's parts (the bars of a large
    "=", the dots of ":" and "÷"), are one glyph."""
    tiny = [(r, m) for r, m in words if r.h < TINY]
    if len(tiny) < 2:
        return words
    out = [(r, m) for r, m in words if r.h >= TINY]
    i = 0
    while i < len(tiny):
        a, ma = tiny[i]
        j = next((j for j, (b, _) in enumerate(tiny) if j != i
                  and min(a.right, b.right) - max(a.x, b.x) >= 0.5 * min(a.w, b.w)
                  and 0 <= max(a.y, b.y) - min(a.bottom, b.bottom) <= TINY), None)
        if j is None:
            i += 1
            continue
        b, mb = tiny[j]
        box = a.union(b)
        mask = np.zeros((box.h, box.w), bool)
        for r, m in ((a, ma), (b, mb)):
            mask[r.y - box.y:r.bottom - box.y, r.x - box.x:r.right - box.x] |= m > 0
        tiny[i] = (box, mask)  # a stack of tiny parts may take more of them, however tall
        del tiny[j]
        i = 0 if j < i else i
    return out + tiny


def word_gap(h: int) -> int:
    return int(WORD_GAP * h) + 1


def _lines(words: list[tuple[Region, np.ndarray]], shape: tuple[int, int]) -> list[tuple[Region, np.ndarray]]:
    """Words joined into lines: each word reaches right by a gap that grows with the
    height of its line, through the middle of its height only (so lines above and
    below stay apart). Repeated while lines grow: a word of small letters ("on",
    "a") reaches as far as the tallest word of the line it joined."""
    if not words:
        return []
    heights = [r.h for r, _ in words]
    ids: list[int] = []
    for _ in range(4):
        reach = np.zeros(shape, np.uint8)
        for (r, _), h in zip(words, heights, strict=True):
            top, bottom = r.y + int(0.3 * r.h), r.y + max(int(0.3 * r.h) + 1, int(0.7 * r.h))
            reach[top:bottom, r.x:r.right + word_gap(h)] = 1
        _, labels = cv2.connectedComponents(reach, connectivity=4)
        ids = [int(labels[r.y + int(0.3 * r.h), r.x]) for r, _ in words]
        tallest: dict[int, int] = {}
        for i, (r, _) in zip(ids, words, strict=True):
            tallest[i] = max(tallest.get(i, 0), r.h)
        grown = [tallest[i] for i in ids]
        if grown == heights:
            break
        heights = grown
    groups: dict[int, list[tuple[Region, np.ndarray]]] = {}
    for i, word in zip(ids, words, strict=True):
        groups.setdefault(i, []).append(word)
    out = []
    for members in groups.values():
        box = members[0][0]
        for r, _ in members[1:]:
            box = box.union(r)
        mask = np.zeros((box.h, box.w), bool)
        for r, m in members:
            mask[r.y - box.y:r.bottom - box.y, r.x - box.x:r.right - box.x] |= m
        out.append((box, mask.astype(np.uint8)))
    return out


def _overlines(lines: list[tuple[Region, np.ndarray]]) -> list[tuple[Region, np.ndarray]]:
    """A bar level with the top of a taller glyph just left of it (a root sign's vinculum,
    drawn as a glyph of its own in bitmap fonts) is part of that glyph's line: it lies
    above the middle band through which words join (see _lines)."""
    bars = [i for i, (r, _) in enumerate(lines) if r.h < TINY and r.w >= 2 * r.h]
    gone: set[int] = set()
    out = list(lines)
    for i in bars:
        bar = lines[i][0]
        j = next((j for j, (r, _) in enumerate(out) if j != i and j not in gone and j not in bars
                  and r.h >= 3 * bar.h and bar.w <= 2 * r.h and abs(bar.y - r.y) <= 1
                  and 0 <= bar.x - r.right <= min(word_gap(r.h), bar.w)), None)
        if j is None:
            continue
        (a, ma), (b, mb) = out[j], lines[i]
        box = a.union(b)
        mask = np.zeros((box.h, box.w), np.uint8)
        for r, m in ((a, ma), (b, mb)):
            mask[r.y - box.y:r.bottom - box.y, r.x - box.x:r.right - box.x] |= m
        out[j] = (box, mask)
        gone.add(i)
    return [lm for i, lm in enumerate(out) if i not in gone]


def line_margin(line: Region) -> tuple[int, int]:
    """How far from a line other glyphs could still join it (x, y). A glyph-sized line
    may be part of a stack (see _stack): its parts are further apart; a bar may be an
    overline as far from its glyph as it is long (see _overlines)."""
    stack = line.w <= 4 * TINY and line.h <= 4 * TINY
    bar = line.w if line.h < TINY and line.w >= 2 * line.h else 0
    return max(JOIN_X, word_gap(line.h), bar) + 1, max(JOIN_Y, TINY if stack else 0) + 1


@dataclass
class Segment:
    window: Region
    lines: list[Region]
    masks: list[np.ndarray]  # each line's own letter pixels (0/1), in its box
    grow: Region | None = None  # not self-contained: segment this larger window instead


def segment(gray: np.ndarray, frames: Sequence[tuple[Region, Region | None]],
            window: Region | None = None) -> Segment:
    """Text lines inside `window` (default: the whole image).

    `grow` is set when something crosses the window's edge (a component, or a line
    that could join glyphs outside it): the caller widens the window and asks again.
    The edges are computed with enough context around the window that they are the
    same as in a whole-screen pass.
    """
    screen = Region(0, 0, gray.shape[1], gray.shape[0])
    win = window or screen
    ctx = win.expand(RULE, within=screen)
    local = [(o.offset(-ctx.x, -ctx.y), h.offset(-ctx.x, -ctx.y) if h else None)
             for o, h in frames if o.intersects(ctx)]
    bw = win.offset(-ctx.x, -ctx.y).slice(edge_mask(ctx.slice(gray), local)).copy()
    labels, stats, keep = glyph_components(bw)
    glyphs = keep[labels].astype(np.uint8)

    # Edges of the window that are not the screen's: nothing may touch them.
    open_l, open_t = win.x > 0, win.y > 0
    open_r, open_b = win.right < screen.right, win.bottom < screen.bottom
    grow = win
    for x, y, w, h, _ in stats[1:]:
        if (open_l and x == 0) or (open_t and y == 0) or (open_r and x + w >= win.w) or (
                open_b and y + h >= win.h):
            grow = grow.union(Region(int(x) + win.x, int(y) + win.y, int(w), int(h)).expand(
                word_gap(MAX_GLYPH_H), JOIN_Y + 1, within=screen))
    lines, masks = [], []
    for box, mask in sorted(_overlines(_lines(_stack(_words(glyphs)), glyphs.shape)), key=lambda lm: lm[0]):
        line = box.offset(win.x, win.y)
        mx, my = line_margin(line)
        if ((open_l and line.x - win.x < mx) or (open_r and win.right - line.right < mx)
                or (open_t and line.y - win.y < my) or (open_b and win.bottom - line.bottom < my)):
            grow = grow.union(line.expand(mx, my, within=screen))
        lines.append(line)
        masks.append(mask)
    return Segment(window=win, lines=lines, masks=masks, grow=grow if grow != win else None)


# --- 2. pages ------------------------------------------------------------------------


def page_scale(height: int) -> float:
    """Small text is read better at twice the size."""
    return 2.0 if height < SMALL_LINE else 1.0


def background(gray: np.ndarray, near: np.ndarray) -> int:
    back = gray[~near]
    if back.size:
        return int(np.median(back))
    rim = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])  # all glyph: its edge pixels
    return int(np.median(rim)) if rim.size else 255


def make_page(gray: np.ndarray, glyphs: np.ndarray, scale: float | None = None) -> np.ndarray:
    """One line's page: its letter pixels on a plain background, dark on light,
    with a margin, upscaled when small (by page_scale, unless `scale` is given)."""
    near = cv2.dilate(glyphs, np.ones((3, 3), np.uint8)) > 0  # keep the anti-aliased rims
    bg = background(gray, near)
    ink = gray[glyphs > 0]
    page = np.where(near, gray, np.uint8(bg)).astype(np.uint8)
    if ink.size and float(ink.mean()) > bg:  # light text on a dark background
        page, bg = 255 - page, 255 - bg
    scale = scale or page_scale(page.shape[0])
    if scale != 1.0:
        page = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return cv2.copyMakeBorder(page, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=bg)
