"""The desktop as pixels and windows: mss screenshots, what changed since the last
one, and the X11 window list (titles, stacking order, focus).

Images are numpy arrays: BGR uint8 (H, W, 3) as OpenCV expects, and grayscale
(H, W) for everything that reads text, since text is read from gray anyway.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import cv2
import numpy as np

from ..types import BBox


@dataclass(frozen=True, order=True)
class Region:
    """An axis-aligned box in screen pixels (integers; right/bottom exclusive)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def area(self) -> int:
        return self.w * self.h

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y + self.h // 2

    def intersects(self, other: Region) -> bool:
        return (self.x < other.right and other.x < self.right
                and self.y < other.bottom and other.y < self.bottom)

    def contains(self, other: Region) -> bool:
        return (self.x <= other.x and self.y <= other.y
                and other.right <= self.right and other.bottom <= self.bottom)

    def contains_point(self, px: float, py: float) -> bool:
        return self.x <= px < self.right and self.y <= py < self.bottom

    def union(self, other: Region) -> Region:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Region(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)

    def expand(self, dx: int, dy: int | None = None, *, within: Region | None = None) -> Region:
        dy = dx if dy is None else dy
        r = Region(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy)
        return r.clip(within) if within is not None else r

    def clip(self, bounds: Region) -> Region:
        x, y = max(self.x, bounds.x), max(self.y, bounds.y)
        return Region(x, y, max(0, min(self.right, bounds.right) - x),
                      max(0, min(self.bottom, bounds.bottom) - y))

    def offset(self, dx: int, dy: int) -> Region:
        return Region(self.x + dx, self.y + dy, self.w, self.h)

    def bbox(self) -> BBox:
        return BBox(x=self.x, y=self.y, width=self.w, height=self.h)

    def slice(self, image: np.ndarray) -> np.ndarray:
        """The pixels of this box (clipped at the image's top-left: no wrap-around)."""
        return image[max(0, self.y):max(0, self.bottom), max(0, self.x):max(0, self.right)]


def merge_overlapping(regions: Iterable[Region], gap: int = 0) -> list[Region]:
    """Union regions that overlap (or come within `gap` pixels) until none do."""
    out = list(regions)
    changed = True
    while changed:
        changed = False
        merged: list[Region] = []
        for r in out:
            for i, m in enumerate(merged):
                if r.expand(gap).intersects(m):
                    merged[i] = m.union(r)
                    changed = True
                    break
            else:
                merged.append(r)
        out = merged
    return sorted(out)


# --- screenshots -------------------------------------------------------------------


class ScreenCapture:
    """Screenshots of one monitor (mss numbering: 1 is the first) or a region of it.

    Coordinates of what is found in a shot are screen coordinates: `origin` is
    added back, so they are what the mouse is moved to. mss objects are not
    thread-safe: use one ScreenCapture from one thread.
    """

    def __init__(self, display: str | None = None, *, monitor: int = 1,
                 region: Region | None = None) -> None:
        import mss

        factory: Any = getattr(mss, "MSS", None) or mss.mss  # MSS since mss 10, mss() before
        self.display = display
        self._sct = factory(display=display) if display else factory()
        monitors = self._sct.monitors
        if not 0 <= monitor < len(monitors):
            raise ValueError(f"no monitor {monitor}: this display has {len(monitors) - 1}")
        mon = monitors[monitor]
        self.screen = Region(mon["left"], mon["top"], mon["width"], mon["height"])
        self.area = region.clip(self.screen) if region is not None else self.screen

    @property
    def origin(self) -> tuple[int, int]:
        return self.area.x, self.area.y

    def grab(self) -> np.ndarray:
        """The area as a BGR image (a fresh array the caller may keep)."""
        a = self.area
        shot = self._sct.grab({"left": a.x, "top": a.y, "width": a.w, "height": a.h})
        return np.asarray(shot)[:, :, :3].copy()  # BGRA -> BGR; copy drops mss's buffer

    def close(self) -> None:
        self._sct.close()


def to_gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def encode_png(image: np.ndarray, *, blackout: Sequence[Region] = ()) -> bytes:
    """PNG bytes of a BGR (or gray) image; `blackout` boxes are painted black (secrets)."""
    if blackout:
        image = image.copy()
        for r in blackout:
            r.slice(image)[...] = 0
    ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])  # fast beats small here
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


