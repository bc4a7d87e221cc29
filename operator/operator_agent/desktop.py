"""The desktop as the agent's Environment: screenshots, OCR and controls in, the
mouse and keyboard out. Also a virtual display (Xvfb) for machines without one.

    session = open_desktop_session()            # $DISPLAY, checked, or ConfigError
    await Agent(planner=..., environment=session).run("fill in the form")
    await session.aclose()

The observation lists every line of text and every likely control with an
index, as the browser does, grouped by window (the focused one first) and with
each element's centre in screen pixels. Its url is `desktop://DISPLAY/title of
the focused window` and its title that window's title; each element's frame is
the desktop URL of the window it is in, and each tab (window) has its box, so
the permission gate judges, and binds secrets to, the window an action clicks
or types into, focused or not.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .executors.desktop import DesktopExecutor, SettleOptions
from .headless import SessionBus, Xvfb, accessibility_missing  # noqa: F401 - Xvfb: where callers found it
from .perception.accessible import mask_covered, tree_items, window_under
from .perception.atspi import Accessibility, AccessibilityUnavailable
from .perception.controls import Control, Item, find_controls, find_template, merge, to_elements
from .perception.ocr import OcrError, ScreenReader, TesseractPool, TextLine, check_tesseract
from .perception.screen import (
    Region,
    ScreenCapture,
    Window,
    WindowList,
    app_windows,
    desktop_url,
    encode_png,
    to_gray,
)
from .perception.serialize import element_line, header_lines
from .protocols import ConfigError
from .tokens import count_tokens
from .types import Action, ActionResult, Element, Observation, Screenshot, Tab

T = TypeVar("T")

XVFB_HINT = ('run it under a virtual display: xvfb-run -s "-screen 0 1280x800x24" '
             'operator run --desktop "TASK" (Debian/Ubuntu: apt-get install xvfb)')


# --- perception ------------------------------------------------------------------------


class DesktopPerceiver:
    """Screenshot -> controls + text lines -> indexed elements and the text the model reads.

    Blocking; one thread (mss and Xlib connections are not shared between threads).
    """

    def __init__(self, display: str, *, monitor: int = 1, region: Region | None = None,
                 icons: Mapping[str, str | Path | np.ndarray] | None = None,
                 reader: ScreenReader | None = None, tree: Accessibility | None = None) -> None:
        self.display = display
        self.tree = tree  # None: the screen is read with OCR alone
        self.session_bus = ""  # the D-Bus session programs started here are given
        self.tree_error = ""
        self.capture = ScreenCapture(display, monitor=monitor, region=region)
        self.window_list = WindowList(display)
        self.reader = reader or ScreenReader(pool=TesseractPool())
        self.reader.pool.warm()
        self.icons = dict(icons or {})
        self.last: Observation | None = None

    def grab(self) -> np.ndarray:
        return self.capture.grab()

    @property
    def origin(self) -> tuple[int, int]:
        """Where the grabbed area's top left is on the screen."""
        return self.capture.origin

    def windows(self) -> list[Window]:
        return self.window_list.windows()

    def activate(self, window: Window) -> None:
        self.window_list.activate(window)

    def window_at(self, x: float, y: float) -> Window | None:
        return self.window_list.window_at(x, y)

    def key_window(self) -> Window | None:
        return self.window_list.key_window()

    def observe(self, *, screenshot: Screenshot = False) -> Observation:
        image = self.capture.grab()
        gray = to_gray(image)
        ox, oy = self.capture.origin
        wins = self.windows()
        # The tree names what programs publish; OCR reads the rest (X toolkits, canvases).
        from_tree, covered, drawn = self._from_tree(wins)
        seen = mask_covered(gray, wins, covered, drawn, (ox, oy))
        controls = find_controls(seen)
        lines = self.reader.read(seen, [f for c in controls for f in c.frames()])
        items = from_tree + merge_by_window(controls, lines, wins, (ox, oy)) + self._icons(gray)
        focused = next((w for w in wins if w.focused), None)
        title = focused.title if focused else ""
        groups = _by_window(items, wins, (ox, oy))
        ordered = [it for _, group in groups for it in group]
        elements = to_elements(ordered, offset=(ox, oy))
        self._mark_windows(elements, groups, focused)
        url = desktop_url(self.display, title)
        # Numbered in a stable order (SwitchTab), listed topmost first with their boxes, so
        # the gate can tell which window a point is in.
        number = {w.id: i for i, w in enumerate(app_windows(wins))}
        tabs = [Tab(index=number[w.id], title=w.title, url=desktop_url(self.display, w.title),
                    active=w.focused, bbox=w.region.bbox()) for w in wins if w.id in number]
        text = _serialize(url, title, tabs, groups, elements, self.capture.area)
        tokens, estimated = count_tokens(text)
        shot = None
        if screenshot:  # secret fields are painted over, whatever they show
            shot = encode_png(image, blackout=[it.region for it in ordered if it.sensitive])
        self.last = Observation(url=url, title=title, tabs=tabs, elements=elements, text=text,
                                tokens=tokens, tokens_estimated=estimated, screenshot=shot)
        return self.last

    def _mark_windows(self, elements: list[Element], groups: Sequence[tuple[Window | None, list[Item]]],
                      focused: Window | None) -> None:
        """Each element's frame is the desktop URL of the window a click on it lands in (a
        popup's: the focused window that opened it; none: the bare desktop), and its
        `window` attribute that window's X id: what the gate and the executor check."""
        n = 0
        for window, group in groups:
            home = focused if window is not None and window.popup else window
            frame = desktop_url(self.display, home.title if home else "")
            for _ in group:
                el = elements[n]
                n += 1
                el.frame = frame
                el.attributes["window"] = str(home.id) if home else "0"

    def _from_tree(self, wins: Sequence[Window]) -> tuple[list[Item], set[int], list[Region]]:
        """The accessibility tree's visible elements (in the capture's pixels), the windows
        they cover and the drawn areas in those; nothing when the tree cannot be read now."""
        if self.tree is None:
            return [], set(), []
        try:
            tops = self.tree.windows()
        except Exception as exc:  # a bus that went away, a program that hangs: OCR reads all
            self.tree_error = f"the accessibility tree could not be read ({exc or type(exc).__name__})"
            return [], set(), []
        self.tree_error = ""
        items, covered, drawn = tree_items(tops, wins, self.capture.area)
        ox, oy = self.capture.origin
        for it in items:
            it.region = it.region.offset(-ox, -oy)
        return items, covered, drawn

    def _icons(self, gray: np.ndarray) -> list[Item]:
        out = []
        for name, template in self.icons.items():
            for region, _score in find_template(gray, template):
                out.append(Item(role="icon", region=region, name=name))
        return out

    def close(self) -> None:
        if self.tree is not None:
            self.tree.close()
        self.reader.close()
        self.reader.pool.close()
        self.capture.close()
        self.window_list.close()


