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
5. A glyph alone on its line (a keypad's "7", "C", "=") has no baseline or
   x-height for Tesseract to go by: dots, bars, brackets, "π" and "√" (with its
   overline) are known from the shape of their strokes and not read, other
   lone glyphs are read at two sizes (the surer reading wins), and a case twin
   ("c"/"C", "g"/"9") is settled by its height beside the text of its row. A
   short line with a slash, a raised caret or a raised last digit in it ("1/x",
   "y^x", "x²") is also read in parts split there, as small bitmap fonts make
   Tesseract misread those glyphs among others. Text with no letter or digit is kept only when it is all
   a control holds (a "+" key); elsewhere it is mostly an icon read as noise.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import re
import subprocess
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .glyphs import SUPERSCRIPTS, drawn_glyph, glyph_ink, glyph_parts, ink_columns
from .screen import Region, changed_regions, merge_overlapping
from .segment import (
    JOIN_X,
    JOIN_Y,
    PAD,
    Segment,
    line_margin,
    make_page,
    page_scale,
    segment,
)

# --- reading parameters ----------------------------------------------------------------
MIN_CONF = 35.0  # a line whose words average less is noise (icons, pictures)
ALT_SCALE = 1.5  # a lone glyph is also read this much larger, and the surer reading kept


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
    lone: bool = False  # one glyph alone (its case is told from the text beside it)


class OcrError(RuntimeError):
    """Tesseract is missing or failed; the message says how to fix it."""


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


_Words = tuple[str, tuple[int, int, int, int], float]  # a page's word: text, (left, top, width, height), conf


def _rescaled(words: list[_Words], factor: float) -> list[_Words]:
    """Words of a page read at another scale, in this page's coordinates."""
    return [(t, (PAD + round((x - PAD) * factor), PAD + round((y - PAD) * factor), round(w * factor),
                 round(h * factor)), c) for t, (x, y, w, h), c in words]


def _likelier(a: list[_Words], b: list[_Words]) -> list[_Words]:
    return b if _conf(b) > _conf(a) else a


def _conf(words: list[_Words]) -> float:
    return sum(c for *_, c in words) / len(words) if words else -1.0


def _read_apart(whole: list[_Words], plan: Sequence[tuple[str, bytes | None]],
                found: dict[bytes, list[_Words]], page_box: tuple[int, int, int, int]) -> list[_Words]:
    """A line read in parts (see segment.glyph_parts), unless its whole reading already has
    the glyphs known from their shape: each part must read surely, a raised one as a
    digit (a superscript), else the whole reading stands."""
    known = [kind for kind, sub in plan if sub is None]
    text, confs = "", []
    for kind, sub in plan:
        if sub is None:
            text += kind
            continue
        words = found[sub]
        read, conf = "".join(t for t, _, _ in words), _conf(words)
        # Parts are letters and digits: anything else read there is a guess.
        if conf < MIN_CONF or not read.isalnum() or (kind == "sup" and read not in SUPERSCRIPTS):
            return whole
        if kind == "sup":
            read = SUPERSCRIPTS[read]
        elif text and text[-1] not in "/^":
            text += " "  # two words apart
        text += read
        confs.append(conf)
    whole_text = "".join(t for t, _, _ in whole)
    if all(k in whole_text for k in known) and not any(k == "sup" for k, _ in plan):
        return whole
    return [(text, page_box, sum(confs) / len(confs))] if confs else whole


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
               scale: float, lone: bool = False) -> TextLine | None:
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
    if conf < MIN_CONF:
        return None
    region = kept[0].region
    for w in kept[1:]:
        region = region.union(w.region)
    return TextLine(text=text, region=region, conf=round(conf, 1), words=tuple(kept), box=box, lone=lone)


def _drop_symbols(lines: Sequence[TextLine],
                  frames: Iterable[tuple[Region, Region | None]]) -> list[TextLine]:
    """Text with no letter or digit is mostly an icon or a picture read as "~" or "°", so
    it is dropped, unless it is all a control's box holds: a keypad's "+", "=" or ".",
    a button's "<<"."""
    holes = [h for _, h in frames if h is not None]
    where = [next((i for i, h in enumerate(holes) if h.contains_point(*ln.region.center)), -1)
             for ln in lines]
    count = Counter(where)
    return [ln for ln, i in zip(lines, where, strict=True)
            if any(ch.isalnum() for ch in ln.text) or (i >= 0 and count[i] == 1)]


# Glyphs that differ only in size or in where they sit on the line: alone, OCR cannot tell
# them apart. Each maps to (the tall one, on the baseline; the short or descending one).
_TWINS = {**{c: (c.upper(), c) for c in "cosuvwxz"}, **{c.upper(): (c.upper(), c) for c in "cosuvwxz"},
          "9": ("9", "g"), "g": ("9", "g")}
_CAPS = re.compile(r"[A-Z0-9]")
_DESCENDERS = re.compile(r"[gjpqy,;()\[\]{}|_]")


