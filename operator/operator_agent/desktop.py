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
import contextlib
import importlib.util
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .executors.desktop import DesktopExecutor, SettleOptions
from .perception.controls import Item, find_controls, find_template, merge, to_elements
from .perception.ocr import OcrError, ScreenReader, TesseractPool, check_tesseract
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
                 reader: ScreenReader | None = None) -> None:
        self.display = display
        self.capture = ScreenCapture(display, monitor=monitor, region=region)
        self.window_list = WindowList(display)
        self.reader = reader or ScreenReader(pool=TesseractPool())
        self.reader.pool.warm()
        self.icons = dict(icons or {})
        self.last: Observation | None = None

    def grab(self) -> np.ndarray:
        return self.capture.grab()

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
        controls = find_controls(gray)
        lines = self.reader.read(gray, [f for c in controls for f in c.frames()])
        items = merge(controls, lines) + self._icons(gray)
        ox, oy = self.capture.origin
        wins = self.windows()
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

    def _icons(self, gray: np.ndarray) -> list[Item]:
        out = []
        for name, template in self.icons.items():
            for region, _score in find_template(gray, template):
                out.append(Item(role="icon", region=region, name=name))
        return out

    def close(self) -> None:
        self.reader.close()
        self.reader.pool.close()
        self.capture.close()
        self.window_list.close()


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
                 ocr_workers: int | None = None) -> None:
        self.display = display or os.environ.get("DISPLAY", "")
        if not self.display:
            raise ConfigError(f"no X display (DISPLAY is not set): {XVFB_HINT}")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desktop")
        reader = ScreenReader(pool=TesseractPool(workers=ocr_workers))
        self.perceiver: DesktopPerceiver = self._thread.submit(
            DesktopPerceiver, self.display, monitor=monitor, region=region, icons=icons,
            reader=reader).result()
        self.executor = DesktopExecutor(self.perceiver, settle=settle, vault=vault)
        self.actions = DesktopExecutor.actions  # what the planner may offer the model here
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
    return DesktopSession(display, **options)


# --- a virtual display ------------------------------------------------------------------------


class Xvfb:
    """A private virtual X display: `with Xvfb(1920, 1080) as display: ...`.

    Xvfb picks a free display number itself and reports it on a pipe once it
    accepts connections (-displayfd), so there is no guessing and no sleeping.
    """

    def __init__(self, width: int = 1280, height: int = 800, depth: int = 24, *,
                 timeout: float = 15.0) -> None:
        self.size = (width, height, depth)
        self.timeout = timeout
        self.display = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self) -> str:
        binary = shutil.which("Xvfb")
        if binary is None:
            raise ConfigError("Xvfb is not installed: apt-get install xvfb")
        w, h, d = self.size
        read_fd, write_fd = os.pipe()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - Xvfb writes to it as long as it runs
        try:
            self.proc = subprocess.Popen(
                [binary, "-displayfd", str(write_fd), "-screen", "0", f"{w}x{h}x{d}",
                 "-nolisten", "tcp", "-noreset"],
                pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        finally:
            os.close(write_fd)
        try:
            self.display = ":" + self._read_number(read_fd)
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(read_fd)
        return self.display

    def _read_number(self, fd: int) -> str:
        deadline = time.monotonic() + self.timeout
        got = b""
        while not got.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConfigError(f"Xvfb did not start within {self.timeout:g}s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 64)
            if not chunk:  # Xvfb exited before reporting a display
                raise ConfigError(f"Xvfb failed to start: {self._tail()}")
            got += chunk
        return got.decode().strip()

    def _tail(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no message"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
