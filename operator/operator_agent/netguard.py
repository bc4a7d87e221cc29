"""The browser's network, guarded: requests a page makes by itself (redirects,
window.open, meta refresh, form posts, images, beacons, WebSockets) never reach a
host the policy denies, and never carry a vault secret to an origin it is not
bound to (permissions.egress). Checking actions before they run is not enough: a
page can navigate or send without any action, and the arrival check after the
fact comes too late for the request itself.

Three hooks, installed on the context before the first page loads (session.py):
- Playwright's context route sees every request of every page, popup and worker,
  but not the hops of a redirect;
- so each page also gets a CDP Fetch hook at the request stage for every resource
  type, which sees each hop (the redirect's target is a new paused request) and
  fails it before it is sent;
- WebSockets through Playwright's WebSocket routing: the handshake URL is checked,
  and every frame the page sends is scanned before it is forwarded.
Service workers would send around all three: contexts we create block them
(launch.py); on an attached browser their registration is refused by script.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Callable
from typing import Any

from playwright.async_api import BrowserContext, Page, Route, WebSocketRoute
from playwright.async_api import Error as PlaywrightError

from .permissions.egress import Leak, SecretScanner
from .types import Verdict

Check = Callable[[str], Verdict]
OnLeak = Callable[[Leak], None]

# On a browser we attach to, service workers cannot be switched off for the context:
# registering one is refused in every frame instead.
_NO_SERVICE_WORKERS = """(() => {
  if (typeof ServiceWorkerContainer === 'undefined') return;
  const refuse = () => Promise.reject(new DOMException('service workers are blocked', 'SecurityError'));
  Object.defineProperty(ServiceWorkerContainer.prototype, 'register',
                        {value: refuse, writable: false, configurable: false});
})();"""


class NetworkGuard:
    """`check` refuses URLs (None: any host); `scanner` refuses secrets going where they
    are not bound (None or empty: no vault). Set both before install(), or later:
    the hooks read them on every request."""

    def __init__(self, context: BrowserContext, check: Check | None = None, *,
                 scanner: SecretScanner | None = None, on_leak: OnLeak | None = None,
                 block_service_workers: bool = False) -> None:
        self.context = context
        self.check = check
        self.scanner = scanner
        self.on_leak = on_leak  # e.g. the audit log (a Leak carries no value)
        self.block_service_workers = block_service_workers
        self.blocked: list[str] = []  # why requests were refused, for the model's next observation
        self._tasks: set[asyncio.Task[None]] = set()

    async def install(self) -> None:
        if self.block_service_workers:
            await self.context.add_init_script(script=_NO_SERVICE_WORKERS)
        await self.context.route("**/*", self._route)
        await self.context.route_web_socket(lambda _url: True, self._websocket)
        for page in self.context.pages:
            await self._hook_hops(page)
        self.context.on("page", lambda page: self._spawn(self._hook_hops(page)))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def refusal(self, url: str, headers: dict[str, str] | None = None, body: bytes | str | None = None,
                *, kind: str = "request") -> str | None:
        """Why this request must not leave the browser, or None. Both checks are ours:
        an error in them refuses the request rather than letting it through."""
        try:
            if self.check is not None and self.check(url).decision == "deny":
                return f"the browser refused to contact {url[:200]} (denied by the policy)"
            leak = self.scanner.scan(url, headers, body, kind=kind) if self.scanner else None
        except Exception as exc:  # a bug of ours must fail closed, not open
            return f"the browser refused a request it could not check ({type(exc).__name__})"
        if leak is None:
            return None
        if self.on_leak is not None:
            self.on_leak(leak)
        return f"the browser refused to send a secret: {leak.reason}"

    def _refused(self, why: str) -> None:
        self.blocked.append(why)

    async def _route(self, route: Route) -> None:
        request = route.request
        try:
            body = request.post_data_buffer
        except Exception:
            body = None
        why = self.refusal(request.url, request.headers, body)
        if why is not None:
            self._refused(why)
            with contextlib.suppress(PlaywrightError):
                await route.abort("blockedbyclient")
            return
        with contextlib.suppress(PlaywrightError):
            await route.fallback()

    async def _websocket(self, ws: WebSocketRoute) -> None:
        why = self.refusal(ws.url)
        if why is not None:
            self._refused(why)
            await ws.close(code=1008, reason="blocked")  # never connected to the server
            return
        server = ws.connect_to_server()

        def outgoing(message: str | bytes) -> None:
            why = self.refusal(ws.url, None, message, kind="message")
            if why is None:
                server.send(message)
                return
            self._refused(why)
            self._spawn(ws.close(code=1008, reason="blocked"))
            self._spawn(server.close(code=1008, reason="blocked"))

        ws.on_message(outgoing)  # what the server sends still reaches the page unchanged

    async def _hook_hops(self, page: Page) -> None:
        try:
            cdp = await self.context.new_cdp_session(page)
            cdp.on("Fetch.requestPaused", lambda event: self._spawn(self._paused(cdp, event)))
            await cdp.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})
        except PlaywrightError:
            pass  # a page closed while we hooked it: nothing left to guard

    async def _paused(self, cdp: Any, event: dict[str, Any]) -> None:
        request_id = event["requestId"]
        request = event.get("request") or {}
        why = self.refusal(request.get("url", ""), request.get("headers") or {}, _post_data(request))
        if why is not None:
            self._refused(why)
            with contextlib.suppress(PlaywrightError):
                await cdp.send("Fetch.failRequest",
                               {"requestId": request_id, "errorReason": "BlockedByClient"})
            return
        with contextlib.suppress(PlaywrightError):
            await cdp.send("Fetch.continueRequest", {"requestId": request_id})


def _post_data(request: dict[str, Any]) -> bytes | str | None:
    entries = request.get("postDataEntries")
    if entries:
        return b"".join(base64.b64decode(e.get("bytes", "")) for e in entries)
    return request.get("postData")