def merge_by_window(controls: Sequence[Control], lines: Sequence[TextLine], windows: Sequence[Window],
                     origin: tuple[int, int]) -> list[Item]:
    """OCR's controls named from the text around them, window by window: a label in one
    window never names a control in another."""
    def home(region: Region) -> int:
        cx, cy = region.center
        w = window_under(windows, cx + origin[0], cy + origin[1])
        return w.id if w is not None else 0

    by_controls: dict[int, list[Control]] = {}
    by_lines: dict[int, list[TextLine]] = {}
    for c in controls:
        by_controls.setdefault(home(c.outer), []).append(c)
    for ln in lines:
        by_lines.setdefault(home(ln.region), []).append(ln)
    out: list[Item] = []
    for wid in sorted(set(by_controls) | set(by_lines)):
        out += merge(by_controls.get(wid, []), by_lines.get(wid, []))
    return out


def _by_window(items: Sequence[Item], windows: Sequence[Window],
               origin: tuple[int, int]) -> list[tuple[Window | None, list[Item]]]:
    """Items grouped by the topmost window under their centre: popups first (an open
    menu is what matters now), then the focused window, then the others by stacking."""
    order = sorted(windows, key=lambda w: (not w.popup, not w.focused))  # stable: keeps stacking
    groups: dict[int, list[Item]] = {}
    for it in items:
        cx, cy = it.region.center
        home = next((i for i, w in enumerate(windows)
                     if w.region.contains_point(cx + origin[0], cy + origin[1])), -1)
        groups.setdefault(home, []).append(it)
    out: list[tuple[Window | None, list[Item]]] = []
    for w in order:
        group = groups.get(windows.index(w))
        if group is not None:
            out.append((w, reading_order(_as_menu(group) if w.popup else group)))
    if -1 in groups:
        out.append((None, reading_order(groups[-1])))
    return out


