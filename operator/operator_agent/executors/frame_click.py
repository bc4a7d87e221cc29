"""Clicks on an element inside a child frame, checked on arrival.

Chromium sends a mouse event to a frame's process by where it last saw that frame
drawn. When that picture is behind the page (a frame that was just scrolled to or
moved, a busy machine), the press goes to the page around the frame: nothing is
clicked, and Playwright's click returns as if it had been (its own check of what is
under the point runs in the documents, which are right). On a card form that is a
Pay button that never pays, and a model told "clicked".

So the frame and the documents around it are watched while the click is made: every
trusted pointer and mouse event of a click (down, up, click) is counted. A click of
which the frame saw nothing (the page around it got it, or no document saw any of it)
is made again once they have all drawn a new picture; if it goes astray again, a
button or link is pressed with the keyboard (focus, Enter: keys go to the focused
frame, wherever it is drawn), and anything else is reported as not clicked. A page
that eats every one of those events eats the second click too: nothing is done twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Literal

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, JSHandle, Locator

from ..perception.browser import ClosedRootLocator
from ..protocols import ActionError

# Counts the trusted events of a click reaching this document (capture phase on the window:
# before the page's own listeners on the document or its elements).
_WATCH_JS = """() => {
  let seen = 0;
  const on = (e) => { if (e.isTrusted) seen++; };
  const kinds = ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click'];
  for (const k of kinds) addEventListener(k, on, true);
  return { stop() { for (const k of kinds) removeEventListener(k, on, true); return seen; } };
}"""

# Resolves once this document has drawn twice (a picture that includes every change so far).
_DRAWN_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"

# Elements whose activation the keyboard gives: Enter on them is their click.
_KEYABLE_JS = """el => el.matches('button, a[href], summary, input[type=submit], input[type=button],'
  + ' input[type=reset], input[type=image], [role=button], [role=link]') && !el.disabled"""

Where = Literal["frame", "around", "nowhere"]


@dataclass
class _Watch:
    frame: JSHandle | None
    around: list[JSHandle | None]  # the documents the frame sits in, up to the page's own

    async def where(self) -> Where:
        """Which document the click reached (stopping every watch)."""
        inside, *outside = await asyncio.gather(_stop(self.frame), *(_stop(h) for h in self.around))
        if inside is None or inside > 0:  # (a frame that went elsewhere: the click did something)
            return "frame"
        return "around" if any(outside) else "nowhere"


def frames_up(frame: Frame) -> list[Frame]:
    """The frame, its parent, and so on up to the page's main frame."""
    chain = [frame]
    while (parent := chain[-1].parent_frame) is not None:
        chain.append(parent)
    return chain


async def _watch(frame: Frame) -> _Watch:
    handles = await asyncio.gather(*(f.evaluate_handle(_WATCH_JS) for f in frames_up(frame)),
                                   return_exceptions=True)
    inside, *outside = (h if isinstance(h, JSHandle) else None for h in handles)
    return _Watch(inside, outside)


async def _stop(handle: JSHandle | None) -> int | None:
    """The events a watch counted; None when its document is gone (navigated away)."""
    if handle is None:
        return None
    try:
        return int(await handle.evaluate("w => w.stop()"))
    except PlaywrightError:
        return None
    finally:
        with contextlib.suppress(PlaywrightError):
            await handle.dispose()


async def _drawn(*frames: Frame) -> None:
    with contextlib.suppress(PlaywrightError, TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(f.evaluate(_DRAWN_JS) for f in frames)), 2.0)


_WENT: dict[Where | None, str] = {"around": "went to the page around its frame",
                                  "nowhere": "reached no document", None: ""}


async def click_into_frame(loc: Locator | ClosedRootLocator, frame: Frame, *, button: str = "left",
                           double: bool = False, timeout: float | None = None) -> str:
    """Click `loc`, an element of the child frame `frame`, and make sure the click got
    there. Returns "" when it did at once, else a note of how it was made to arrive;
    ActionError when it could not be."""
    first: Where | None = None
    for attempt in range(2):
        if attempt:
            await _drawn(*frames_up(frame))
        watch = await _watch(frame)
        await loc.click(button=button, click_count=2 if double else 1, timeout=timeout)  # type: ignore[arg-type]
        where = await watch.where()
        if where == "frame":
            return "" if not attempt else f"clicked again: the first click {_WENT[first]}"
        first = first or where
    astray = f"the first click {_WENT[first]}, and the second did not reach it either"
    if button != "left" or double or not await loc.evaluate(_KEYABLE_JS):
        raise ActionError(f"not clicked: {astray}; look again and retry")
    await loc.press("Enter", timeout=timeout)
    return f"pressed Enter on it instead: {astray}"
