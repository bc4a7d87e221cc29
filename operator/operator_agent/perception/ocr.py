"""Reading the text on a screen: text lines found with OpenCV, read by Tesseract.

Why not one Tesseract call on the whole screenshot: it uses one core (OpenMP
threading makes it several times slower, not faster: 1 s of CPU becomes 5 on
the benchmark's screen), its page layout merges UI text oddly (a label with
the next column), and a small change would mean reading everything again.
Screens are made of short, crisp lines, so:

1. `segment` finds text lines from the image gradient (glyph-sized connected
   components, joined along the line), skipping the frames of detected
   controls so a field's border is not read as "|".
2. Each line becomes one small page (only its glyph pixels, on a plain
   background, dark text on light, upscaled when small) and every page of a
   read goes to Tesseract as one multi-page TIFF with `--psm 7` (one line per
   page). Pages are independent, so a line reads the same whatever else is on
   screen, and results are cached by the page's pixels.
3. Tesseract processes are started ahead of use (`TesseractPool`): loading the
   model takes ~0.1 s, which would otherwise be paid on every read, however
   small; the used ones are replaced after each read. pytesseract spawns a
   fresh process per call, so it is used only to locate and check the binary.
   OMP_THREAD_LIMIT=1 is set for them: OpenMP threading makes Tesseract
   several times slower on small inputs.
4. `ScreenReader.read` re-reads only what changed since its last read: the
   changed boxes grow until no text line or glyph crosses their edge, are
   segmented again, and the lines outside them are kept. The result equals a
   full read of the new screen (tests check it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from .screen import Region, changed_regions, merge_overlapping

# --- segmentation parameters (screen pixels) ---------------------------------------
GRAD_MIN = 48  # gradient that counts as an edge: text contrast, not a subtle bevel
MAX_GLYPH_H = 64  # taller components are pictures or panels, not letters
RULE = 48  # straight edges this long are borders and rules, never part of a letter
JOIN_X, JOIN_Y = 5, 3  # glyphs closer than this are one word (letters, an i's dot)
WORD_GAP = 0.75  # words closer than this many line heights are one line
PAD = 6  # background around each page, as Tesseract likes a margin
SMALL_LINE = 14  # lines lower than this (fonts up to ~12 px) are upscaled 2x before reading
MIN_CONF = 35.0  # a line whose words average less is noise (icons, pictures)


@dataclass(frozen=True)
class Word:
    text: str
    region: Region
    conf: float


@dataclass(frozen=True)
class TextLine:
    """One line of text as read: its words, its box, and the block it belongs to."""

    text: str
    region: Region  # where the words are
    conf: float
    words: tuple[Word, ...] = ()
    block: int = 0
    box: Region | None = None  # the segmented box the line was read from (its pixels)


class OcrError(RuntimeError):
    """Tesseract is missing or failed; the message says how to fix it."""


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
    accent) are joined to their neighbour."""
    runs: list[list[int]] = []
    for y in np.nonzero(rows)[0]:
        if runs and runs[-1][1] == y:
            runs[-1][1] = int(y) + 1
        else:
            runs.append([int(y), int(y) + 1])
    if len(runs) <= 1:
        return runs
    tallest = max(b - a for a, b in runs)
    merged: list[list[int]] = []
    for run in runs:
        small = run[1] - run[0] < 0.4 * tallest or (merged and merged[-1][1] - merged[-1][0] < 0.4 * tallest)
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


def line_margin(line: Region) -> tuple[int, int]:
    """How far from a line other glyphs could still join it (x, y)."""
    return max(JOIN_X, word_gap(line.h)) + 1, JOIN_Y + 1


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
    for box, mask in sorted(_lines(_words(glyphs), glyphs.shape), key=lambda lm: lm[0]):
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


