"""Settling on evidence after a desktop action: wait until what the action caused is on the
screen before the next observation.

The evidence, each bounded by a cap: the programs have stopped announcing changes
(accessibility events); every window opened or retitled since the action shows new
pixels where the program draws (a dialog's title comes before its pixels, and without a
compositor the screen shows what was under it until then); a window the tree announced
is there, one it said was destroyed is gone; and two screenshots in a row are equal.
An action handed to a program through the tree is done in the program's own time: first
its events say it began.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..perception.screen import Window, same_screen

if TYPE_CHECKING:
    import numpy as np


class Screen(Protocol):
    def grab(self) -> np.ndarray: ...

    def windows(self) -> list[Window]: ...


@dataclass(kw_only=True)
class SettleOptions:
    """How the executor waits for the screen after an action (seconds, pixels)."""

    delay: float = 0.05  # before the first screenshot: let the program start reacting
    interval: float = 0.05  # between the screenshots compared
    cap: float = 3.0  # an animation never settles: give up after this long
    tolerance: int = 64  # changed pixels still counted as equal (a blinking caret)
    pause: float = 0.1  # pyautogui.PAUSE: after each call, so a person can reach a corner
    quiet: float = 0.1  # no accessibility event for this long: the programs have done reacting
    react: float = 1.0  # how long a program asked through the tree may take to start
    # After an action handed to a program: GTK shows a button pressed for 250 ms, then clicks it.
    handed_quiet: float = 0.3


@dataclass
class Before:
    """The screen just before an action: what settling compares with."""

    image: np.ndarray
    windows: dict[int, str]  # X window id -> title
    when: float  # time.monotonic()
    events: int = 0  # accessibility events seen until then
    deferred: bool = False  # the action was handed to the program (the tree), not typed or clicked


class Settler:
    """Waits for one screen (a perceiver with grab() and windows(), and its `tree` when it
    reads accessibility trees)."""

    def __init__(self, screen: Screen | Any, options: SettleOptions) -> None:
        self.screen = screen
        self.options = options

    def before(self) -> Before:
        """The screen now, to settle against after an action."""
        tree = getattr(self.screen, "tree", None)
        return Before(image=self.screen.grab(), windows={w.id: w.title for w in self.screen.windows()},
                      when=time.monotonic(), events=tree.events if tree is not None else 0)

    def settle(self, before: Before | None = None) -> bool:
        """Wait, up to the cap, until what the action caused is on the screen: the programs
        have stopped announcing changes (accessibility events), every window opened or
        retitled since `before` is drawn (a dialog's title comes before its pixels), and two
        screenshots in a row are equal. False at the cap."""
        o = self.options
        start = time.monotonic()
        deadline = start + o.cap
        # A program does what the tree asked of it later, in its own time (GTK presses a
        # button ~250 ms after it is asked): first wait for a sign that it began.
        waiting = before is not None and before.deferred
        time.sleep(o.delay)
        prev = self.screen.grab()
        while time.monotonic() < deadline:
            time.sleep(o.interval)
            cur = self.screen.grab()
            still = same_screen(prev, cur, tolerance=o.tolerance)
            prev = cur
            if waiting and before is not None:
                waiting = time.monotonic() - start < o.react and not self._reacted(before)
            quiet = o.quiet if before is None or not before.deferred else o.handed_quiet
            if not waiting and still and self._quiet(quiet) and (before is None or self._drawn(before, cur)):
                return True
        return False

    def _reacted(self, before: Before) -> bool:
        """The program has begun on what it was asked through the tree: it says so in events.
        (Not pixels: GTK draws a button pressed at once and clicks it 250 ms later.)"""
        tree = getattr(self.screen, "tree", None)
        return tree is None or tree.events > before.events

    def _quiet(self, seconds: float) -> bool:
        tree = getattr(self.screen, "tree", None)
        return tree is None or tree.quiet_since() >= seconds

    def _drawn(self, before: Before, now: np.ndarray) -> bool:
        """The X windows show what the action caused: every window that is new or has a new
        title shows new pixels where it is (its title comes before its pixels), a window the
        tree announced is there, and one it said was destroyed is gone."""
        ox, oy = getattr(self.screen, "origin", (0, 0))
        windows = self.screen.windows()
        for w in windows:
            if before.windows.get(w.id) == w.title or w.region.area < 64:
                continue
            box = w.content.offset(-ox, -oy)  # a window manager paints its frame at once
            if same_screen(box.slice(before.image), box.slice(now), tolerance=self.options.tolerance):
                return False  # mapped and titled, not painted yet
        tree = getattr(self.screen, "tree", None)
        titles = {w.title for w in windows}
        for kind, title in tree.windows_announced(before.when) if tree is not None else []:
            if kind == "Create" and title and title not in titles:
                return False  # announced, not mapped yet
            if kind == "Destroy" and title and title in titles and title in before.windows.values():
                return False  # gone from the tree, still on the screen
        return True
