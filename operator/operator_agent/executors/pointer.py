"""Pixel actions in a browser page: the mouse and keyboard at viewport points.

click_at, type_at, drag, move (hover) and scroll at a point take viewport CSS pixels:
the pixels of the screenshot the model saw (the perceiver shoots the viewport at the
context's device scale, which is 1 in the contexts we make) and the coordinates of
every Element.bbox. page.mouse takes the same coordinates, child frames included.

The gate checked the elements the observation put under each point
(permissions/detectors/points.py). Before the mouse goes down the page is asked again
what is there (elementFromPoint, down through frames and open shadow roots): a listed
element that was elsewhere, or a listed frame that was elsewhere, is refused, never
clicked, as the desktop refuses a window that moved under the point.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playwright.async_api import Frame, Page

from ..perception.browser import STAMP_ATTR, DomPerceiver
from ..permissions.detectors import points
from ..permissions.detectors.elements import host_of
from ..protocols import ActionError
from ..types import (
    Action,
    ClickAt,
    Drag,
    Element,
    MoveMouse,
    Observation,
    Scroll,
    TypeAt,
    held_keys,
    held_note,
)

_FRAME_DEPTH = 8  # frames inside frames: deeper than this, what is hit is not followed

# The element at a viewport point of this document, inside open shadow roots too.
_AT_JS = """([x, y]) => {
  let el = document.elementFromPoint(x, y);
  while (el && el.shadowRoot) {
    const inner = el.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === el) break;
    el = inner;
  }
  return el;
}"""

# Its closest listed (stamped) element across shadow roots, and, for a frame, where the
# frame's content box sits (the child document's viewport origin).
_INFO_JS = """(el, attr) => {
  let n = el, stamp = null;
  while (n && stamp === null) {
    if (n.nodeType === 1 && n.hasAttribute(attr)) stamp = n.getAttribute(attr);
    n = n.parentNode || n.host;
  }
  const frame = el.tagName === 'IFRAME' || el.tagName === 'FRAME';
  const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
  return {stamp, frame, left: r.left + el.clientLeft + (parseFloat(cs.paddingLeft) || 0),
          top: r.top + el.clientTop + (parseFloat(cs.paddingTop) || 0)};
}"""

# Whether the keys typed now go into something editable (in whichever frame has focus).
_EDITABLE_JS = """() => {
  const el = document.activeElement;
  const keys = /^(button|submit|reset|checkbox|radio|file|image|range|color)$/i;
  return document.hasFocus() && !!el && (el.isContentEditable || el.tagName === 'TEXTAREA'
    || (el.tagName === 'INPUT' && !keys.test(el.type)));
}"""

_WHEEL = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}

# The centre of the element `selector` names, if a click there lands on it now: in the
# viewport, enabled, and the topmost thing at that point (itself or inside it). null: let
# Playwright's click wait for it, scroll to it, or say why not.
_CLEAR_SHOT_JS = """selector => {
  const el = document.querySelector(selector);
  if (!el || el.disabled || el.getAttribute('aria-disabled') === 'true') return null;
  const r = el.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (r.width < 1 || r.height < 1 || x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return null;
  let hit = document.elementFromPoint(x, y);
  while (hit && hit.shadowRoot) {
    const inner = hit.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === hit) break;
    hit = inner;
  }
  for (let n = hit; n; n = n.parentNode || n.host) if (n === el) return [x, y];
  return null;
}"""


def is_pixel_action(action: Action) -> bool:
    """Whether the pointer performs this action (Scroll only when it names a point)."""
    if isinstance(action, Scroll):
        return action.x is not None or action.y is not None
    return isinstance(action, ClickAt | TypeAt | Drag | MoveMouse)


def target_of(action: Action, obs: Observation) -> Element | None:
    """The element a pixel action acts on as observed (innermost under its first point)."""
    match action:
        case ClickAt() | TypeAt():
            under = points.elements_at(obs, action.x, action.y)
            return under[0] if under else None
        case Drag() | MoveMouse():
            index = action.from_index if isinstance(action, Drag) else action.index
            return obs.element(index) if index is not None else None
    return None


async def click_if_clear(page: Page, frame: Frame, selector: str, *, button: str = "left",
                         double: bool = False) -> bool:
    """Click an element of the page's own document at its centre when nothing covers it
    there (True), in two round trips; False when Playwright's click, which waits for the
    element to be visible, stable and uncovered, must do it (frames included)."""
    if frame is not page.main_frame:
        return False
    point = await frame.evaluate(_CLEAR_SHOT_JS, selector)
    if not point:
        return False
    x, y = float(point[0]), float(point[1])
    if double:
        await page.mouse.dblclick(x, y, button=button)  # type: ignore[arg-type]
    else:
        await page.mouse.click(x, y, button=button)  # type: ignore[arg-type]
    return True


class Pointer:
    """Performs the pixel actions on a page, from the observation the gate checked."""

    def __init__(self, perceiver: DomPerceiver, *, timeout_ms: int) -> None:
        self.perceiver = perceiver
        self.timeout_ms = timeout_ms

    async def perform(self, action: Action, page: Page, obs: Observation) -> str:
        mouse = page.mouse
        match action:
            case ClickAt():
                x, y = await self._aim(page, obs, action.x, action.y)
                async with _holding(page, action.hold):
                    if action.double:
                        await mouse.dblclick(x, y, button=action.button)
                    else:
                        await mouse.click(x, y, button=action.button)
                twice = "double-" if action.double else ""
                return f"{twice}clicked at ({x:g}, {y:g}){held_note(action.hold)}"
            case TypeAt():
                return await self._type_at(action, page, obs)
            case Drag():
                x0, y0 = await self._end(page, obs, action.from_index, action.from_x, action.from_y, "from_")
                x1, y1 = await self._end(page, obs, action.to_index, action.to_x, action.to_y, "to_")
                async with _holding(page, action.hold):
                    await mouse.move(x0, y0)
                    await mouse.down(button=action.button)
                    await mouse.move(x1, y1, steps=12)  # in steps: pages follow a drag by its moves
                    await mouse.up(button=action.button)
                return f"dragged from ({x0:g}, {y0:g}) to ({x1:g}, {y1:g}){held_note(action.hold)}"
            case MoveMouse():
                if action.index is not None:
                    await self.perceiver.target(action.index).locator.hover(timeout=self.timeout_ms)
                    return f"moved the mouse onto [{action.index}]"
                if action.x is None or action.y is None:
                    raise ActionError("give index, or both x and y")
                x, y = await self._inside(page, action.x, action.y)
                await mouse.move(x, y)
                return f"moved the mouse to ({x:g}, {y:g})"
            case Scroll():
                if action.x is None or action.y is None:
                    raise ActionError("give both x and y to scroll at a point (or neither)")
                x, y = await self._inside(page, action.x, action.y)
                w, h = await _viewport(page)
                dx, dy = _WHEEL[action.direction]
                await mouse.move(x, y)
                await mouse.wheel(dx * w * action.pages, dy * h * action.pages)
                return f"scrolled {action.direction} {action.pages:g} page(s) at ({x:g}, {y:g})"
        raise ActionError(f"the browser cannot perform {action.action!r} at a point")

    async def _type_at(self, action: TypeAt, page: Page, obs: Observation) -> str:
        x, y = await self._aim(page, obs, action.x, action.y)
        await page.mouse.click(x, y)
        keyboard = page.keyboard
        if action.clear and await _editable_focused(page):  # a select-all elsewhere is no field to clear
            await keyboard.press("ControlOrMeta+A")
            await keyboard.press("Delete")
        await keyboard.type(action.text)  # key by key, as a person types: canvases listen to keys
        if action.submit:
            await keyboard.press("Enter")
        return f"typed {len(action.text)} characters at ({x:g}, {y:g})"

    # --- where --------------------------------------------------------------------------

    async def _inside(self, page: Page, x: float, y: float) -> tuple[float, float]:
        w, h = await _viewport(page)
        if not (0 <= x < w and 0 <= y < h):
            raise ActionError(f"({x:g}, {y:g}) is outside the {w:g}x{h:g} viewport: use pixels of the "
                              "screenshot, or scroll first")
        return x, y

    async def _end(self, page: Page, obs: Observation, index: int | None, x: int | None, y: int | None,
                   prefix: str) -> tuple[float, float]:
        """One end of a drag: the centre of the element (where it is now) or the point."""
        if index is None:
            if x is None or y is None:
                raise ActionError(f"give {prefix}index or both {prefix}x and {prefix}y")
            return await self._aim(page, obs, x, y)
        box = await self.perceiver.target(index).locator.bounding_box(timeout=self.timeout_ms)
        if box is None:
            raise ActionError(f"element [{index}] is not shown; look again")
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        w, h = await _viewport(page)
        if not (0 <= cx < w and 0 <= cy < h):
            raise ActionError(f"the centre of [{index}] is outside the viewport: scroll to it first")
        return await self._aim(page, obs, cx, cy, index=index)

    async def _aim(self, page: Page, obs: Observation, x: float, y: float, *,
                   index: int | None = None) -> tuple[float, float]:
        """(x, y) if it is inside the viewport and what is there now is what the observation
        put there (plus element [index], the element a drag end was named by)."""
        x, y = await self._inside(page, x, y)
        expected = points.elements_at(obs, x, y)
        named = obs.element(index) if index is not None else None
        expected += [named] if named is not None else []
        stamp, frame = await _under(page, x, y)
        listed = self._listed(obs)
        if stamp in listed and listed[stamp] not in {e.index for e in expected}:
            moved = obs.element(listed[stamp])
            name = f' "{moved.name[:40]}"' if moved is not None and moved.name else ""
            raise ActionError(f"[{listed[stamp]}]{name} is now at ({x:g}, {y:g}), where the page read "
                              "before showed something else: nothing was done; look again")
        shown_frames = {e.frame for e in obs.elements if e.frame}
        here = {e.frame for e in expected} | {points.frame_at(obs, x, y) or ""}
        if frame in shown_frames and frame not in here:
            raise ActionError(f"({x:g}, {y:g}) is now inside the frame of {host_of(frame)}, which the page "
                              "read before showed elsewhere: nothing was done; look again")
        return x, y

    def _listed(self, obs: Observation) -> dict[str, int]:
        """The stamp of each element of the observation -> its index."""
        stamps: dict[str, int] = {}
        for el in obs.elements:
            try:
                selector = self.perceiver.target(el.index).selector
            except ActionError:  # not from this perceiver's last observation
                continue
            stamps[selector.split('"')[1]] = el.index
        return stamps


@asynccontextmanager
async def _holding(page: Page, hold: str) -> AsyncIterator[None]:
    """Modifier keys down for the block, released whatever happens in it."""
    keys = held_keys(hold)
    pressed: list[str] = []
    try:
        for key in keys:
            await page.keyboard.down(key)
            pressed.append(key)
        yield
    finally:
        for key in reversed(pressed):
            await page.keyboard.up(key)



async def _viewport(page: Page) -> tuple[float, float]:
    size = page.viewport_size
    if size is not None:
        return float(size["width"]), float(size["height"])
    w, h = await page.evaluate("() => [innerWidth, innerHeight]")  # an attached browser's own window
    return float(w), float(h)


async def _under(page: Page, x: float, y: float) -> tuple[str | None, str]:
    """What is at viewport point (x, y) now: the stamp of its closest listed element (None
    for none), and the URL of the frame it is in ("" for the page itself)."""
    frame: Frame = page.main_frame
    url, px, py = "", x, y
    for _ in range(_FRAME_DEPTH):
        handle = await frame.evaluate_handle(_AT_JS, [px, py])
        try:
            el = handle.as_element()
            if el is None:
                return None, url
            info = await el.evaluate(_INFO_JS, STAMP_ATTR)
            child = await el.content_frame() if info["frame"] else None
            if child is None:
                return info["stamp"], url
            frame, url = child, child.url
            px, py = px - info["left"], py - info["top"]
        finally:
            await handle.dispose()
    return None, url


async def _editable_focused(page: Page) -> bool:
    for frame in page.frames:
        try:
            if await frame.evaluate(_EDITABLE_JS):
                return True
        except Exception:  # a frame going away is not the focused one
            continue
    return False