def _as_menu(items: Sequence[Item]) -> list[Item]:
    """In a popup (a menu, a drop-down list) every line is something to choose; the
    highlighted one looks like a field or a button, but it is an item too."""
    out = []
    for it in items:
        if it.role in ("text", "textbox", "button") and not it.sensitive:
            it = Item(role="menuitem", region=it.region, name=it.name or it.value or "", block=it.block)
        out.append(it)
    return out


def reading_order(items: Sequence[Item]) -> list[Item]:
    """Rows top to bottom, left to right in a row: a table is read row by row, a
    label next to its field. (Blocks are kept as an attribute, not as an order: in
    a window side-by-side blocks are mostly the columns of one table.)"""
    rows: list[list[Item]] = []
    for it in sorted(items, key=lambda i: (i.region.y + i.region.h / 2, i.region.x)):
        if rows:
            lead = rows[-1][0].region
            if (it.region.y + it.region.h / 2) - (lead.y + lead.h / 2) <= 0.5 * min(it.region.h, lead.h):
                rows[-1].append(it)
                continue
        rows.append([it])
    return [it for row in rows for it in sorted(row, key=lambda i: i.region.x)]


def _serialize(url: str, title: str, tabs: Sequence[Tab], groups: Sequence[tuple[Window | None, list[Item]]],
               elements: Sequence[Element], screen: Region) -> str:
    lines = header_lines(url, title, tabs)
    lines.append(f"screen: {screen.w}x{screen.h} pixels; each element ends with its centre @(x,y)")
    n = 0
    for window, group in groups:
        if len(groups) > 1 or window is None:
            if window is None:
                lines.append("-- desktop (no window) --")
            elif window.popup:
                lines.append("-- popup (menu or list) --")
            else:
                lines.append(f'-- window "{window.title}"{" (focused)" if window.focused else ""} --')
        for _ in group:
            el = elements[n]
            n += 1
            cx, cy = el.bbox.center if el.bbox else (0, 0)
            # A line of text is listed whole (element_line cuts names at 100 characters).
            line = f"[{el.index}] text {json.dumps(el.name, ensure_ascii=False)}" if el.role == "text" \
                else element_line(el)
            lines.append(f"{line} @({round(cx)},{round(cy)})")
    if not elements:
        lines.append("(no text or controls found on the screen)")
    return "\n".join(lines)


# --- the Environment -------------------------------------------------------------------------


