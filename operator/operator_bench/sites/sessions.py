"""A session cookie per visitor. The id is opaque; what it stands for (cart, sign-in,
a trip being booked) lives in the site's SQLite state, so the server decides when a
sign-in expires and a reset forgets every session at once.

Cookies ignore ports: the shop and the flights site both live on 127.0.0.1, so each
site names its own cookie."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .common import token


class SessionCookie:
    """ASGI middleware: every request gets scope['state']['sid']; a new visitor gets the cookie."""

    def __init__(self, app: ASGIApp, cookie: str) -> None:
        self.app = app
        self.cookie = cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sid = _read_cookie(scope, self.cookie)
        fresh = not sid
        if fresh:
            sid = token(18)
        scope.setdefault("state", {})["sid"] = sid

        async def send_with_cookie(message: Message) -> None:
            if fresh and message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                value = f"{self.cookie}={sid}; Path=/; HttpOnly; SameSite=Lax"
                headers.append((b"set-cookie", value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _read_cookie(scope: Scope, name: str) -> str:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                return ""
            morsel = jar.get(name)
            if morsel is not None and morsel.value.isascii() and 10 <= len(morsel.value) <= 64:
                return morsel.value
    return ""


def session_id(request: Request) -> str:
    return str(request.state.sid)