def make_page(gray: np.ndarray, glyphs: np.ndarray) -> np.ndarray:
    """One line's page: its letter pixels on a plain background, dark on light,
    with a margin, upscaled when small (by page_scale)."""
    near = cv2.dilate(glyphs, np.ones((3, 3), np.uint8)) > 0  # keep the anti-aliased rims
    back = gray[~near]
    bg = int(np.median(back)) if back.size else 255
    ink = gray[glyphs > 0]
    page = np.where(near, gray, np.uint8(bg)).astype(np.uint8)
    if ink.size and float(ink.mean()) > bg:  # light text on a dark background
        page, bg = 255 - page, 255 - bg
    scale = page_scale(page.shape[0])
    if scale != 1.0:
        page = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return cv2.copyMakeBorder(page, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=bg)


# --- 3. tesseract ---------------------------------------------------------------------


def tesseract_cmd() -> str:
    """The tesseract binary pytesseract would use (pytesseract.tesseract_cmd)."""
    try:
        import pytesseract

        return str(pytesseract.pytesseract.tesseract_cmd)
    except ImportError:
        return "tesseract"


def check_tesseract() -> str:
    """Tesseract's version, or OcrError saying how to install it."""
    try:
        import pytesseract

        return str(pytesseract.get_tesseract_version())
    except ImportError as exc:
        raise OcrError("pytesseract is not installed: pip install pytesseract") from exc
    except Exception as exc:  # TesseractNotFoundError and friends
        raise OcrError("tesseract is not installed or not on PATH: "
                       "apt-get install tesseract-ocr (Debian/Ubuntu)") from exc


class TesseractPool:
    """Tesseract processes started ahead of use, each waiting for a multi-page TIFF
    on stdin; a read splits its pages over `workers` of them (one per core)."""

    def __init__(self, *, workers: int | None = None, lang: str = "eng", timeout: float = 60.0) -> None:
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))
        self.lang, self.timeout = lang, timeout
        self._idle: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="tesseract")
        self._closed = False

    def _spawn(self) -> subprocess.Popen[bytes]:
        args = [tesseract_cmd(), "-", "stdout", "-l", self.lang, "--psm", "7",
                "-c", "tessedit_do_invert=0",  # pages are already dark on light
                "tsv"]
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)
        except OSError as exc:
            raise OcrError(f"cannot run tesseract ({exc}): apt-get install tesseract-ocr") from exc

    def warm(self) -> None:
        """Start the processes now, so the first read does not wait for them."""
        with self._lock:
            while not self._closed and len(self._idle) < self.workers:
                self._idle.append(self._spawn())

    def _take(self) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._closed:
                raise OcrError("the OCR pool is closed")
            return self._idle.pop() if self._idle else self._spawn()

    def read(self, pages: Sequence[np.ndarray]) -> list[list[tuple[str, tuple[int, int, int, int], float]]]:
        """Words (text, (left, top, width, height), confidence) of each page."""
        if not pages:
            return []
        loads = [0] * min(self.workers, len(pages))
        parts: list[list[int]] = [[] for _ in loads]
        for i in sorted(range(len(pages)), key=lambda i: -pages[i].size):  # longest first, to the idlest
            k = loads.index(min(loads))
            parts[k].append(i)
            loads[k] += pages[i].size
        futures = [self._threads.submit(self._run, [pages[i] for i in part]) for part in parts if part]
        out: list[list[tuple[str, tuple[int, int, int, int], float]]] = [[] for _ in pages]
        try:
            for part, fut in zip([p for p in parts if p], futures, strict=True):
                for i, words in zip(part, fut.result(), strict=True):
                    out[i] = words
        finally:
            # Replacements load their model after the read, not during it (it would
            # compete for the cores), while the agent acts and the model thinks.
            self.warm()
        return out

    def _run(self, pages: list[np.ndarray]) -> list[list[tuple[str, tuple[int, int, int, int], float]]]:
        images = [Image.fromarray(p) for p in pages]
        buf = io.BytesIO()
        images[0].save(buf, format="TIFF", save_all=True, append_images=images[1:])
        proc = self._take()
        try:
            stdout, stderr = proc.communicate(buf.getvalue(), timeout=self.timeout)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.communicate()
            raise OcrError(f"tesseract took longer than {self.timeout:g}s") from exc
        if proc.returncode != 0:
            raise OcrError(f"tesseract failed ({proc.returncode}): {stderr.decode(errors='replace')[-300:]}")
        return _parse_tsv(stdout.decode("utf-8", errors="replace"), len(pages))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for proc in idle:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                proc.communicate(timeout=5)
        self._threads.shutdown(wait=True)


