"""Lone glyphs and short symbol lines named from their ink, where Tesseract misreads small
bitmap fonts: . - = : ÷ ( ) √ π, and lines with a slash, a caret or a superscript read in
parts (see ocr.py, which asks Tesseract for the rest)."""

from __future__ import annotations

from itertools import pairwise

import cv2
import numpy as np

from .segment import GRAD_MIN, background

# Tesseract reads a line as a whole: alone, a glyph has no baseline or x-height to go
# by, so "." comes back empty, "=" as "-", "C" as "c" or "Cc". What is known of its
# shape from the pixels helps.


def glyph_ink(gray: np.ndarray, glyphs: np.ndarray) -> np.ndarray:
    """A line's ink (0/1): the pixels nearer its text's colour than its background's."""
    near = cv2.dilate(glyphs, np.ones((3, 3), np.uint8)) > 0
    diff = np.abs(gray.astype(np.int16) - background(gray, near))
    peak = int(diff[near].max()) if near.any() else 0
    if peak < GRAD_MIN:
        return np.zeros(gray.shape, np.uint8)
    return (near & (2 * diff > peak)).astype(np.uint8)


def ink_columns(ink: np.ndarray) -> int:
    """How many runs of columns have ink: 1 for a lone glyph (letters are set apart)."""
    cols = ink.any(axis=0).astype(np.int8)
    return int(np.count_nonzero(np.diff(np.concatenate([[0], cols])) == 1))


def plain_glyph(ink: np.ndarray) -> str | None:
    """A lone glyph made only of solid dots and bars, which OCR reads badly alone:
    ".", "-", "=", ":" or "÷" by how they are stacked; None for anything else."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    parts = sorted((tuple(int(v) for v in row) for row in stats[1:n]), key=lambda p: p[1])
    if not 1 <= len(parts) <= 3 or ink_columns(ink) != 1:
        return None
    kinds = []
    for _, _, w, h, area in parts:
        # A dot is round (3 pixels across: a plus sign's shape), a bar solid; anything
        # else is a letter's stroke.
        side = max(w, h)
        if side <= 6 and w < 2 * h and h <= 2 * w and area >= (0.5 if side <= 3 else 0.75) * w * h:
            kinds.append(".")
        elif h <= 4 and w >= 2 * h and area >= 0.85 * w * h:  # long ones are rules, dropped already
            kinds.append("-")
        else:
            return None
    shape = "".join(kinds)
    if shape == "--" and min(p[2] for p in parts) >= 0.7 * max(p[2] for p in parts):
        return "="
    if shape == ".-." and parts[1][2] >= 2 * max(parts[0][2], parts[2][2]):
        return "÷"
    return {".": ".", "-": "-", "..": ":"}.get(shape)


# Glyphs drawn with thin strokes that Tesseract misreads alone in small bitmap fonts
# ("(" as "¢", "π" as "wT", "√" as "4"), known from how their strokes run instead.


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the runs of ink in a row."""
    edges = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _crop(ink: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(ink)
    return ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if ys.size else ink[:0, :0]


def _one_part(ink: np.ndarray) -> bool:
    return cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)[0] == 2