def _settle_twins(lines: Sequence[TextLine]) -> list[TextLine]:
    """A lone glyph read as "c", "Cc" or "g" is told from its twin ("C", "9") by its
    height beside the text of its row: as tall as the capitals and digits there, and on
    their baseline, it is the capital (or the digit); lower, the small letter."""
    out = list(lines)
    for i, ln in enumerate(lines):
        text = ln.text
        b = ln.box
        pair = _TWINS.get(text[0]) if ln.lone and b is not None and 1 <= len(text) <= 2 else None
        if pair is None or b is None or (len(text) == 2 and text[1] not in pair):
            continue
        mates = [o for o in lines if o is not ln and o.box is not None and _CAPS.search(o.text)
                 and not (o.lone and o.text[0] in _TWINS)
                 and abs((o.box.y + o.box.h / 2) - (b.y + b.h / 2)) <= max(o.box.h, b.h) / 2
                 and 0.5 * o.box.h <= b.h <= 2 * o.box.h]
        tops = sorted(o.box.y for o in mates if o.box is not None)
        bottoms = sorted(o.box.bottom for o in mates if o.box is not None and not _DESCENDERS.search(o.text))
        pick = pair[0] if len(text) == 2 else text  # read both ways, alone: a lone key is mostly a capital
        if tops and bottoms:
            top, bottom = tops[len(tops) // 2], bottoms[len(bottoms) // 2]
            tol = max(1.0, 0.12 * (bottom - top))
            on_base = abs(b.bottom - bottom) <= tol
            if abs(b.y - top) <= tol and on_base:
                pick = pair[0]
            elif (b.y - top > tol and on_base) or (pair[0] == "9" and b.bottom - bottom > tol):
                pick = pair[1]
        if pick != text:
            out[i] = dataclasses.replace(ln, text=pick, words=(Word(pick, ln.region, ln.conf),))
    return out


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
        return group_blocks(_drop_symbols(_settle_twins(lines), frames_set))

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
        jobs: list[tuple[Region, float, bytes, bool]] = []
        todo: dict[bytes, np.ndarray] = {}
        plain: dict[bytes, list[_Words]] = {}
        apart: dict[bytes, tuple[list[tuple[str, bytes | None]], tuple[int, int, int, int]]] = {}
        for seg in segs:
            for line, m in zip(seg.lines, seg.masks, strict=True):
                g = line.slice(gray)
                key = hashlib.blake2b(g.tobytes() + m.tobytes() + str(g.shape).encode(),
                                      digest_size=16).digest()
                scale = page_scale(line.h)
                # One glyph is not much wider than high, unless it is a dash.
                ink = glyph_ink(g, m) if line.w <= 2 * line.h or line.area <= 256 else None
                cols = ink_columns(ink) if ink is not None else 0
                lone = cols == 1
                jobs.append((line, scale, key, lone))
                if key in self._cache or key in todo or key in plain:
                    continue
                page_box = (PAD, PAD, round(line.w * scale), round(line.h * scale))
                shape = drawn_glyph(ink) if ink is not None and cols <= 2 else None
                if shape is not None:  # dots, bars, brackets...: known from their shape, not read
                    plain[key] = [(shape, page_box, 90.0)]
                    continue
                todo[key] = make_page(g, m)
                if lone:  # also larger: a lone glyph's reading swings with its size
                    todo[key + b"+"] = make_page(g, m, ALT_SCALE * scale)
                parts = glyph_parts(ink) if ink is not None and cols >= 2 else None
                if parts is not None:  # also in parts, split at the glyphs known from their shape
                    plan: list[tuple[str, bytes | None]] = []
                    for n, (a, b, kind) in enumerate(parts):
                        if kind in ("", "sup"):
                            sub = key + b"/" + bytes([n])
                            lo, hi = max(0, a - 1), min(g.shape[1], b + 1)
                            todo[sub] = make_page(g[:, lo:hi], m[:, lo:hi], scale)
                            plan.append((kind, sub))
                        else:
                            plan.append((kind, None))
                    apart[key] = (plan, page_box)
        found = dict(zip(todo, self.pool.read(list(todo.values())), strict=True))
        for key in [k for k in found if k + b"+" in found]:
            found[key] = _likelier(found[key], _rescaled(found.pop(key + b"+"), 1 / ALT_SCALE))
        for key, (plan, page_box) in apart.items():
            words = _read_apart(found[key], plan, found, page_box)
            for _, sub in plan:
                if sub is not None:
                    found.pop(sub)
            found[key] = words
        found |= plain
        self.stats.pages += len(todo)
        self.stats.cached += len(jobs) - len(found)
        out = []
        for box, scale, key, lone in jobs:
            words = found[key] if key in found else self._cache[key]
            self._cache[key] = words
            self._cache.move_to_end(key)
            line = _line_from(words, box, scale, lone)
            if line is not None:
                out.append(line)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return out

    def close(self) -> None:
        if self._own_pool:
            self.pool.close()
