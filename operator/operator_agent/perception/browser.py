"""What the agent sees of a browser page: indexed elements, page text, a screenshot.

`DomPerceiver.observe(page)` runs one in-page walker (dom.js) in every frame at
once (same-origin and cross-origin iframes alike, through Playwright's
page.frames) and turns the results into an Observation (serialize.py).

How an index finds its element again: during the walk every listed element is
stamped with `data-oa="g<generation>f<frame>e<k>"`, the generation being new
for every observation (a process-wide counter). `target(i)` returns a CSS
attribute locator for that stamp in the element's own frame; Playwright's CSS
engine pierces open shadow roots, so this works inside web components too.
Closed shadow roots are out of reach of page scripts and of Playwright alike: an
init script (SHADOW_REGISTRY_JS, installed in the context by `prepare`) keeps each
root as it is attached, the walker reads it there, and an element inside one is
acted on through an element handle found the same way (ClosedRootLocator).
A stamp is written only by the observation it belongs to, so an index from an
older observation can never match a different element: when the element is
gone (or was restamped by a newer observation) the locator matches nothing and
the action fails instead of landing elsewhere. (Two caveats: a framework that
reuses one DOM node for other content keeps the node's stamp; a cloned node
copies it, and then Playwright's strict mode refuses the ambiguous locator.)
We chose stamps over
role/name locators because those are ambiguous on pages with repeated controls
("Add to cart" x 200), and over element handles because handles pin memory and
die with their execution context.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import logging
import weakref
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from playwright.async_api import BrowserContext, ElementHandle, Frame, Locator, Page

from ..protocols import ActionError
from ..tokens import count_tokens
from ..types import BBox, Element, Observation, Screenshot, Tab
from .capture import TRACE_JPEG_QUALITY, QuickShots
from .serialize import Built, FrameWalk, build, origin_of

log = logging.getLogger(__name__)

STAMP_ATTR = "data-oa"
_GENERATION = itertools.count(1)
_BACKGROUND: set[asyncio.Future[None]] = set()

# Where an iframe's content box sits in its parent's viewport, and whether it shows.
# Also tags the iframe element so the parent's walker knows where to splice the frame.
_FRAME_BOX_JS = """(el, tag) => {
  el.setAttribute('data-oa-frame', tag);
  const r = el.getBoundingClientRect();
  const cs = getComputedStyle(el);
  const modal = el.ownerDocument.querySelector('dialog:modal');  // all else is inert
  const shown = el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
    && r.width > 1 && r.height > 1 && !el.closest('[aria-hidden="true"],[inert]')
    && (!modal || modal.contains(el));
  return [shown ? 1 : 0,
          r.left + el.clientLeft + (parseFloat(cs.paddingLeft) || 0),
          r.top + el.clientTop + (parseFloat(cs.paddingTop) || 0)];
}"""


# Keeps every shadow root as it is attached, so the walker sees closed ones too. Chosen
# over CDP's DOM.getDocument(pierce) because that serializes the whole document (the
# cost this walker avoids) and needs a CDP session per out-of-process frame. It runs
# before the page's scripts (an init script), so the page cannot take roots past it,
# and the lookup is a non-writable, non-configurable property closing over its own
# WeakMap. A page can still make its own script lie to ours (it owns the JS world the
# walker runs in), but all it can fake is page content, which is data anyway: an element
# it fakes is one it could have put in its DOM. Documents loaded before the registry was
# installed are walked without their closed roots.
SHADOW_REGISTRY_JS = """(() => {
  if (Object.prototype.hasOwnProperty.call(window, '__oaShadowRoot')) return;
  const roots = new WeakMap();
  let count = 0;
  const get = WeakMap.prototype.get, set = WeakMap.prototype.set, apply = Reflect.apply;
  const attach = Element.prototype.attachShadow;
  Object.defineProperty(Element.prototype, 'attachShadow', {
    configurable: true, enumerable: false, writable: true,
    value: { attachShadow(init) {
      const root = apply(attach, this, [init]);
      apply(set, roots, [this, root]);
      count++;
      return root;
    } }.attachShadow,
  });
  Object.defineProperty(window, '__oaShadowRoot', {
    configurable: false, enumerable: false, writable: false,
    value: (host) => (host === undefined ? count : apply(get, roots, [host]) || null),
  });
})();"""

# The stamped element `stamp`, searched through open and closed shadow roots.
_FIND_DEEP_JS = """(stamp) => {
  const sel = '[data-oa="' + stamp + '"]';
  const reg = typeof window.__oaShadowRoot === 'function' ? window.__oaShadowRoot : null;
  const look = (root) => {
    const hit = root.querySelector(sel);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) {
      const sr = el.shadowRoot || (reg && reg(el));
      const found = sr ? look(sr) : null;
      if (found) return found;
    }
    return null;
  };
  return look(document);
}"""


@lru_cache(maxsize=1)
def walker_source() -> str:
    """dom.js, given far.js's counter: one function of the walker's arguments."""
    here = resources.files(__package__)
    far = here.joinpath("far.js").read_text(encoding="utf-8").strip()
    dom = here.joinpath("dom.js").read_text(encoding="utf-8").strip()
    return f"(a) => ({dom})(a, {far})"


class ClosedRootLocator:
    """The part of Locator the executors use, for an element inside a closed shadow root
    (Playwright's selectors cannot reach those): each call finds the stamped element
    again through the registry and acts on its handle, with Playwright's own checks
    (visible, stable, enabled, scrolled into view)."""

    def __init__(self, frame: Frame, stamp: str) -> None:
        self.frame = frame
        self.stamp = stamp

    async def _handle(self) -> ElementHandle:
        found = await self.frame.evaluate_handle(_FIND_DEEP_JS, self.stamp)
        element = found.as_element()
        if element is None:
            await found.dispose()
            raise ActionError("the element is no longer on the page; look again")
        return element

    async def _on(self, method: str, *args: Any, **kwargs: Any) -> Any:
        handle = await self._handle()
        try:
            return await getattr(handle, method)(*args, **kwargs)
        finally:
            await _dispose(handle)

    async def count(self) -> int:
        try:
            handle = await self._handle()
        except ActionError:
            return 0
        await _dispose(handle)
        return 1

    async def click(self, **kwargs: Any) -> None:
        await self._on("click", **kwargs)

    async def hover(self, **kwargs: Any) -> None:
        await self._on("hover", **kwargs)

    async def fill(self, value: str, **kwargs: Any) -> None:
        await self._on("fill", value, **kwargs)

    async def focus(self, **kwargs: Any) -> None:
        kwargs.pop("timeout", None)  # ElementHandle.focus has none
        await self._on("focus")

    async def press(self, key: str, **kwargs: Any) -> None:
        await self._on("press", key, **kwargs)

    async def press_sequentially(self, text: str, **kwargs: Any) -> None:
        await self._on("type", text, **kwargs)

    async def select_option(self, **kwargs: Any) -> list[str]:
        return await self._on("select_option", **kwargs)

    async def set_input_files(self, files: Any, **kwargs: Any) -> None:
        await self._on("set_input_files", files, **kwargs)

    async def evaluate(self, expression: str, arg: Any = None) -> Any:
        return await self._on("evaluate", expression, arg)

    async def bounding_box(self, **kwargs: Any) -> Any:
        return await self._on("bounding_box")

    async def text_content(self, **kwargs: Any) -> str | None:
        return await self._on("text_content")


@dataclass(frozen=True)
class ElementTarget:
    """An indexed element, ready to act on: `locator` resolves exactly that element."""

    element: Element
    frame: Frame
    locator: Locator | ClosedRootLocator  # the latter inside a closed shadow root
    selector: str  # the CSS selector inside `frame` (matches nothing in a closed root)

    async def exists(self) -> bool:
        """Whether the element is still on the page (it may have been removed since)."""
        try:
            return await self.locator.count() == 1
        except Exception:
            return False


class _PageNotReady(Exception):
    pass


class DomPerceiver:
    """Perceives a Playwright page through its DOM; see the module docstring."""

    def __init__(self, *, margin_viewports: float = 1.0, max_name_chars: int = 80,
                 max_text_chars: int = 160, max_options: int = 20, timeout_s: float = 10.0,
                 load_timeout_ms: float = 5000) -> None:
        self.margin_viewports = margin_viewports
        self.max_name_chars = max_name_chars
        self.max_text_chars = max_text_chars
        self.max_options = max_options
        self.timeout_s = timeout_s  # a page whose main thread is stuck never answers
        self.load_timeout_ms = load_timeout_ms
        self._refs: dict[int, tuple[Element, Frame, str, bool]] = {}
        self._prepared: weakref.WeakSet[BrowserContext] = weakref.WeakSet()
        self.last: Observation | None = None
        self.shots = QuickShots()

    # --- public ---------------------------------------------------------------

    async def prepare(self, context: BrowserContext) -> None:
        """Install the shadow-root registry in `context` (once): documents loaded from
        now on show their closed shadow roots. Call it before the first page loads."""
        if context in self._prepared:
            return
        self._prepared.add(context)
        with contextlib.suppress(Exception):  # a closing context: nothing to see anyway
            await context.add_init_script(SHADOW_REGISTRY_JS)

    async def observe(self, page: Page, *, screenshot: Screenshot = False) -> Observation:
        """Never raises for the page's sake: a page that is loading, closed or broken
        still gives an Observation (saying so)."""
        with contextlib.suppress(Exception):
            await self.prepare(page.context)
        snap: _Snap | None = None
        note = ""
        for attempt in range(2):
            try:
                snap = await asyncio.wait_for(self._snapshot(page), self.timeout_s)
                break
            except (_PageNotReady, TimeoutError) as exc:
                log.debug("observe attempt %d failed: %s", attempt, exc)
                if page.is_closed():
                    note = "(the page is closed)"
                    break
                if isinstance(exc, TimeoutError):
                    note = "(the page did not answer in time; observe again)"
                    break
                note = "(the page is still loading; observe again)"
                if attempt == 0:  # mid-navigation: wait for the new document once, then retry
                    with contextlib.suppress(Exception):
                        await page.wait_for_load_state("domcontentloaded", timeout=self.load_timeout_ms)
        if snap is None:
            snap = _Snap(Built([], {}, f"url: {page.url}\n{note}"), {}, "", "", [])
        self._refs = {}
        for index, (key, k) in snap.built.refs.items():
            selector = f'[{STAMP_ATTR}="{snap.gen}f{key}e{k}"]'
            self._refs[index] = (snap.built.elements[index - 1], snap.frames[key], selector,
                                 index in snap.built.closed)
        shot = await self.picture(page, exact=screenshot is True) if screenshot else None
        tokens, estimated = count_tokens(snap.built.text)
        obs = Observation(url=page.url, title=snap.title, tabs=snap.tabs, elements=snap.built.elements,
                          text=snap.built.text, tokens=tokens, tokens_estimated=estimated, screenshot=shot)
        self.last = obs
        return obs

    async def picture(self, page: Page, *, exact: bool = False) -> bytes | None:
        """The viewport as the last observation listed it: a PNG (`exact`, for a model) or a
        JPEG for people, the cheap way when no listed field is secret (capture.py). Secret
        fields are masked black: they must not reach a model or a trace as pixels either."""
        if page.is_closed():
            return None
        mask = [frame.locator(sel) for el, frame, sel, closed in self._refs.values()
                if el.sensitive and not closed]
        # Playwright's masks cannot find these: they are painted over the picture instead.
        covered = [el.bbox for el, _, _, closed in self._refs.values()
                   if el.sensitive and closed and el.bbox is not None]
        if not exact and not mask and not covered:
            quick = await self.shots.jpeg(page)
            if quick is not None:
                return quick
        kind: dict[str, Any] = {"type": "png"} if exact else {"type": "jpeg", "quality": TRACE_JPEG_QUALITY}
        try:
            # In CSS pixels, as element boxes and pixel actions are, whatever the device
            # scale of a browser we attached to.
            shot = await page.screenshot(timeout=self.timeout_s * 1000, mask=mask, mask_color="#000000",
                                         scale="css", **kind)
        except Exception as exc:
            log.debug("screenshot failed: %s", exc)
            return None
        return _blackout(shot, covered, "PNG" if exact else "JPEG") if covered else shot

    def target(self, index: int) -> ElementTarget:
        """The element [index] of the last observation. Raises ActionError (for the model)
        when the last observation listed no such index."""
        ref = self._refs.get(index)
        if ref is None:
            raise ActionError(
                f"there is no element [{index}] on the current page; use an index from the list")
        element, frame, selector, closed = ref
        locator: Locator | ClosedRootLocator = (
            ClosedRootLocator(frame, selector.split('"')[1]) if closed else frame.locator(selector))
        return ElementTarget(element=element, frame=frame, locator=locator, selector=selector)

    # --- internals -------------------------------------------------------------

    async def _snapshot(self, page: Page) -> _Snap:
        gen = f"g{next(_GENERATION)}"
        main = page.main_frame
        frames = [main, *(f for f in page.frames if f is not main and not f.is_detached())]
        keys = {id(f): i for i, f in enumerate(frames)}
        children = frames[1:]
        source = walker_source()
        base = {"gen": gen, "margin": self.margin_viewports, "maxName": self.max_name_chars,
                "maxText": self.max_text_chars, "maxOptions": self.max_options}
        tabs_task = asyncio.ensure_future(_tabs(page))
        try:
            offsets: dict[int, tuple[float, float]] = {}
            vw = vh = 0.0
            if children:
                # Phase 1 (only with iframes): where each frame sits, so each frame's walker
                # places its elements in top-level coordinates and windows them itself.
                boxes = await asyncio.gather(
                    main.evaluate("() => [innerWidth, innerHeight]"),
                    *(_frame_box(f, f"{gen}:{keys[id(f)]}") for f in children), return_exceptions=True)
                viewport = boxes[0]
                if isinstance(viewport, BaseException):
                    raise _PageNotReady(str(viewport))
                vw, vh = float(viewport[0]), float(viewport[1])
                local = {keys[id(f)]: box for f, box in zip(children, boxes[1:], strict=True)}
                memo: dict[int, tuple[float, float] | None] = {}
                for f in children:
                    pos = _compose(f, main, keys, local, memo)
                    if pos is not None:
                        offsets[keys[id(f)]] = pos

            async def walk(frame: Frame, key: int) -> dict[str, Any]:
                top = frame is main
                ox, oy = (0.0, 0.0) if top else offsets[key]
                args = {**base, "top": top, "ox": ox, "oy": oy, "vw": vw, "vh": vh, "stamp": f"{gen}f{key}e"}
                data = json.loads(await frame.evaluate(source, args))
                if not isinstance(data, dict) or not {"s", "i", "f"} <= data.keys():
                    raise ValueError("the page's walker gave no result")  # a page that broke JSON
                return data

            walked = [main, *(f for f in children if keys[id(f)] in offsets)]
            results = await asyncio.gather(*(walk(f, keys[id(f)]) for f in walked), return_exceptions=True)
            top = results[0]
            if isinstance(top, BaseException):
                raise _PageNotReady(str(top))
            walks: dict[int, FrameWalk] = {}
            for f, res in zip(walked, results, strict=True):
                key = keys[id(f)]
                if isinstance(res, BaseException):  # a frame that went away: the others still count
                    log.debug("frame %s not observed: %s", f.url, res)
                    continue
                walks[key] = FrameWalk(key=key, url="" if f is main else f.url, items=res["i"],
                                       far=res["f"], scroll=res["s"] if f is main else None)
            tabs = await tabs_task
        finally:
            tabs_task.cancel()
        title = str(top.get("t") or "")
        built = build(walks, main_key=0, url=page.url, title=title, tabs=tabs,
                      page_origin=origin_of(page.url))
        return _Snap(built, {k: frames[k] for k in walks}, gen, title, tabs)


@dataclass
class _Snap:
    built: Built
    frames: dict[int, Frame]
    gen: str
    title: str
    tabs: list[Tab]


def _blackout(picture: bytes, boxes: list[BBox], fmt: str) -> bytes:
    """The picture with `boxes` (CSS pixels, as the picture's) painted black."""
    from PIL import Image, ImageDraw

    image = Image.open(io.BytesIO(picture)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for b in boxes:
        draw.rectangle([b.x, b.y, b.x + b.width, b.y + b.height], fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format=fmt, **({"quality": TRACE_JPEG_QUALITY} if fmt == "JPEG" else {}))
    return out.getvalue()


async def _tabs(page: Page) -> list[Tab]:
    pages = page.context.pages
    if len(pages) < 2:
        return []
    titles = await asyncio.gather(*(_safe_title(p) for p in pages))
    return [Tab(index=i, title=t, url=p.url, active=p is page)
            for i, (p, t) in enumerate(zip(pages, titles, strict=True))]


async def _safe_title(page: Page) -> str:
    try:
        return await asyncio.wait_for(page.title(), 2.0)
    except Exception:
        return ""


async def _frame_box(frame: Frame, tag: str) -> list[float] | None:
    handle = await frame.frame_element()
    try:
        return await handle.evaluate(_FRAME_BOX_JS, tag)
    finally:
        # Released off the critical path; the set keeps the task alive until it ends.
        task = asyncio.ensure_future(_dispose(handle))
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)


async def _dispose(handle: Any) -> None:
    with contextlib.suppress(Exception):
        await handle.dispose()


def _compose(frame: Frame, main: Frame, keys: dict[int, int], local: dict[int, Any],
             memo: dict[int, tuple[float, float] | None]) -> tuple[float, float] | None:
    """A frame's viewport origin in the top-level viewport, or None when it is not shown."""
    if frame is main:
        return 0.0, 0.0
    key = keys.get(id(frame))
    if key is None:
        return None
    if key in memo:
        return memo[key]
    box = local.get(key)
    parent = frame.parent_frame
    pos: tuple[float, float] | None = None
    if not isinstance(box, BaseException) and box and box[0] and parent is not None:
        up = _compose(parent, main, keys, local, memo)
        if up is not None:
            pos = (up[0] + float(box[1]), up[1] + float(box[2]))
    memo[key] = pos
    return pos
