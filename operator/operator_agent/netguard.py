"""The browser's network, guarded: requests a page makes by itself (redirects,
window.open, meta refresh, form posts, images) never reach a host the policy
denies. Checking actions before they run is not enough: a page can navigate
without any action, and the arrival check after the fact comes too late for the
request itself.

Playwright's routes see every request but not the hops of a redirect, so each
page also gets a CDP Fetch hook at the response stage for documents, which fails
a redirect whose Location is denied before the browser follows it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from playwright.async_api import BrowserContext, Page, Route
from playwright.async_api import Error as PlaywrightError

from .types import Verdict

Check = Callable[[str], Verdict]
_REDIRECTS = {301, 302, 303, 307, 308}


class NetworkGuard:
    def __init__(self, context: BrowserContext, check: Check) -> None:
        self.context = context
        self.check = check
        self.blocked: list[str] = []  # URLs refused, for the model's next observation
        self._tasks: set[asyncio.Task[None]] = set()

    async def install(self) -> None:
        await self.context.route("**/*", self._route)
        for page in self.context.pages:
            await self._hook_redirects(page)
        self.context.on("page", lambda page: self._spawn(self._hook_redirects(page)))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _route(self, route: Route) -> None:
        url = route.request.url
        if self.check(url).decision == "deny":
            self.blocked.append(url)
            with contextlib.suppress(PlaywrightError):
                await route.abort("blockedbyclient")
            return
        with contextlib.suppress(PlaywrightError):
            await route.fallback()

    async def _hook_redirects(self, page: Page) -> None:
        try:
            cdp = await self.context.new_cdp_session(page)
            cdp.on("Fetch.requestPaused", lambda event: self._spawn(self._paused(cdp, event)))
            await cdp.send("Fetch.enable", {"patterns": [
                {"urlPattern": "*", "resourceType": "Document", "requestStage": "Response"}]})
        except PlaywrightError:
            pass  # a page closed while we hooked it: nothing left to guard

    async def _paused(self, cdp: Any, event: dict[str, Any]) -> None:
        request_id = event["requestId"]
        status = event.get("responseStatusCode")
        if status in _REDIRECTS:
            headers = {h["name"].lower(): h["value"] for h in event.get("responseHeaders") or []}
            target = urljoin(event["request"]["url"], headers.get("location", ""))
            if self.check(target).decision == "deny":
                self.blocked.append(target)
                with contextlib.suppress(PlaywrightError):
                    await cdp.send("Fetch.failRequest", {"requestId": request_id,
                                                         "errorReason": "BlockedByClient"})
                return
        with contextlib.suppress(PlaywrightError):
            await cdp.send("Fetch.continueRequest", {"requestId": request_id})