def changed_regions(prev: np.ndarray, cur: np.ndarray, *, join: int = 8, pad: int = 1) -> list[Region]:
    """Boxes around the pixels that differ between two same-sized images.

    Changes closer than `join` pixels are one region (a typed word is one box,
    not one per letter); each box is padded by `pad` and kept on the screen.
    """
    if prev.shape != cur.shape:
        h, w = cur.shape[:2]
        return [Region(0, 0, w, h)]
    diff = cv2.absdiff(prev, cur)
    if diff.ndim == 3:
        diff = diff.max(axis=2)
    ys, xs = np.nonzero(diff)
    if len(xs) == 0:
        return []
    # Only the bounding box of the changes is dilated and labelled: cheap for small changes.
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    sub = (diff[y0:y1, x0:x1] > 0).astype(np.uint8)
    grown = cv2.dilate(sub, np.ones((join, join), np.uint8)) if join > 1 else sub
    n, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    screen = Region(0, 0, cur.shape[1], cur.shape[0])
    out = []
    for i in range(1, n):
        sx, sy, sw, sh = (int(v) for v in stats[i, :4])
        # The box of the changed pixels themselves, not of their dilation.
        py, px = np.nonzero((labels[sy:sy + sh, sx:sx + sw] == i) & (sub[sy:sy + sh, sx:sx + sw] > 0))
        box = Region(x0 + sx + int(px.min()), y0 + sy + int(py.min()),
                     int(px.max() - px.min()) + 1, int(py.max() - py.min()) + 1)
        out.append(box.expand(pad, within=screen))
    return merge_overlapping(out)


def same_screen(a: np.ndarray, b: np.ndarray, *, tolerance: int = 0) -> bool:
    """Equal screenshots, allowing up to `tolerance` changed pixels (a blinking caret)."""
    if a.shape != b.shape:
        return False
    if tolerance <= 0:
        return bool(np.array_equal(a, b))
    diff = cv2.absdiff(a, b)
    if diff.ndim == 3:
        diff = diff.max(axis=2)
    return int(cv2.countNonZero(diff)) <= tolerance


# --- windows (X11) -----------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A top-level window as the X server sees it (no window manager needed)."""

    id: int
    title: str
    region: Region
    popup: bool = False  # override-redirect: menus, drop-down lists, tooltips
    focused: bool = False
    inner: Region | None = None  # the program's own area, inside a window manager's frame

    @property
    def content(self) -> Region:
        return self.inner or self.region