def _bracket(ink: np.ndarray) -> str | None:
    """A parenthesis: one tall, narrow stroke, one run a row, whose middle bows left of
    both its ends ("(") or right of them (")"), held there over a few rows (a brace's
    point is one row; a slash or a bar does not bow)."""
    h, w = ink.shape
    if h < 6 or w < 3 or h < 2.5 * w or not _one_part(ink):  # 2 columns: a "[" looks the same
        return None
    centres = []
    for row in ink:
        runs = _runs(row)
        if len(runs) != 1 or runs[0][1] - runs[0][0] > max(2, (w + 1) // 2):
            return None
        centres.append((runs[0][0] + runs[0][1] - 1) / 2)
    c = np.array(centres)
    if np.abs(np.diff(c)).max() > max(1.0, w / 3):  # a smooth curve, not a corner
        return None
    k = max(1, h // 6)
    ends = np.array([c[:k].mean(), c[-k:].mean()])
    mid = c[h // 3:h - h // 3]
    held = max(2, h // 5)  # rows at the extreme: a curve's belly, not a brace's point
    if ends.min() - mid.min() >= 1 and np.count_nonzero(c <= mid.min() + 0.25) >= held:
        return "("
    if mid.max() - ends.max() >= 1 and np.count_nonzero(c >= mid.max() - 0.25) >= held:
        return ")"
    return None


def _radical(ink: np.ndarray) -> bool:
    """A root sign: a stem leaning right from a low point right of the middle up to
    the top right corner, and a short arm rising left from that point that stays in
    the lower part (a "V" has two tall arms, a "4" a bar across, a "J" a round foot)."""
    h, w = ink.shape
    if h < 8 or w < 4 or h < 1.2 * w or not _one_part(ink):
        return False
    rows = [_runs(row) for row in ink]
    if any(len(r) > 2 or any(b - a > max(2, w // 2) for a, b in r) for r in rows):
        return False
    upper = rows[:int(0.4 * h)]
    if any(len(r) != 1 or r[0][0] < 0.5 * w for r in upper):  # only the stem, on the right
        return False
    left = np.flatnonzero(ink[:, 0])
    bottom = np.flatnonzero(ink[-1])
    split = sum(len(r) == 2 for r in rows)  # the arm apart from the stem, down to the point
    return bool(0.3 * h <= left[0] <= 0.7 * (h - 1) and left[-1] < h - 2 and split >= max(3, h // 4)
                and bottom.mean() >= 0.45 * (w - 1) and rows[0][0][0] > bottom.max())


def _overline(ink: np.ndarray) -> np.ndarray | None:
    """The rest of a glyph with a bar over its right (a root sign's vinculum, drawn apart
    in some fonts): the bar is the last column run, a thin solid line at the top."""
    cols = ink.any(axis=0)
    starts = _runs(cols)
    if len(starts) != 2:
        return None
    a, b = starts[1]
    bar = ink[:, a:b]
    ys = np.flatnonzero(bar.any(axis=1))
    if ys.size == 0 or ys[0] != 0 or ys[-1] > 2 or not bar[ys].all() or b - a < 3:
        return None
    return _crop(ink[:, :starts[0][1]])


def _pi(ink: np.ndarray) -> bool:
    """π: a bar across the top (its first rows), and below it two legs, inside its right
    end (an "n" has its leg at the edge, a "T" one leg, an "m" three)."""
    h, w = ink.shape
    if h < 5 or w < 5 or not _one_part(ink):
        return False
    rows = [_runs(row) for row in ink]
    top = 0
    while top < h and any(b - a >= 0.7 * w for a, b in rows[top]):
        top += 1
    legs = rows[top:]
    if top == 0 or top > max(1, h // 4) or len(legs) < 3:
        return False
    if any(b - a >= 0.5 * w for r in legs for a, b in r) or any(len(r) < 2 for r in legs[:2]):
        return False
    # Thin legs where they leave the bar (a pilcrow has its bowl there).
    upper = [b - a for r in legs[:len(legs) // 2] for a, b in r]
    if max(upper) > max(2, 2 * float(np.median(upper))):
        return False
    two = sum(len(r) == 2 for r in legs)
    bar_right = max(b for a, b in rows[top - 1])
    return two >= 0.7 * len(legs) and legs[0][-1][1] <= bar_right - 2


def drawn_glyph(ink: np.ndarray) -> str | None:
    """A lone glyph known from its shape (see plain_glyph, _bracket, _radical, _pi);
    None when it is for OCR to read."""
    plain = plain_glyph(ink)
    if plain is not None:
        return plain
    glyph = _crop(ink)
    if glyph.size == 0:
        return None
    if ink_columns(glyph) == 2:
        rest = _overline(glyph)
        return "√" if rest is not None and _radical(rest) else None
    if ink_columns(glyph) != 1:
        return None
    if _radical(glyph):
        return "√"
    if _pi(glyph):
        return "π"
    return _bracket(glyph)


# --- 4. glyphs read apart -----------------------------------------------------------------
# A slash or a caret between letters, or a raised digit after them, is misread inside a
# short line of a small bitmap font ("1/x" as "17x", "x²" as "x?", "y^x" as "yox");
# known from its shape, it splits the line into parts read on their own.

SUPERSCRIPTS = dict(zip("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹", strict=True))


def _slash(ink: np.ndarray) -> bool:
    """"/": one thin straight stroke, one run a row, leaning right by at least 0.4 of
    its height (an italic "l" leans less)."""
    h, w = ink.shape
    if h < 6 or w < 3 or h < 1.2 * w or not _one_part(ink):
        return False
    centres = []
    for row in ink:
        runs = _runs(row)
        if len(runs) != 1 or runs[0][1] - runs[0][0] > max(2, w // 2):
            return False
        centres.append((runs[0][0] + runs[0][1] - 1) / 2)
    c = np.array(centres)
    ys = np.arange(h)
    slope, at = np.polyfit(ys, c, 1)
    return bool(-slope * (h - 1) >= 0.4 * h and np.abs(c - (slope * ys + at)).max() <= 1.0)


def _caret(ink: np.ndarray) -> bool:
    """"^": a peak whose two arms spread apart row by row."""
    h, w = ink.shape
    if h < 2 or w < 3 or w > 3 * h or not _one_part(ink):
        return False
    rows = [_runs(row) for row in ink]
    if len(rows[0]) != 1 or any(len(r) != 2 for r in rows[1:]):
        return False
    return all(b[0][0] <= a[0][0] and b[-1][1] >= a[-1][1] for a, b in pairwise(rows))


def glyph_parts(ink: np.ndarray) -> list[tuple[int, int, str]] | None:
    """How to read a short line of glyphs apart: its column runs grouped as (start, end,
    kind), kind a character known from its shape ("/", "^"), "sup" for a raised last
    glyph (read alone: a digit becomes a superscript), "" for text to read. None when
    nothing in it is known: the line is read whole."""
    runs = _runs(ink.any(axis=0))
    if not 2 <= len(runs) <= 8:
        return None
    boxes = []
    for a, b in runs:
        ys = np.flatnonzero(ink[:, a:b].any(axis=1))
        boxes.append((a, b, int(ys[0]), int(ys[-1]) + 1))
    kinds = []
    for i, (a, b, top, bottom) in enumerate(boxes):
        rest = [bx for j, bx in enumerate(boxes) if j != i]
        rest_top, rest_bottom = min(r[2] for r in rest), max(r[3] for r in rest)
        raised = top < rest_top and bottom <= (rest_top + rest_bottom) / 2
        glyph = _crop(ink[:, a:b])
        if raised and _caret(glyph):
            kinds.append("^")
        elif not raised and bottom - top >= 0.7 * (rest_bottom - rest_top) and _slash(glyph):
            kinds.append("/")
        elif (raised and i == len(boxes) - 1 and glyph.shape[1] >= 3
              and bottom - top >= max(4, 0.45 * (rest_bottom - rest_top))):
            kinds.append("sup")  # a small digit's size: not a quote mark, nor a degree sign
        else:
            kinds.append("")
    if all(k == "" for k in kinds):
        return None
    parts: list[tuple[int, int, str]] = []
    for (a, b, _, _), kind in zip(boxes, kinds, strict=True):
        if parts and kind == "" and parts[-1][2] == "" and a - parts[-1][1] < 0.5 * ink.shape[0]:
            parts[-1] = (parts[-1][0], b, "")  # letters of one word, read together
        else:
            parts.append((a, b, kind))
    return parts
