"""The practice sites' variant mode (knob `variant`): the same sites after a redesign.

Ids and class names are renamed (as a build step with hashed class names would),
the layout is reordered and some buttons are worded slightly differently. Used
to test that recorded skills still find their way (self-healing locators).

It is one ASGI middleware that rewrites HTML, CSS, JavaScript and JSON bodies on
the way out, so templates and scripts stay as they are: with the knob off,
nothing changes. Renaming is done consistently in every body (markup, styles and
the scripts that look elements up), so the sites keep working.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Distinctive tokens only: each is an id or class, never a form field name, a
# JSON key or visible text, so renaming it everywhere is safe.
RENAMED = (
    "site-search", "searchbar", "add-to-cart", "add-form", "added-dialog", "cookie-banner",
    "cookie-actions", "card-title", "card-price", "card-brand", "checkout-main", "checkout-layout",
    "results-layout", "btn-primary", "btn-secondary", "btn-cart", "buybox", "product-main",
    "dialog-actions", "saved-address", "address-form",
    "results-list", "select-flight", "btn-fare", "fare-form", "seat-form", "search-form", "search-row",
    "btn-search", "booking-main", "booking-layout", "result-main", "result-price", "depart-display",
    "form-actions", "btn-outline", "consent-actions", "cookie-consent",
    "pay-form", "pay-button", "card-number", "card-expiry", "card-cvc", "card-name", "pay-head",
)

# Slightly different wording on buttons (visible text in markup and scripts).
REWORDED = (
    ("Add to cart", "Add to basket"),
    ("Proceed to checkout", "Go to checkout"),
    ("Deliver to this address", "Ship to this address"),
    ("Reject non-essential", "Reject non-essential cookies"),
    ("Continue to payment", "Continue to pay"),
    ("Search flights", "Find flights"),
    ("Only necessary cookies", "Necessary cookies only"),
    ("Continue to passenger details", "Continue to passengers"),
    ("Choose Economy", "Select Economy"),
    ("Choose Business", "Select Business"),
    (">Pay $", ">Pay now $"),
)

# The layout moves: columns swap sides, the price goes above the title, banners move.
LAYOUT_CSS = """
.topbar-inner, .cookie-actions, .consent-actions, .form-actions, .row { flex-direction: row-reverse; }
.results-layout, .product, .checkout-layout, .search-row, .result-main, .booking-layout { direction: rtl; }
.results-layout > *, .product > *, .checkout-layout > *, .search-row > *, .result-main > *,
.booking-layout > * { direction: ltr; }
.card-price { order: -1; }
.cookie-banner { top: 0; bottom: auto; }
.dialog-actions { display: flex; flex-direction: row-reverse; gap: 8px; }
"""

_TYPES = ("text/html", "text/css", "javascript", "application/json")
_TOKEN = re.compile(r"(?<![\w-])(" + "|".join(sorted(map(re.escape, RENAMED), key=len, reverse=True))
                    + r")(?![\w-])")
_CONDITIONAL = {b"if-none-match", b"if-modified-since"}  # a cached original must not answer


def renamed(token: str) -> str:
    """The variant's name for an id or class: stable, unrelated-looking."""
    return "v" + hashlib.sha1(token.encode()).hexdigest()[:6]


def rewrite(body: str, content_type: str) -> str:
    if "text/html" in content_type and "</head>" in body:
        body = body.replace("</head>", f"<style>{LAYOUT_CSS}</style>\n</head>", 1)
    if "text/css" not in content_type:
        for old, new in REWORDED:
            body = body.replace(old, new)
    return _TOKEN.sub(lambda m: renamed(m.group(1)), body)


class VariantMiddleware:
    """Rewrites response bodies while `enabled()` says so (the `variant` knob)."""

    def __init__(self, app: ASGIApp, enabled: Callable[[], bool]) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.enabled():
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k not in _CONDITIONAL]}
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = dict(message.get("headers", [])).get(b"content-type", b"").decode("latin-1")
                if not any(t in kind for t in _TYPES):
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            kind = dict(start.get("headers", [])).get(b"content-type", b"").decode("latin-1")
            body = rewrite(b"".join(chunks).decode("utf-8"), kind).encode("utf-8")
            drop = {b"content-length", b"etag", b"last-modified", b"cache-control"}
            headers = [(k, v) for k, v in start.get("headers", []) if k not in drop]
            headers += [(b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffered)
