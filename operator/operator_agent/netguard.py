"""The browser's network, guarded: requests a page makes by itself (redirects,
window.open, meta refresh, form posts, images, beacons, WebSockets) never reach a
host the policy denies, and never carry a vault secret to an origin it is not
bound to (permissions.egress). Checking actions before they run is not enough: a
page can navigate or send without any action, and the arrival check after the
fact comes too late for the request itself.

Hooks, installed on the context before the first page loads (session.py):
- Playwright's context route sees every request of every page, popup and worker,
  but not the hops of a redirect; there a request that may pay (a POST and the
  like, in any frame) is also held to the person's approval of the purchase
  (permissions.payment_wire) before it is sent;
- so every target of the context (page, popup, cross-site frame) also gets a CDP
  Fetch hook at the request stage for every resource type, which sees each hop of
  its requests and its dedicated workers' (the redirect's target is a new paused
  request) and fails it before it is sent. The hooks are set on each new target
  before it runs (targetguard.py): a popup's first navigation, which can start
  before that, is paused at the browser level until its target is hooked, and its
  hops are checked there too;
- WebSockets through Playwright's WebSocket routing: the handshake URL is checked,
  and every frame the page sends is scanned before it is forwarded;
- a dedicated worker (blob: and nested ones included) has WebSocket and
  WebSocketStream replaced, before its own script runs, by constructors that
  refuse, whenever the guard can refuse anything: neither routing nor Fetch sees
  a worker's handshake.
Service workers would send around all of them: contexts we create block them
(launch.py); on an attached browser their registration is refused by script.
Shared workers are hooked too, but only once they already run: when the guard can
refuse anything, pages get no SharedWorker.
Not covered: a worker that an opener's script starts in a blank popup it just
opened, before that popup is hooked (a few milliseconds), runs its first script
before its WebSockets are refused.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Callable
from typing import Any

from playwright.async_api import BrowserContext, Request, Route, WebSocketRoute
from playwright.async_api import Error as PlaywrightError

from .permissions.egress import Leak, SecretScanner
from .permissions.payment_wire import SAFE_METHODS, Held, PaymentWire, WireRequest
from .targetguard import Reply, TargetHooks
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

# Shared workers run apart from any page and Chromium starts them on the first
# resume of any client (Playwright's), so our hooks on them come too late for their
# first requests: when the guard can refuse anything, pages get none. Absent rather
# than throwing, so that pages which test for them fall back.
_NO_SHARED_WORKERS = """(() => {
  if (typeof SharedWorker === 'undefined') return;
  Object.defineProperty(window, 'SharedWorker', {value: undefined, writable: false, configurable: false});
})();"""

# Run in every dedicated worker before its own script (targetguard): a worker's
# WebSocket passes neither Playwright's WebSocket routing (done by script in pages)
# nor CDP Fetch (which does not see handshakes), so workers get none. The original
# constructors are not kept anywhere the worker could reach them.
_NO_WORKER_WEBSOCKETS = """(() => {
  const refuse = function () {
    throw new DOMException("WebSockets from workers are blocked by the agent's network guard",
                           'SecurityError');
  };
  for (const name of ['WebSocket', 'WebSocketStream']) {
    if (name in self) {
      Object.defineProperty(self, name, {value: refuse, writable: false, configurable: false});
    }
  }
})();"""


class NetworkGuard:
    """`check` refuses URLs (None: any host); `scanner` refuses secrets going where they
    are not bound (None or empty: no vault). Set both before install(), or later:
    the hooks read them on every request."""

    def __init__(self, context: BrowserContext, check: Check | None = None, *,
                 scanner: SecretScanner | None = None, on_leak: OnLeak | None = None,
                 block_service_workers: bool = False, payments: PaymentWire | None = None) -> None:
        self.context = context
        self.check = check
        self.scanner = scanner
        self.payments: PaymentWire | None = None
        if payments is not None:
            self.hold_payments(payments)
        self.on_leak = on_leak  # e.g. the audit log (a Leak carries no value)
        self.block_service_workers = block_service_workers
        self.blocked: list[str] = []  # why requests were refused, for the model's next observation
        self._tasks: set[asyncio.Task[None]] = set()

    async def install(self) -> None:
        if self.block_service_workers:
            await self.context.add_init_script(script=_NO_SERVICE_WORKERS)
        await self.context.route("**/*", self._route)
        await self.context.route_web_socket(lambda _url: True, self._websocket)
        self._no_shared_workers: Any = None  # disposable, for when the guard is taken off
        if self._worker_script() is not None:
            self._no_shared_workers = await self.context.add_init_script(script=_NO_SHARED_WORKERS)
        # Every page, popup, cross-site frame and worker, hooked before it runs.
        self._targets = TargetHooks(self.context, self._paused, self._worker_script)
        await self._targets.install()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def hold_payments(self, payments: PaymentWire) -> None:
        """Requests that pay are held to what the person approved (permissions.payment_wire)."""
        self.payments = payments
        payments.attached = True

    async def remove(self) -> None:
        """The session is over on a context that lives on (the caller's): requests no longer
        come here, and hooks that cannot be taken off let everything pass."""
        self.check, self.scanner, self.payments = None, None, None
        with contextlib.suppress(PlaywrightError):
            await self.context.unroute("**/*", self._route)
        await self.unhook()

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
        held = None
        if why is None and self.payments is not None and request.method not in SAFE_METHODS:
            held = await self._payment(request, body)
            why = None if held is None or held.allowed else held.reason
        if why is not None:
            self._refused(why)
            with contextlib.suppress(PlaywrightError):
                await route.abort("blockedbyclient")
            return
        with contextlib.suppress(PlaywrightError):
            await route.fallback()
        if held is not None and held.charge is not None:
            self._spawn(self._count_when_taken(request, held))

    async def _payment(self, request: Request, body: bytes | None) -> Held | None:
        assert self.payments is not None
        try:
            return await self.payments.hold(WireRequest(
                url=request.url, method=request.method, body=body,
                content_type=request.headers.get("content-type", ""),
                submits_page=request.is_navigation_request()))
        except PlaywrightError:
            return None  # the page went away with its request
        except Exception as exc:  # a bug of ours must fail closed, not open
            return Held(False, f"the browser held back a request it could not check ({type(exc).__name__})")

    async def _count_when_taken(self, request: Request, held: Held) -> None:
        """A payment counts once the server has taken it: a declined card is not spending.
        (Cancelled before the answer, e.g. the browser closing, its reservation stays: it
        may have been taken, so it keeps counting against the limit.)"""
        payments = self.payments
        assert payments is not None
        try:
            response = await request.response()
        except PlaywrightError:
            response = None
        if response is not None and response.status < 400:
            payments.charged(held)
        else:
            payments.not_charged(held)

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

    async def unhook(self) -> None:
        """Take off what install() set beside the routes: the CDP target hooks and the
        script that hides SharedWorker (for a context that lives on after the session)."""
        no_shared_workers = getattr(self, "_no_shared_workers", None)
        self._no_shared_workers = None
        if no_shared_workers is not None:
            with contextlib.suppress(PlaywrightError):
                await no_shared_workers.close()
        targets: TargetHooks | None = getattr(self, "_targets", None)
        if targets is not None:
            await targets.close()

    def _worker_script(self) -> str | None:
        """What a new worker runs first: WebSockets refused, when the guard can refuse
        anything (their handshakes pass no hook of ours)."""
        if self.check is None and not self.scanner and self.payments is None:
            return None
        return _NO_WORKER_WEBSOCKETS

    async def _paused(self, reply: Reply, event: dict[str, Any]) -> None:
        """A request paused by a CDP Fetch hook (targetguard): failed or let go."""
        request_id = event["requestId"]
        request = event.get("request") or {}
        why = self.refusal(request.get("url", ""), request.get("headers") or {}, _post_data(request))
        try:
            if why is not None:
                self._refused(why)
                await reply("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"})
                return
            await reply("Fetch.continueRequest", {"requestId": request_id})
        except PlaywrightError:
            pass  # the request or its target went away


def _post_data(request: dict[str, Any]) -> bytes | str | None:
    entries = request.get("postDataEntries")
    if entries:
        return b"".join(base64.b64decode(e.get("bytes", "")) for e in entries)
    return request.get("postData")
