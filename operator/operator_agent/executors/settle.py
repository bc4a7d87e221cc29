"""Waiting for a page to settle after an action, on evidence instead of fixed windows.

An action is done when what it caused is done:
- the navigation it started (the document request, then domcontentloaded);
- the requests it triggered (every request in flight, and a short grace after the last one
  ends, for the script that reads a response and sends the next), and the page's fetch and
  XHR calls from the moment they are made (the browser reports a request later, after any
  hold on it, such as the network guard's);
- the short timers the page set meanwhile (a debounced search sends its request 120 ms
  after the keystroke): timers, and the first tick of intervals, set within `timer_window`
  ms of the action with a delay of at most `timer_window` ms, read from an in-page tracker;
- the DOM mutations it made: once they start, until none came for `dom_quiet` ms;
- the tab it opens (window.open, a link or form aimed at another window, a modified click),
  until the browser reports the new page.
With no evidence of anything, it returns at once: there is no fixed floor per action.
Every wait has a cap, so a page that never stops (a ticker, a poller) costs the cap.

The tracker is added to each document before its scripts run (an init script), or on first
use on a page that predates it. It only counts; a page that tampers with it changes how
long we wait, never what is allowed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.async_api import BrowserContext, Page, Request
from playwright.async_api import Error as PlaywrightError


@dataclass(kw_only=True)
class SettleOptions:
    """How long to wait for the page to settle after an action (milliseconds)."""

    navigation_cap: int = 15_000
    network_grace: int = 40  # after the last request ends: the next one a response starts
    network_cap: int = 3_000  # the whole evidence wait, after the document is loaded
    dom_quiet: int = 60  # mutations came: no new one for this long
    dom_cap: int = 2_000
    timer_window: int = 1_000  # timers set this soon after the action, due this soon
    action_timeout: int = 5_000
    # The whole action, whatever it awaits (a page script that never returns, a dialog): a
    # stuck page ends as a failed action the model hears about, never as a hang.
    whole_action_cap: int = 60_000


_TRACKER = "__oaSettle"
_SOON_MS = 50  # what a javascript: link's code, queued by the click, is given to start

# Installs the tracker once per document: when the DOM last changed (our own stamps aside),
# the short timers pending (when each was set and is due), and whether the document is being
# left (beforeunload: a navigation has begun, its request may not be seen yet).
_INSTALL = """if (!window.%(name)s) {
  const t = {doc: Math.random().toString(36).slice(2), last: -1, timers: new Map(), leaving: -1,
             opened: -1, ready: -1, soon: -1, fetches: new Map(), fetched: -1, n: 0};
  // The parser's own insertions are the load, not something to wait out once it is done.
  document.addEventListener('DOMContentLoaded', () => { t.ready = performance.now(); }, true);
  // setTimeout's callback and an interval's first tick are awaited; an interval's later
  // ticks are the page's own life. Code given as a string is left alone.
  const track = (set, clear) => {
    const native = window[set], nativeClear = window[clear];
    window[set] = function (fn, delay, ...args) {
      if (typeof fn !== 'function') return native.call(window, fn, delay, ...args);
      const ms = Number(delay) || 0, at = performance.now();
      const id = native.call(window, function () { t.timers.delete(id); return fn.apply(this, args); }, ms);
      if (ms <= %(window)d) t.timers.set(id, [at, at + ms]);
      return id;
    };
    window[clear] = function (id) { t.timers.delete(id); return nativeClear.call(window, id); };
  };
  track('setTimeout', 'clearTimeout');
  track('setInterval', 'clearInterval');
  // The page's own fetch and XHR, from the moment they are called: the browser reports a
  // request a little later, after any hold on it (the network guard's).
  const began = () => { const id = ++t.n; t.fetches.set(id, performance.now()); return id; };
  const ended = id => { t.fetches.delete(id); t.fetched = performance.now(); };
  const nativeFetch = window.fetch;
  if (nativeFetch) {
    window.fetch = function (...args) {
      const id = began();
      try {
        const p = nativeFetch.apply(this, args);
        p.then(() => ended(id), () => ended(id));
        return p;
      } catch (err) { ended(id); throw err; }
    };
  }
  const nativeSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    const id = began();
    this.addEventListener('loadend', () => ended(id), {once: true});
    return nativeSend.apply(this, args);
  };
  new MutationObserver(muts => {
    if (muts.every(m => m.type === 'attributes' && m.attributeName === 'data-oa')) return;
    t.last = performance.now();
  }).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  // Leaving the document: beforeunload comes once a navigation begins, but a form's
  // submission begins a task later, so a submit nobody prevented counts at once.
  const leave = () => { t.leaving = performance.now(); };
  window.addEventListener('beforeunload', leave, true);
  window.addEventListener('submit', e => { if (!e.defaultPrevented) leave(); });
  const nativeSubmit = HTMLFormElement.prototype.submit;
  HTMLFormElement.prototype.submit = function () { leave(); return nativeSubmit.call(this); };
  // A new tab or window on its way: window.open, a link or form aimed elsewhere, a modified click.
  const nativeOpen = window.open;
  window.open = function (...args) { t.opened = performance.now(); return nativeOpen.apply(window, args); };
  const away = target => !!target && !/^_(self|parent|top)$/i.test(target);
  const clicked = e => {
    const link = e.target instanceof Element ? e.target.closest('a[href], area[href]') : null;
    const modified = e.ctrlKey || e.metaKey || e.shiftKey || e.button === 1;
    if (link && (away(link.getAttribute('target')) || modified)) t.opened = performance.now();
  };
  document.addEventListener('click', clicked, true);
  // A javascript: link runs its code in a task after the click: give it that task's time.
  window.addEventListener('click', e => {
    const link = e.target instanceof Element ? e.target.closest('a[href], area[href]') : null;
    if (link && !e.defaultPrevented && /^\\s*javascript:/i.test(link.getAttribute('href'))) {
      t.soon = performance.now();
    }
  });
  document.addEventListener('auxclick', clicked, true);
  document.addEventListener('submit', e => {
    const to = (e.submitter && e.submitter.getAttribute('formtarget')) || e.target.getAttribute('target');
    if (away(to)) t.opened = performance.now();
  }, true);
  Object.defineProperty(window, '%(name)s', {value: t, enumerable: false});
}"""

# What is still going on since `since` (a time of this document, or -1 for its start).
_STATE_JS = """([doc, since, windowMs]) => {
  %(install)s
  const t = window.%(name)s, now = performance.now();
  const from = t.doc === doc ? since : 0;
  const changedFrom = t.doc === doc ? since : (t.ready >= 0 ? t.ready : 0);
  let due = 0;
  for (const [set, at] of t.timers.values()) {
    if (set >= from && set - from <= windowMs && at > now) due = Math.max(due, at - now);
  }
  // A navigation that never commits (a download, a 204) stops counting after the window.
  const leaving = t.leaving >= from && now - t.leaving < windowMs;
  const opening = t.opened >= from && now - t.opened < windowMs;
  if (t.soon >= from) due = Math.max(due, t.soon + %(soon)d - now);
  if (t.fetched >= from) due = Math.max(due, t.fetched + %(grace)d - now);
  let fetching = false;
  for (const at of t.fetches.values()) if (at >= from) fetching = true;
  return {doc: t.doc, now, due, leaving, opening, fetching,
          quiet: t.last > changedFrom ? now - t.last : null};
}"""


# Long-lived connections never go quiet; waiting on them would always hit the cap.
_IGNORED_RESOURCES = {"websocket", "eventsource", "media", "ping"}


class NetworkWatch:
    """A page's requests in flight, when the last one ended, and its main-frame navigations."""

    def __init__(self) -> None:
        self.pending: set[Request] = set()
        self.changed = asyncio.Event()
        self.navigations = 0  # of the main frame: a new document means stale indexes
        self.started = 0  # requests seen, ever: did the action send any?
        self.last_end = 0.0  # loop time the last request ended

    def attach(self, page: Page) -> None:
        page.on("request", self._start)
        page.on("requestfinished", self._end)
        page.on("requestfailed", self._end)
        page.on("framenavigated", lambda frame: self._navigated(page, frame))

    def _navigated(self, page: Page, frame: object) -> None:
        if frame is page.main_frame:
            self.navigations += 1
            self.changed.set()

    def _start(self, request: Request) -> None:
        if request.resource_type not in _IGNORED_RESOURCES:
            self.pending.add(request)
            self.started += 1
            self.changed.set()

    def _end(self, request: Request) -> None:
        if request in self.pending:
            self.pending.discard(request)
            # The grace is for a script that reads a response and sends the next request. A
            # document's scripts have not run when it arrives; their fetches are counted in
            # the page as they are made, so a navigation ends without it.
            if request.resource_type != "document":
                self.last_end = asyncio.get_running_loop().time()
            self.changed.set()