class WindowList:
    """Reads the top-level windows of an X display with python-xlib.

    Works with or without a window manager: EWMH properties (_NET_ACTIVE_WINDOW,
    _NET_WM_NAME) when there is one, the plain X tree and WM_NAME otherwise.
    """

    def __init__(self, display: str | None = None) -> None:
        from Xlib import display as xdisplay

        self.name = display or os.environ.get("DISPLAY", "")
        self._d = xdisplay.Display(self.name or None)
        self._root = self._d.screen().root
        self._net_active = self._d.intern_atom("_NET_ACTIVE_WINDOW")
        self._net_name = self._d.intern_atom("_NET_WM_NAME")
        self._utf8 = self._d.intern_atom("UTF8_STRING")
        self._wm_state = self._d.intern_atom("WM_STATE")

    def windows(self) -> list[Window]:
        """Viewable top-level windows, topmost first."""
        from Xlib import X
        from Xlib.error import XError

        active = self._focus_chain()
        out: list[Window] = []
        for child in reversed(self._root.query_tree().children):  # stacking order: last is on top
            try:
                attrs = child.get_attributes()
                if attrs.map_state != X.IsViewable:
                    continue
                geo = child.get_geometry()
                if geo.width <= 1 or geo.height <= 1:
                    continue
                client = self._client(child)
                title = self._title(client) or self._title(child)
                region = Region(geo.x, geo.y, geo.width, geo.height)
                inner = None
                if client.id != child.id:  # framed: where the program draws, on the screen
                    cg = client.get_geometry()
                    inner = Region(geo.x + cg.x, geo.y + cg.y, cg.width, cg.height)
                ids = {child.id, client.id}
                out.append(Window(id=client.id, title=title, region=region, inner=inner,
                                  popup=bool(attrs.override_redirect), focused=bool(active & ids)))
            except XError:  # the window went away while we looked
                continue
        if out and not any(w.focused for w in out):
            # No window manager and pointer-root focus: the topmost named window has it.
            top = next((w for w in out if w.title and not w.popup), None)
            if top is not None:
                out = [Window(**{**w.__dict__, "focused": w is top}) for w in out]
        return out

    def key_window(self) -> Window | None:
        """The window that keys typed now go to: the one holding the input focus, or
        under pointer-root focus (no window manager, nobody set it) the one under the
        pointer. None when no window gets them."""
        wins = self.windows()
        chain = self._focus_chain()
        if chain:  # not windows()' guess: only a window that really holds the focus
            return next((w for w in wins if w.id in chain and not w.popup), None)
        pointer = self._root.query_pointer()
        return window_at(wins, pointer.root_x, pointer.root_y)

    def window_at(self, x: float, y: float) -> Window | None:
        """The window a click at (x, y) lands in now (see window_at)."""
        return window_at(self.windows(), x, y)

    def focused_title(self) -> str:
        return next((w.title for w in self.windows() if w.focused), "")

    def activate(self, window: Window) -> None:
        """Raise and focus a window: through the window manager when there is one."""
        from Xlib import X, protocol

        win = self._d.create_resource_object("window", window.id)
        if self._root.get_full_property(self._net_active, X.AnyPropertyType) is not None:
            event = protocol.event.ClientMessage(window=win, client_type=self._net_active,
                                                 data=(32, [2, X.CurrentTime, 0, 0, 0]))
            self._root.send_event(event, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
        else:
            top = win
            while True:  # the root's child that holds it is what stacks
                parent = top.query_tree().parent
                if parent is None or parent.id == self._root.id:
                    break
                top = parent
            top.configure(stack_mode=X.Above)
            win.set_input_focus(X.RevertToParent, X.CurrentTime)
        self._d.sync()

    def _active_id(self) -> int:
        from Xlib import X

        prop = self._root.get_full_property(self._net_active, X.AnyPropertyType)
        if prop is not None and len(prop.value) and int(prop.value[0]):
            return int(prop.value[0])
        focus = self._d.get_input_focus().focus
        return int(getattr(focus, "id", 0) or 0)  # PointerRoot/None come back as plain ints

    def _focus_chain(self) -> set[int]:
        """The focused window and its ancestors (a program may focus a window inside its
        top-level one); empty under pointer-root or no focus."""
        from Xlib.error import XError

        wid = self._active_id()
        chain: set[int] = set()
        if wid <= 1:  # None (0) or PointerRoot (1)
            return chain
        try:
            win = self._d.create_resource_object("window", wid)
            while win is not None and win.id != self._root.id and win.id not in chain:
                chain.add(win.id)
                win = win.query_tree().parent
        except XError:  # it went away while we looked
            pass
        return chain

    def _client(self, window: Any) -> Any:
        """The application window inside a window manager's frame (itself when unframed)."""
        from Xlib import X

        if window.get_full_property(self._wm_state, X.AnyPropertyType) is not None:
            return window
        for child in window.query_tree().children:
            if child.get_full_property(self._wm_state, X.AnyPropertyType) is not None:
                return child
        return window

    def _title(self, window: Any) -> str:
        prop = window.get_full_property(self._net_name, self._utf8)
        if prop is not None and prop.value:
            v = prop.value
            return (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)).strip()
        name = window.get_wm_name()
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        return (name or "").strip()

    def close(self) -> None:
        self._d.close()


def window_at(windows: Sequence[Window], x: float, y: float) -> Window | None:
    """The window a click at screen pixel (x, y) lands in: the topmost one there
    (`windows` topmost first). A popup (menu, drop-down list) is counted as the focused
    window, which opened it. None over the bare desktop."""
    for w in windows:
        if w.region.contains_point(x, y):
            return next((f for f in windows if f.focused and not f.popup), None) if w.popup else w
    return None


def app_windows(windows: Sequence[Window]) -> list[Window]:
    """The windows a person would switch between (titled, not popups), in a stable
    order (creation), so their numbers do not change when one is raised."""
    return sorted((w for w in windows if w.title and not w.popup), key=lambda w: w.id)


# --- the screen as a URL (what the permission gate binds to) -------------------------

_URL_UNSAFE = re.compile(r"[%/?#\x00-\x1f\x7f]")


def desktop_url(display: str, title: str) -> str:
    """`desktop://:99/Invoice - Editor`: one screen of one display, named by the focused
    window's title. Only what would end or split a URL path is escaped (%, /, ?, #,
    control characters): the title stays readable, in any script."""
    return f"desktop://{display}/" + _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", title)


def parse_desktop_url(url: str) -> tuple[str, str]:
    """(display, window title) of a desktop:// URL."""
    if not url.startswith("desktop://"):
        raise ValueError(f"not a desktop URL: {url[:80]}")
    display, _, title = url[len("desktop://"):].partition("/")
    return display, unquote(title)