class DesktopSession:
    """Implements protocols.Environment for an X display.

    All screen, mouse and keyboard work runs on one worker thread (mss, Xlib and
    pyautogui connections belong to the thread that made them); OCR runs in
    Tesseract processes. `close()` (or `async with`) releases them.
    """

    def __init__(self, display: str | None = None, *, monitor: int = 1, region: Region | None = None,
                 icons: Mapping[str, str | Path | np.ndarray] | None = None,
                 settle: SettleOptions | None = None, vault: Any = None,
                 ocr_workers: int | None = None, accessibility: bool = True,
                 session_bus: str | None = None) -> None:
        self.display = display or os.environ.get("DISPLAY", "")
        if not self.display:
            raise ConfigError(f"no X display (DISPLAY is not set): {XVFB_HINT}")
        # The session bus programs started here are given (see the open_app action).
        self.session_bus = session_bus or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
        tree, self.accessibility = None, "off (asked for OCR only)"
        if accessibility:
            try:
                tree = Accessibility.connect(self.display, session_bus=self.session_bus or None)
                self.accessibility = "on"
            except AccessibilityUnavailable as exc:
                self.accessibility = f"off: {exc}; the screen is read with OCR alone"
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desktop")
        reader = ScreenReader(pool=TesseractPool(workers=ocr_workers))
        self.perceiver: DesktopPerceiver = self._thread.submit(
            DesktopPerceiver, self.display, monitor=monitor, region=region, icons=icons,
            reader=reader, tree=tree).result()
        self.perceiver.session_bus = self.session_bus  # programs opened here join it
        self.executor = DesktopExecutor(self.perceiver, settle=settle, vault=vault)
        self.actions = DesktopExecutor.actions  # what the planner may offer the model here
        self.own_bus: SessionBus | None = None  # a session bus started for this session, stopped with it
        self._closed = False

    def use_vault(self, vault: Any) -> None:
        """The vault whose {{secret:NAME}} placeholders are filled in (for the windows each
        secret is bound to); the CLI passes the permission gate's own."""
        self.executor.vault = vault

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, lambda: fn(*args, **kwargs))

    async def observe(self, *, screenshot: Screenshot = False) -> Observation:
        obs = await self._call(self.perceiver.observe, screenshot=screenshot)
        obs.actions = sorted(self.actions)
        return obs

    async def perform(self, action: Action | Any, observation: Observation) -> ActionResult:
        return await self._call(self.executor.perform, action, observation)

    async def settle(self) -> bool:
        return await self._call(self.executor.settle)

    async def where(self) -> str:
        """The focused window's desktop:// URL, as observe() names it, without reading the screen."""
        windows = await self._call(self.perceiver.windows)
        focused = next((w for w in windows if w.focused), None)
        return desktop_url(self.display, focused.title if focused else "")

    @staticmethod
    def marked_screenshot(observation: Observation) -> bytes | None:
        """The observation's screenshot with each element's index drawn on it (set-of-marks)."""
        from .perception.marks import draw_marks

        return draw_marks(observation.screenshot, observation.elements) if observation.screenshot else None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._thread.submit(self.perceiver.close).result()
        self._thread.shutdown(wait=True)
        if self.own_bus is not None:
            self.own_bus.stop()

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    def __enter__(self) -> DesktopSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> DesktopSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def open_desktop_session(display: str | None = None, **options: Any) -> DesktopSession:
    """A DesktopSession on `display` (default $DISPLAY), after checking that everything it
    needs is there; otherwise ConfigError with one line saying what to do."""
    if not sys.platform.startswith("linux"):
        raise ConfigError("desktop mode works on Linux with X11 for now")
    display = display or os.environ.get("DISPLAY", "")
    if not display:
        raise ConfigError(f"no X display to work on (DISPLAY is not set): {XVFB_HINT}")
    needed = ("cv2", "mss", "pyautogui", "Xlib", "pytesseract")
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        raise ConfigError(f"desktop mode needs {', '.join(missing)}: pip install 'operator-agent[desktop]'")
    try:
        from Xlib import display as xdisplay

        xdisplay.Display(display).close()
    except Exception as exc:
        raise ConfigError(f"cannot open the X display {display} ({exc}); is an X server running there? "
                          f"Otherwise {XVFB_HINT}") from exc
    try:
        check_tesseract()
    except OcrError as exc:
        raise ConfigError(str(exc)) from exc
    bus = None
    if "session_bus" not in options and not os.environ.get("DBUS_SESSION_BUS_ADDRESS") \
            and not accessibility_missing():
        # No session here (a bare Xvfb): a bus of our own, so the programs the agent opens
        # publish their accessibility trees on it.
        bus = SessionBus(display)
        options["session_bus"] = bus.start()
    try:
        session = DesktopSession(display, **options)
    except BaseException:
        if bus is not None:
            bus.stop()
        raise
    session.own_bus = bus
    return session