def _parse_tsv(tsv: str, pages: int) -> list[list[tuple[str, tuple[int, int, int, int], float]]]:
    out: list[list[tuple[str, tuple[int, int, int, int], float]]] = [[] for _ in range(pages)]
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        page = int(cols[1]) - 1
        if 0 <= page < pages:
            box = (int(cols[6]), int(cols[7]), int(cols[8]), int(cols[9]))
            out[page].append((cols[11].strip(), box, float(cols[10])))
    return out


# --- 4. the reader ---------------------------------------------------------------------


def _line_from(words: Sequence[tuple[str, tuple[int, int, int, int], float]], box: Region,
               scale: float) -> TextLine | None:
    """Page words back to screen coordinates; None for noise."""
    kept = []
    for text, (left, top, width, height), conf in words:
        if conf < 0:
            continue
        x = box.x + round((left - PAD) / scale)
        y = box.y + round((top - PAD) / scale)
        r = Region(x, y, max(1, round(width / scale)), max(1, round(height / scale)))
        kept.append(Word(text, r, conf))
    if not kept:
        return None
    text = " ".join(w.text for w in kept)
    conf = sum(w.conf for w in kept) / len(kept)
    if conf < MIN_CONF or not any(ch.isalnum() for ch in text):
        return None
    region = kept[0].region
    for w in kept[1:]:
        region = region.union(w.region)
    return TextLine(text=text, region=region, conf=round(conf, 1), words=tuple(kept), box=box)


