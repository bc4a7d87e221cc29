"""OCR on text rendered with Pillow at several sizes and fonts: the words are read,
their boxes are where the ink is, and a small change is read again on its own."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from operator_agent.perception.ocr import ScreenReader, TesseractPool, TextLine
from operator_agent.perception.screen import Region, changed_regions
from operator_agent.perception.segment import segment

FONTS = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
         Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
         Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")]
SIZES = [11, 13, 16, 20, 28]
WORDS = [
    "invoice", "meeting", "quarterly", "budget", "Lisbon", "account", "settings", "review",
    "report", "customer", "forecast", "supplier", "schedule", "weekly", "summary", "display",
    "language", "number", "total", "balance", "transfer", "payment", "October", "Thursday",
    "window", "printer",
]


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default(size=size)


def render(*, dark: bool = False, seed: int = 7) -> tuple[np.ndarray, list[tuple[str, Region]]]:
    """Rows of words at several sizes; the truth is each word and its ink box."""
    rng = random.Random(seed)
    bg, fg = (30, 235) if dark else (240, 20)
    image = Image.new("L", (1200, 760), bg)
    draw = ImageDraw.Draw(image)
    placed: list[tuple[str, tuple[int, int, int, int]]] = []
    y = 12
    for size in SIZES:
        for path in FONTS:
            font = _font(path, size)
            x = 14
            for word in rng.sample(WORDS, 4):
                box = draw.textbbox((x, y), word, font=font)
                draw.text((x, y), word, font=font, fill=fg)
                placed.append((word, box))
                x = box[2] + 3 * size  # far enough apart to be separate lines
            y += int(size * 1.25) + 10
    pixels = np.array(image)
    truth = []
    for word, (x0, y0, x1, y1) in placed:
        ys, xs = np.nonzero(np.abs(pixels[y0:y1, x0:x1].astype(int) - bg) > 60)
        truth.append((word, Region(x0 + int(xs.min()), y0 + int(ys.min()),
                                   int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1)))
    return pixels, truth


@pytest.fixture(scope="module")
def pool(tesseract: str) -> Iterator[TesseractPool]:
    pool = TesseractPool()
    yield pool
    pool.close()


def _match(truth: list[tuple[str, Region]], lines: list[TextLine], tolerance: int = 3) -> list[str]:
    """The true words not read, or read with a box more than `tolerance` pixels off."""
    words = [w for line in lines for w in line.words]
    missed = []
    for text, box in truth:
        hit = [w for w in words if w.text.strip(".,;:") == text]
        near = [w for w in hit if max(abs(w.region.x - box.x), abs(w.region.y - box.y),
                                      abs(w.region.right - box.right),
                                      abs(w.region.bottom - box.bottom)) <= tolerance]
        if not near:
            missed.append(f"{text} at {box} (read: {[w.region for w in hit] or 'not at all'})")
    return missed


@pytest.mark.parametrize("dark", [False, True], ids=["dark-on-light", "light-on-dark"])
def test_words_and_boxes_are_read(pool: TesseractPool, dark: bool) -> None:
    pixels, truth = render(dark=dark)
    lines = ScreenReader(pool=pool).read(pixels)
    missed = _match(truth, lines)
    assert len(missed) <= len(truth) // 25, missed  # recall of at least 96 %, boxes within 3 px
    # One line per group of words; each line's box holds its words.
    for line in lines:
        assert all(line.region.contains(w.region) for w in line.words)


def test_lines_and_blocks() -> None:
    image = Image.new("L", (700, 260), 255)
    draw = ImageDraw.Draw(image)
    font = _font(FONTS[0], 15)
    draw.text((20, 20), "First line of a paragraph", font=font, fill=0)
    draw.text((20, 40), "second line of it", font=font, fill=0)
    draw.text((420, 20), "Sidebar", font=font, fill=0)
    draw.text((20, 180), "Footer far below", font=font, fill=0)
    seg = segment(np.array(image), [])
    assert len(seg.lines) == 4, seg.lines
    assert seg.grow is None


def test_only_the_changed_region_is_read_again(pool: TesseractPool) -> None:
    pixels, _ = render()
    reader = ScreenReader(pool=pool)
    before = reader.read(pixels)
    assert reader.stats.full

    # Change one word: paint it over and write another in its place.
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    target = next(line for line in before if line.region.h >= 12)
    r = target.region
    draw.rectangle((r.x, r.y, r.right, r.bottom), fill=240)
    draw.text((r.x, r.y - 2), "changed", font=_font(FONTS[0], 16), fill=20)
    after_pixels = np.array(image)
    changed = changed_regions(pixels, after_pixels)
    assert changed and all(c.area < 0.01 * after_pixels.size for c in changed)

    after = reader.read(after_pixels)
    stats = reader.stats
    assert not stats.full
    read_area = sum(w.area for w in stats.windows)
    assert read_area < 0.05 * after_pixels.size, stats.windows  # only around the change
    assert stats.pages <= 2, stats
    assert any(line.text == "changed" for line in after)

    fresh = ScreenReader(pool=pool).read(after_pixels)
    assert after == fresh  # the same elements as a full read of the new screen

    # Nothing changed: nothing is read.
    again = reader.read(after_pixels)
    assert again == after and reader.stats.pages == 0 and reader.stats.windows == []


def test_a_change_next_to_text_grows_to_the_whole_line(pool: TesseractPool) -> None:
    image = Image.new("L", (800, 120), 250)
    draw = ImageDraw.Draw(image)
    font = _font(FONTS[0], 16)
    draw.text((20, 30), "Total due", font=font, fill=10)
    before = np.array(image)
    draw.text((draw.textbbox((20, 30), "Total due", font=font)[2] + 6, 30), "today", font=font, fill=10)
    after = np.array(image)

    reader = ScreenReader(pool=pool)
    reader.read(before)
    lines = reader.read(after)
    assert [line.text for line in lines] == ["Total due today"]
    assert lines == ScreenReader(pool=pool).read(after)


KEYPAD = [["A", "B", "C", "÷"], ["7", "8", "9", "*"], ["4", "5", "6", "-"], ["1", "2", "3", "+"],
          ["0", ".", "=", "x"]]


@pytest.mark.parametrize("size", [11, 13, 16, 20])
def test_a_keypad_of_lone_glyphs(pool: TesseractPool, size: int) -> None:
    """Framed keys 3 pixels apart, each labelled with one glyph: every key is a button of
    its own named by it, dots and bars included, and "C" beside "A" and "B" is a capital."""
    from operator_agent.perception.controls import find_controls, merge

    if not FONTS[0].exists():
        pytest.skip(f"{FONTS[0]} is not installed (fonts-dejavu-core)")
    font = ImageFont.truetype(str(FONTS[0]), size)
    w, h = 2 * size + 20, size + 16
    image = Image.new("L", (4 * (w + 3) + 20, 5 * (h + 3) + 20), 230)
    draw = ImageDraw.Draw(image)
    centres = {}
    for r, row in enumerate(KEYPAD):
        for c, key in enumerate(row):
            x, y = 10 + c * (w + 3), 10 + r * (h + 3)
            draw.rectangle((x, y, x + w - 1, y + h - 1), fill=250, outline=80)
            draw.text((x + w / 2, y + h / 2), key, font=font, fill=0, anchor="mm")
            centres[key] = (x + w / 2, y + h / 2)
    gray = np.array(image)
    controls = find_controls(gray)
    items = merge(controls, ScreenReader(pool=pool).read(gray, [f for c in controls for f in c.frames()]))
    read = {key: [(it.role, it.name) for it in items if it.region.contains_point(*centre)]
            for key, centre in centres.items()}
    assert {k: v for k, v in read.items() if v != [("button", k)]} == {}, read
