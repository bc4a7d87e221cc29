"""OCR perception of a program with no accessibility tree: xcalc (X Athena widgets).

xcalc's keypad is 55 small framed buttons, 2 pixels apart, most labelled with one
glyph ("7", "+", "=", "."). Each must be an element of its own, named by its label,
not a row of them merged into one box, and single glyphs must be read. The program
runs on a private Xvfb, started as a person would (plain `xcalc`, default look).

Tesseract alone misreads some of them in this 6x13 bitmap font: "1/x" as "17x",
"x²" as "x?", "y^x" as "yox", "√" as "4" (its overline drawn apart), "π" as "wT", "("
and ")" as "¢" and ">". These are known from the shape of their strokes instead, or
read in parts split at such a glyph (see glyphs.drawn_glyph and glyph_parts).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import pytest
from desktop_helpers import SCREEN, poll, require

# xcalc's keypad (its TI-30 mode, the default), row by row.
KEYPAD = [
    ["1/x", "x²", "√", "CE/C", "AC"],
    ["INV", "sin", "cos", "tan", "DRG"],
    ["e", "EE", "log", "ln", "y^x"],
    ["not", "and", "or", "xor", "trunc"],
    ["π", "x!", "(", ")", "base"],
    ["shl", "D", "E", "F", "shr"],
    ["mod", "A", "B", "C", "÷"],
    ["STO", "7", "8", "9", "*"],
    ["RCL", "4", "5", "6", "-"],
    ["SUM", "1", "2", "3", "+"],
    ["EXC", "0", ".", "+/-", "="],
]
LABELS = {label for row in KEYPAD for label in row}
# Must be right every time: the digits and the operators.
REQUIRED = [*"0123456789", "+", "-", "*", "÷", "=", ".", "+/-"]
# Known from their shape or read in parts: Tesseract alone gets each of them wrong.
BY_SHAPE = ["1/x", "x²", "√", "y^x", "π", "(", ")"]
AT_LEAST = 55  # of the 55 buttons named exactly (48 before BY_SHAPE were read)


@dataclass
class Calculator:
    display: str
    window: Any  # the xcalc window (operator_agent.perception.screen.Window)
    image: np.ndarray  # the screen as observed (BGR)
    observation: Any
    seconds: float


def _drawn(display: str, region: Any) -> np.ndarray:
    """The screen once xcalc has drawn: two equal screenshots in a row, its window with
    both ink and paper in it."""
    from operator_agent.perception.screen import ScreenCapture, same_screen

    capture = ScreenCapture(display)
    try:
        shots = [capture.grab()]

        def still() -> bool:
            shots.append(capture.grab())
            gray = region.slice(cv2.cvtColor(shots[-1], cv2.COLOR_BGR2GRAY))
            return same_screen(shots[-2], shots[-1]) and gray.min() < 64 and gray.max() > 192

        poll(still, what="xcalc to be drawn")
        return shots[-1]
    finally:
        capture.close()


@pytest.fixture(scope="module")
def calculator(tesseract: str) -> Iterator[Calculator]:
    xcalc = require("xcalc", "x11-apps")
    require("Xvfb", "xvfb")
    from operator_agent.desktop import DesktopPerceiver, Xvfb
    from operator_agent.perception.screen import WindowList

    with Xvfb(*SCREEN) as display:
        proc = subprocess.Popen([xcalc], env={**os.environ, "DISPLAY": display},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        windows = WindowList(display)
        perceiver = None
        try:
            def calculator_window() -> Any:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise AssertionError(f"xcalc exited: {err}")
                return next((w for w in windows.windows() if w.title == "Calculator"), None)

            window = poll(calculator_window, what="the xcalc window")
            image = _drawn(display, window.region)
            perceiver = DesktopPerceiver(display)
            start = time.perf_counter()
            observation = perceiver.observe()
            seconds = time.perf_counter() - start
            assert np.array_equal(perceiver.grab(), image), "xcalc changed while it was observed"
            yield Calculator(display, window, image, observation, seconds)
        finally:
            if perceiver is not None:
                perceiver.close()
            windows.close()
            proc.terminate()
            proc.wait(timeout=10)


def _button_boxes(image: np.ndarray, window: Any) -> list[list[tuple[int, int, int, int]]]:
    """The keypad's buttons found from the pixels alone (not by the code under test): the
    paper inside each black frame, as (x, y, w, h) on the screen, in KEYPAD's rows."""
    gray = window.region.slice(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    paper = (gray > 128).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    boxes = sorted((int(x) + window.region.x, int(y) + window.region.y, int(w), int(h))
                   for x, y, w, h, area in stats[1:n]
                   if 20 <= w <= 120 and 12 <= h <= 60 and area >= 0.6 * w * h)
    rows: list[list[tuple[int, int, int, int]]] = []
    for box in sorted(boxes, key=lambda b: (b[1], b[0])):
        if rows and abs(rows[-1][0][1] - box[1]) <= 2:
            rows[-1].append(box)
        else:
            rows.append([box])
    rows = [sorted(row) for row in rows if len(row) == len(KEYPAD[0])]
    assert len(rows) == len(KEYPAD), f"xcalc's keypad is not the expected 11x5 buttons: {rows}"
    return rows


def _centre(element: Any) -> tuple[float, float]:
    b = element.bbox
    return b.x + b.width / 2, b.y + b.height / 2


def _inside(point: tuple[float, float], box: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    return x <= point[0] < x + w and y <= point[1] < y + h


def _read_keypad(calc: Calculator) -> dict[str, list[Any]]:
    """Each label: the elements whose centre is inside its button."""
    rows = _button_boxes(calc.image, calc.window)
    out = {}
    for labels, boxes in zip(KEYPAD, rows, strict=True):
        for label, box in zip(labels, boxes, strict=True):
            out[label] = [e for e in calc.observation.elements if e.bbox and _inside(_centre(e), box)]
    return out


def test_every_digit_and_operator_is_its_own_button(calculator: Calculator) -> None:
    keys = _read_keypad(calculator)
    wrong = {label: [(e.role, e.name) for e in keys[label]] for label in REQUIRED
             if [(e.role, e.name) for e in keys[label]] != [("button", label)]}
    assert not wrong, f"buttons not read as themselves: {wrong}\n{calculator.observation.text}"
    # One element per label, each in its own button: the boxes are distinct by construction.
    named = {label: [e for e in calculator.observation.elements if e.role == "button" and e.name == label]
             for label in REQUIRED}
    assert all(len(v) == 1 for v in named.values()), {k: len(v) for k, v in named.items()}

    # The keypad's layout comes out as drawn: 7 8 9 on a row, 4 5 6 below it, and so on.
    def centre(label: str) -> tuple[float, float]:
        return _centre(named[label][0])

    for row in ("789", "456", "123"):
        xs, ys = zip(*(centre(d) for d in row), strict=True)
        assert list(xs) == sorted(xs) and max(ys) - min(ys) < 2, row
    assert centre("7")[1] < centre("4")[1] < centre("1")[1] < centre("0")[1]


def test_symbols_are_read_from_their_shape(calculator: Calculator) -> None:
    """Brackets, root, pi, a fraction, a superscript and a caret: each button one element,
    named exactly (the root's overline, drawn apart from it, is part of it)."""
    keys = _read_keypad(calculator)
    wrong = {label: [(e.role, e.name) for e in keys[label]] for label in BY_SHAPE
             if [(e.role, e.name) for e in keys[label]] != [("button", label)]}
    assert not wrong, f"buttons not read as themselves: {wrong}\n{calculator.observation.text}"


def test_no_element_merges_two_buttons(calculator: Calculator) -> None:
    keys = _read_keypad(calculator)
    crowded = {label: [e.name for e in found] for label, found in keys.items() if len(found) > 1}
    assert not crowded, f"more than one element in a button: {crowded}"
    for e in calculator.observation.elements:
        tokens = [t for t in e.name.split() if t in LABELS]
        assert len(tokens) <= 1, f"{e.name!r} merges the labels of {tokens}"
        box = e.bbox
        assert box is not None and box.width < 60, f"{e.role} {e.name!r} is wider than one button: {box}"


def test_how_many_buttons_are_right(calculator: Calculator) -> None:
    """The figure to watch: buttons that are one element named exactly by their label."""
    keys = _read_keypad(calculator)
    right = [label for label, found in keys.items()
             if [(e.role, e.name) for e in found] == [("button", label)]]
    wrong = {label: [(e.role, e.name) for e in found] for label, found in keys.items() if label not in right}
    print(f"xcalc: {len(right)}/{len(keys)} buttons right in {calculator.seconds:.2f}s; wrong: {wrong}")
    assert len(right) >= AT_LEAST, wrong
