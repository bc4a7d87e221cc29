"""Pictures of a page for people (the trace), taken the cheap way.

Playwright's page.screenshot does more than a trace needs (it waits for fonts, hides the
caret through an injected style, lays masks over the page): about twice the time of the
browser's own capture. A trace picture is taken with CDP's Page.captureScreenshot as a
JPEG instead, only when nothing on the page must be masked; a page with a secret field,
and every picture a model sees, goes through page.screenshot and its masks.
"""

from __future__ import annotations

import base64
import logging
import weakref
from typing import Any

from playwright.async_api import CDPSession, Page

log = logging.getLogger(__name__)

# Pictures for people need not be exact: a JPEG costs a fraction of a PNG.
TRACE_JPEG_QUALITY = 60


class QuickShots:
    """One CDP session per page, opened on first use; None when the browser has none."""

    def __init__(self) -> None:
        self._sessions: weakref.WeakKeyDictionary[Page, CDPSession | None] = weakref.WeakKeyDictionary()

    async def jpeg(self, page: Page) -> bytes | None:
        """The viewport as a JPEG, or None (then page.screenshot does it)."""
        try:
            session = await self._session(page)
            if session is None:
                return None
            reply: dict[str, Any] = await session.send(
                "Page.captureScreenshot", {"format": "jpeg", "quality": TRACE_JPEG_QUALITY,
                                           "optimizeForSpeed": True})
            return base64.b64decode(reply["data"])
        except Exception as exc:  # a page closing or navigating: the slow path still has a go
            log.debug("quick screenshot failed: %s", exc)
            return None

    async def _session(self, page: Page) -> CDPSession | None:
        if page not in self._sessions:
            try:
                self._sessions[page] = await page.context.new_cdp_session(page)
            except Exception as exc:  # not Chromium
                log.debug("no CDP session for quick screenshots: %s", exc)
                self._sessions[page] = None
        return self._sessions[page]