@dataclass
class Mark:
    """The moment an action began, as the page and the watch saw it."""

    doc: str = ""
    time: float = -1.0
    requests: int = 0


class Settler:
    """Marks a page before an action and waits on the evidence of what it caused."""

    def __init__(self, context: BrowserContext | None, options: SettleOptions) -> None:
        self.options = options
        self.context = context
        install = _INSTALL % {"name": _TRACKER, "window": options.timer_window}
        self._init_script = f"(() => {{ {install} }})()"
        self._state = _STATE_JS % {"name": _TRACKER, "install": install, "soon": _SOON_MS,
                                   "grace": options.network_grace}
        self._registered = context is None

    async def mark(self, page: Page, watch: NetworkWatch) -> Mark:
        """Now, before an action: what happens after this is what the action caused."""
        if not self._registered:  # new documents carry the tracker before their scripts run
            self._registered = True
            with contextlib.suppress(PlaywrightError):
                await self.context.add_init_script(self._init_script)  # type: ignore[union-attr]
        state = await self._read(page, Mark())
        if state is None:
            return Mark(requests=watch.started)
        return Mark(doc=state["doc"], time=float(state["now"]), requests=watch.started)

    async def settle(self, page: Page, watch: NetworkWatch, mark: Mark | None = None, *,
                     opened: Callable[[], bool] = lambda: False) -> None:
        """Wait for the navigation, requests, timers and mutations since `mark` (None: since
        the document began), and for a tab the page is opening until `opened()`, each
        bounded; return as soon as none is left."""
        o = self.options
        mark = mark or Mark()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(PlaywrightError):  # a slow page is observed as it is
            await page.wait_for_load_state("domcontentloaded", timeout=o.navigation_cap)
        deadline = loop.time() + o.network_cap / 1000
        dom_deadline = loop.time() + o.dom_cap / 1000
        navigations = watch.navigations
        while True:
            state = await self._read(page, mark)
            if state is None or watch.navigations != navigations:  # a new document replaced it
                navigations = watch.navigations
                with contextlib.suppress(PlaywrightError):
                    await page.wait_for_load_state("domcontentloaded", timeout=o.navigation_cap)
                mark = Mark()  # everything the new document does counts
                if loop.time() >= deadline:
                    return
                continue
            waits: list[float] = []
            if watch.pending or state["leaving"] or state["fetching"]:  # woken by network events
                waits.append(o.network_cap / 1000 if watch.pending else 0.05)
            elif watch.started > mark.requests:
                grace = watch.last_end + o.network_grace / 1000 - loop.time()
                if grace > 0:
                    waits.append(grace)
            if state["opening"] and not opened():
                waits.append(0.05)  # woken when the context reports the new page
            if state["due"] > 0:
                waits.append(state["due"] / 1000 + 0.005)
            quiet = state["quiet"]
            if quiet is not None and quiet < o.dom_quiet and loop.time() < dom_deadline:
                waits.append((o.dom_quiet - quiet) / 1000)
            left = deadline - loop.time()
            if not waits or left <= 0:
                return
            watch.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watch.changed.wait(), min(min(waits), left))

    async def _read(self, page: Page, mark: Mark) -> dict[str, Any] | None:
        try:
            state = await page.evaluate(self._state, [mark.doc, mark.time, self.options.timer_window])
        except PlaywrightError:  # the document went away under us (a navigation)
            return None
        return state if isinstance(state, dict) else None
