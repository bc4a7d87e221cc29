"""Records what a person does in a browser, for `operator learn` to turn into a skill.

`capture.js` (with describe.js) runs in every frame of every page, cross-origin
iframes included, and reports each action through one binding. Here the events
get their place (tab, frame, where the frame sits on the page), a screenshot
before and after, and a crop of the element, and are appended to events.jsonl at
once: stopping the recorder however it stops keeps everything written so far.

One consumer task handles events in arrival order, so files and sequence numbers
never interleave. Secrets never arrive: the page script sends only which kind of
secret was typed, and screenshots mask password and card fields.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import time
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.async_api import BrowserContext, Frame, Page

from ..private_files import private_dir
from .events import EVENTS, EventWriter, RecordingMeta, write_meta
from .templates import path_pattern

# Password, card and one-time-code fields are blacked out in every screenshot.
MASK = ('input[type=password], input[autocomplete^="cc-"], input[autocomplete="one-time-code"], '
        'input[name*="card" i], input[name*="cvc" i], input[name*="cvv" i]')

@lru_cache(maxsize=1)
def capture_source() -> str:
    files = resources.files(__package__)
    return "\n".join(files.joinpath(name).read_text("utf-8") for name in ("describe.js", "capture.js"))


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Recorder:
    """Records one browser context into `path`.

        rec = Recorder(path, name="buy", start_url=url)
        await rec.attach(context)      # then the person (or a test) uses the browser
        await rec.stop()               # flushes typing in progress, writes the metadata
    """

    def __init__(self, path: Path, *, name: str, start_url: str, task: str = "", screenshots: bool = True,
                 shot_width: int = 640, viewport: tuple[int, int] = (1280, 800)) -> None:
        self.path = path
        self.meta = RecordingMeta(name=name, start_url=start_url, task=task, started=_now_iso(),
                                  viewport=list(viewport))
        self.screenshots = screenshots
        self.shot_width = shot_width
        self._queue: asyncio.Queue[tuple[str, Any, Any, Any]] = asyncio.Queue()
        self._writer: EventWriter | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._context: BrowserContext | None = None
        self._seq = 0
        self._shots = 0
        self._last_shot: str | None = None
        self._last_image: Image.Image | None = None
        self._current: Page | None = None
        self._known: set[int] = set()
        self._page_url: dict[int, str] = {}  # id(page) -> its URL as of the events handled so far
        self._nav_seq: dict[int, int] = {}  # id(page) -> seq of its last navigation
        self._cids: dict[tuple[str, int], tuple[int, int]] = {}  # (document, page-side id) -> (id(page), seq)
        self._awaiting_load: dict[int, list[int]] = {}  # id(page) -> seqs whose page moved on first
        self._frames: dict[int, tuple[dict[str, Any], float, float]] = {}  # each iframe as last seen
        self.closed = asyncio.Event()  # set when the person has closed every tab
        self._tasks: set[asyncio.Future[Any]] = set()

    # --- lifecycle --------------------------------------------------------------

    async def attach(self, context: BrowserContext) -> None:
        # What the person did, where, and screenshots of it: owner-only, like run folders.
        private_dir(self.path)
        for sub in ("shots", "crops"):
            private_dir(self.path / sub)
        (self.path / EVENTS).unlink(missing_ok=True)
        self._writer = EventWriter(self.path / EVENTS)
        write_meta(self.path, self.meta)
        self._context = context
        self._consumer = asyncio.ensure_future(self._consume())
        await context.expose_binding("__oaRecord", self._on_binding)
        await context.add_init_script(script=capture_source())
        context.on("page", lambda p: self._queue.put_nowait(("page", p, None, None)))
        for page in context.pages:  # already open: their documents need the script now
            self._queue.put_nowait(("page", page, None, "existing"))
            for frame in page.frames:
                with contextlib.suppress(Exception):
                    await frame.evaluate(capture_source())

    async def sync(self) -> None:
        """Until every action done so far is on disk (typing in progress included)."""
        if self._context is None:
            return
        for page in list(self._context.pages):
            for frame in list(page.frames):
                with contextlib.suppress(Exception):
                    await frame.evaluate("() => window.__oaFlush && window.__oaFlush()")
        await asyncio.sleep(0)  # binding calls answered by that flush are queued by now
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(("sync", None, None, done))
        await done

    async def stop(self, reason: str = "stopped") -> RecordingMeta:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.sync(), 15)
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._consumer
        if self._writer is not None:
            self._writer.close()
        self.meta.ended, self.meta.stopped, self.meta.events = _now_iso(), reason, self._seq
        write_meta(self.path, self.meta)
        return self.meta

    # --- events in -----------------------------------------------------------------

    def _on_binding(self, source: dict[str, Any], payload: Any) -> None:
        # Called by Playwright for every page event: queue it, never block the page. What may be
        # gone by the time the queue gets to it (the iframe, the page as it looks) is fetched now.
        if not isinstance(payload, dict):
            return
        page, frame = source.get("page"), source.get("frame")
        if page is None:
            return
        if frame is not None and frame != page.main_frame and payload.get("type") not in ("state", "focus"):
            payload["_frame"] = asyncio.ensure_future(_frame_info(frame))
            # Acting in an iframe: the page around it is as the person saw it now (its own
            # "settled" report may not have come yet).
            self._background(page.main_frame.evaluate("() => window.__oaFlush && window.__oaFlush()"))
        if payload.get("type") == "state" and self.screenshots:
            payload["_shot"] = asyncio.ensure_future(self._capture(page))
        self._queue.put_nowait(("event", page, frame, payload))

    def _background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(lambda t: (self._tasks.discard(t), t.cancelled() or t.exception()))

    def _watch(self, page: Page) -> None:
        if id(page) in self._known:
            return
        self._known.add(id(page))
        # The URL is read now: by the time the queue gets to it the page may be elsewhere.
        page.on("framenavigated", lambda f: self._queue.put_nowait(("nav", page, f.url, time.time() * 1000))
                if f == page.main_frame else None)
        page.on("close", lambda p: self._queue.put_nowait(("close", p, None, None)))

    async def _consume(self) -> None:
        while True:
            kind, page, frame, data = await self._queue.get()
            try:
                if kind == "sync":
                    data.set_result(None)
                elif kind == "page":
                    await self._on_page(page, existing=data == "existing")
                elif kind == "nav":
                    await self._on_nav(page, frame, data)  # (frame holds the URL here, data the time)
                elif kind == "close":
                    await self._on_close(page)
                elif kind == "event":
                    await self._on_event(page, frame, data)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a page that went away mid-event: keep recording
                self._write({"type": "note", "seq": self._seq, "note": f"{kind}: {str(exc)[:200]}"})

    # --- handlers --------------------------------------------------------------------

    def _tab(self, page: Page | None) -> int:
        pages = self._context.pages if self._context else []
        return pages.index(page) if page in pages else 0

    async def _on_page(self, page: Page, *, existing: bool) -> None:
        self._watch(page)
        opener = None if existing else await page.opener()
        if self._current is not None and not existing:
            self._record({"type": "new_tab", "page": self._tab(page), "url": page.url,
                          "opener": self._tab(opener) if opener else None})
        self._current = page

    async def _on_nav(self, page: Page, url: str, t: float) -> None:
        if url in ("about:blank", "") or self._page_url.get(id(page)) == url:
            return
        self._page_url[id(page)] = url
        # Actions whose page went away before it settled: the new page is what they led to.
        gone = [key for key, (pid, _) in self._cids.items() if pid == id(page)]
        self._awaiting_load.setdefault(id(page), []).extend(self._cids.pop(key)[1] for key in gone)
        # Its screenshot comes when the new page reports itself settled (a `state` with cid 0).
        self._nav_seq[id(page)] = self._record({"type": "navigate", "t": t, "page": self._tab(page),
                                                "url": url})

    async def _on_close(self, page: Page) -> None:
        self._record({"type": "close_tab", "url": page.url})
        if self._context is not None and not [p for p in self._context.pages if not p.is_closed()]:
            self.closed.set()

    async def _on_event(self, page: Page | None, frame: Frame | None, data: dict[str, Any]) -> None:
        if page is None:
            return
        main = frame is None or frame == page.main_frame
        kind = data.get("type")
        if kind == "focus":  # the person switched to this tab
            if page is not self._current:
                self._current = page
                self._record({"type": "switch_tab", "page": self._tab(page), "url": page.url})
            return
        if kind == "state":
            await self._on_state(page, frame, data, main=main)
            return
        private = ("href", "cid", "doc", "_frame", "_shot")
        secret = bool(data.get("secret"))
        event = {k: v for k, v in data.items() if k not in private and not (k == "value" and secret)}
        event.update(page=self._tab(page), url=str(data.get("href") or "") if main else
                     self._page_url.get(id(page), page.url))
        ox = oy = 0.0
        if not main and frame is not None:
            info, ox, oy = await data["_frame"] if "_frame" in data else ({}, 0.0, 0.0)
            if "title" not in info and id(frame) in self._frames:  # gone already: where it last was
                info, ox, oy = self._frames[id(frame)]
            self._frames[id(frame)] = (info, ox, oy)
            event["frame"] = info or {"url": frame.url, "path": path_pattern(frame.url)}
        target = event.get("target")
        if isinstance(target, dict) and isinstance(target.get("bbox"), list):
            x, y, w, h = target["bbox"]
            target["bbox"] = [round(x + ox, 1), round(y + oy, 1), round(w, 1), round(h, 1)]
            event["crop"] = self._crop(target["bbox"])
        self._current = page
        seq = self._record(event)
        if isinstance(data.get("cid"), int):
            self._cids[(str(data.get("doc")), data["cid"])] = (id(page), seq)

    async def _on_state(self, page: Page, frame: Frame | None, data: dict[str, Any], *, main: bool) -> None:
        """The `after` line of an event (or of a page load): what the page showed once settled."""
        cid = data.get("cid")
        if cid == 0 and main:
            seqs = [*self._awaiting_load.pop(id(page), []), self._nav_seq.get(id(page))]
        else:
            seqs = [self._cids.pop((str(data.get("doc")), cid), (0, None))[1]]
        seqs = [s for s in seqs if s is not None]
        if not seqs:
            return
        url = str(data.get("href") or "") if main else self._page_url.get(id(page), page.url)
        shot = self._save_shot(await data["_shot"]) if "_shot" in data else None
        for seq in seqs:
            line: dict[str, Any] = {"type": "after", "seq": seq, "url": url, "title": data.get("title", ""),
                                    "headings": data.get("headings", [])}
            if shot:
                line["shot"] = shot
            self._write(line)

    # --- files ---------------------------------------------------------------------

    def _write(self, obj: dict[str, Any]) -> None:
        if self._writer is not None:
            self._writer.write(obj)

    def _record(self, event: dict[str, Any]) -> int:
        self._seq += 1
        event = {"seq": self._seq, "t": round(float(event.pop("t", time.time() * 1000)), 1), **event}
        if self._last_shot:
            event["before"] = self._last_shot
        self._write(event)
        return self._seq

    def _crop(self, bbox: list[float]) -> str | None:
        image = self._last_image
        if image is None or not self.screenshots:
            return None
        x, y, w, h = bbox
        pad = 6
        box = (max(0, int(x - pad)), max(0, int(y - pad)), min(image.width, int(x + w + pad)),
               min(image.height, int(y + h + pad)))
        if box[2] - box[0] < 4 or box[3] - box[1] < 4:
            return None
        crop = image.crop(box)
        crop.thumbnail((240, 120))
        name = f"crops/{self._seq + 1:04d}.jpg"
        crop.convert("RGB").save(self.path / name, "JPEG", quality=70)
        return name

    async def _capture(self, page: Page) -> bytes | None:
        """A screenshot now, password and card fields masked (None when the page is gone)."""
        for _ in range(2):  # a page in the middle of navigating: once more when it has loaded
            if page.is_closed():
                return None
            mask = [f.locator(MASK) for f in page.frames if not f.is_detached()]
            try:
                return await page.screenshot(type="jpeg", quality=70, scale="css", mask=mask,
                                             mask_color="#000000", timeout=5000)
            except Exception:
                with contextlib.suppress(Exception):
                    await page.wait_for_load_state("domcontentloaded", timeout=5000)
        return None

    def _save_shot(self, data: bytes | None) -> str | None:
        if data is None:
            return None
        image = Image.open(io.BytesIO(data))
        image.load()
        self._last_image = image  # crops of the next element come from it
        small = image.copy()
        small.thumbnail((self.shot_width, self.shot_width))
        self._shots += 1
        name = f"shots/{self._shots:04d}.jpg"
        small.convert("RGB").save(self.path / name, "JPEG", quality=60)
        self._last_shot = name
        return name


async def _frame_info(frame: Frame) -> tuple[dict[str, Any], float, float]:
    """The iframe's URL pattern and title, and where it sits in the page (for bboxes)."""
    info: dict[str, Any] = {"url": frame.url, "path": path_pattern(frame.url)}
    ox = oy = 0.0
    try:
        element = await frame.frame_element()
        box = await element.bounding_box()
        title = await element.get_attribute("title")
        if box:
            # The content box: the walker's coordinates are relative to it.
            border = await element.evaluate(
                "e => { const s = getComputedStyle(e); return [e.clientLeft + (parseFloat(s.paddingLeft)||0),"
                " e.clientTop + (parseFloat(s.paddingTop)||0)]; }")
            ox, oy = box["x"] + border[0], box["y"] + border[1]
        if title:
            info["title"] = title
        await element.dispose()
    except Exception:
        pass
    return info, ox, oy


def display_hint() -> str | None:
    """Why a visible browser cannot open here, and what to do (None when it can)."""
    import os
    import sys

    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") and not os.environ.get(
            "WAYLAND_DISPLAY"):
        return ("recording needs a visible browser and this machine has no display: run it under Xvfb, "
                "e.g. `xvfb-run operator record ...` (or use --headless to drive it from a script)")
    return None