def group_blocks(lines: Sequence[TextLine]) -> list[TextLine]:
    """Number blocks: lines stacked closely, aligned or overlapping, of a similar size."""
    order = sorted(range(len(lines)), key=lambda i: (lines[i].region.y, lines[i].region.x))
    parent = list(range(len(lines)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for pos, i in enumerate(order):
        a = lines[i].region
        for j in order[pos + 1:]:
            b = lines[j].region
            if b.y - a.bottom > max(a.h, b.h):
                break  # sorted by top: nothing further down is close enough
            if b.y < a.bottom - 2 or max(a.h, b.h) > 1.4 * min(a.h, b.h):
                continue  # the same row, or another size of text
            overlap = min(a.right, b.right) - max(a.x, b.x)
            if abs(a.x - b.x) <= max(a.h, b.h) or overlap >= 0.5 * min(a.w, b.w):
                parent[find(j)] = find(i)
    roots: dict[int, int] = {}
    out = []
    for i in order:
        block = roots.setdefault(find(i), len(roots) + 1)
        out.append(dataclasses.replace(lines[i], block=block))
    return out


@dataclass
class ReadStats:
    """What the last read did (for tests and benchmarks)."""

    full: bool = True
    windows: list[Region] = field(default_factory=list)  # areas segmented again
    pages: int = 0  # lines sent to Tesseract (cache misses)
    cached: int = 0  # lines answered from the cache


class ScreenReader:
    """Reads the text lines of successive screenshots, re-reading only what changed.

    Not thread-safe: one reader per screen, used from one thread at a time.
    """

    def __init__(self, *, pool: TesseractPool | None = None, cache_size: int = 4000,
                 full_above: float = 0.5) -> None:
        self.pool = pool or TesseractPool()
        self._own_pool = pool is None
        self.cache_size = cache_size
        self.full_above = full_above  # changed share of the screen past which a full read is cheaper
        self._cache: OrderedDict[bytes, list[tuple[str, tuple[int, int, int, int], float]]] = OrderedDict()
        self._gray: np.ndarray | None = None
        self._frames: frozenset[tuple[Region, Region | None]] = frozenset()
        self._raw: list[TextLine] = []  # lines of the last read, before block numbering
        self.stats = ReadStats()

    def reset(self, *, cache: bool = False) -> None:
        """Forget the previous screen (the next read is a full one), and the cache too."""
        self._gray, self._raw = None, []
        if cache:
            self._cache.clear()

    def read(self, gray: np.ndarray, frames: Sequence[tuple[Region, Region | None]] = (),
             *, full: bool = False) -> list[TextLine]:
        """Text lines of `gray` (blocks numbered, in reading order of blocks)."""
        frames_set = frozenset(frames)
        prev = self._gray
        screen = Region(0, 0, gray.shape[1], gray.shape[0])
        if full or prev is None or prev.shape != gray.shape:
            windows = [screen]
        else:
            changed = changed_regions(prev, gray)
            for outer, _ in frames_set ^ self._frames:  # a control came or went: its frame too
                changed.append(outer.expand(1, within=screen))
            windows = merge_overlapping(changed)
            if sum(w.area for w in windows) > self.full_above * screen.area:
                windows = [screen]
        self.stats = ReadStats(full=windows == [screen])
        lines = self._reread(gray, list(frames_set), windows) if windows else self._raw
        self._gray, self._frames, self._raw = gray, frames_set, lines
        return group_blocks(lines)

    def _reread(self, gray: np.ndarray, frames: list[tuple[Region, Region | None]],
                windows: list[Region]) -> list[TextLine]:
        screen = Region(0, 0, gray.shape[1], gray.shape[0])
        keep = list(self._raw)
        todo = [w.expand(JOIN_X + 1, JOIN_Y + 1, within=screen) for w in windows]
        segs: list[Segment] = []
        for _ in range(64):  # each round widens a window; the screen is the limit
            todo = merge_overlapping(todo)
            segs, grown = [], []
            for win in todo:
                # Old lines cut by the window are read again with it, whole.
                for line in keep:
                    box = line.box or line.region
                    if box.intersects(win) and not win.contains(box):
                        win = win.union(box.expand(*line_margin(box), within=screen))
                seg = segment(gray, frames, win)
                if seg.grow is not None:
                    grown.append(seg.grow)
                else:
                    segs.append(seg)
                    grown.append(win)
            if merge_overlapping(grown) == todo:
                break
            todo = grown
        else:  # pragma: no cover - the loop ends at the screen at the latest
            segs = [segment(gray, frames, screen)]
        self.stats.windows = [s.window for s in segs]
        keep = [ln for ln in keep if not any((ln.box or ln.region).intersects(s.window) for s in segs)]
        return keep + self._ocr(gray, segs)

    def _ocr(self, gray: np.ndarray, segs: list[Segment]) -> list[TextLine]:
        jobs: list[tuple[Region, float, bytes]] = []
        todo: dict[bytes, np.ndarray] = {}
        for seg in segs:
            for line, m in zip(seg.lines, seg.masks, strict=True):
                g = line.slice(gray)
                key = hashlib.blake2b(g.tobytes() + m.tobytes() + str(g.shape).encode(),
                                      digest_size=16).digest()
                jobs.append((line, page_scale(line.h), key))
                if key not in self._cache and key not in todo:
                    todo[key] = make_page(g, m)
        found = dict(zip(todo, self.pool.read(list(todo.values())), strict=True))
        self.stats.pages += len(todo)
        self.stats.cached += len(jobs) - len(todo)
        out = []
        for box, scale, key in jobs:
            words = found[key] if key in found else self._cache[key]
            self._cache[key] = words
            self._cache.move_to_end(key)
            line = _line_from(words, box, scale)
            if line is not None:
                out.append(line)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out

    def close(self) -> None:
        if self._own_pool:
            self.pool.close()
