"""Brightcart, the practice shop: wires the catalogue, the state, the payment processor
and the hazard knobs into one Starlette app (routes live in browse.py and checkout.py)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..common import Knobs, admin_routes, dollars, static_mount, templates
from ..payments import Processor
from ..sessions import SessionCookie, session_id
from ..variant import VariantMiddleware
from .catalog import CATEGORY_NAMES, Catalog
from .state import Account, ShopState

MERCHANT = "Brightcart"
SESSION_COOKIE = "bc_session"
CONSENT_COOKIE = "bc_consent"
NEWSLETTER_COOKIE = "bc_newsletter"


class Shop:
    def __init__(self, catalog: Catalog, state: ShopState, processor: Processor, knobs: Knobs,
                 payments_url: str) -> None:
        self.catalog = catalog
        self.state = state
        self.processor = processor
        self.knobs = knobs
        self.payments_url = payments_url
        self.tpl = templates("shop", categories=CATEGORY_NAMES, merchant=MERCHANT)

    # --- helpers for the routes ------------------------------------------------

    def account(self, request: Request) -> Account:
        return self.state.account(session_id(request), self.knobs.session_ttl_s)

    def render(self, request: Request, name: str, status: int = 200, *, quiet: bool = False,
               **ctx: Any) -> Response:
        """A page with the shared chrome. quiet: no newsletter pop-up (checkout pages)."""
        sid = session_id(request)
        consent = request.cookies.get(CONSENT_COOKIE)
        newsletter_seen = request.cookies.get(NEWSLETTER_COOKIE)
        delay = self.knobs.newsletter_delay_ms
        base = {
            "account": self.account(request),
            "cart_count": self.state.cart_count(sid),
            "cookie_banner": self.knobs.cookie_banner and not consent,
            "newsletter_delay": -1 if quiet or newsletter_seen or delay < 0 else delay,
            "q": request.query_params.get("q", ""),
        }
        return self.tpl.TemplateResponse(request, name, {**base, **ctx}, status_code=status)

    def cart(self, sid: str) -> dict[str, Any]:
        """The cart with prices from the catalogue: lines, item count and subtotal (cents)."""
        lines = []
        for line in self.state.cart_lines(sid):
            v = self.catalog.variant(line["variant_id"])
            if v is None:
                continue
            lines.append({
                "variant_id": v["id"], "product_id": v["product_id"], "sku": v["sku"], "title": v["title"],
                "colour": v["colour"], "size": v["size"], "colour_label": v["colour_label"],
                "size_label": v["size_label"], "hue": v["hue"], "quantity": line["qty"],
                "unit_price": v["price"], "line_total": v["price"] * line["qty"], "stock": v["stock"]})
        return {"lines": lines, "count": sum(x["quantity"] for x in lines),
                "subtotal": sum(x["line_total"] for x in lines)}

    # --- state endpoint -----------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        snap = self.state.snapshot()
        for cart in snap["carts"]:
            for item in cart["items"]:
                v = self.catalog.variant(item["variant_id"])
                if v is not None:
                    item.update(product_id=v["product_id"], title=v["title"], colour=v["colour"],
                                size=v["size"], unit_price=dollars(v["price"]))
        return {"site": "shop", "seed": self.catalog.seed, **snap,
                "payments": self.processor.submissions(MERCHANT), "knobs": self.knobs.as_dict()}

    def reset(self) -> None:
        self.state.reset()
        self.processor.reset(MERCHANT)
        self.knobs.restore()

    def app(self) -> Starlette:
        from . import browse, checkout

        async def expire(request: Request) -> Response:
            return JSONResponse({"expired": self.state.expire_sessions()})

        routes = [
            *browse.routes(self),
            *checkout.routes(self),
            *admin_routes(self.snapshot, self.reset, self.knobs),
            Route("/api/sessions/expire", expire, methods=["POST"]),
            static_mount("shop"),
        ]
        return Starlette(routes=routes, middleware=[
            Middleware(SessionCookie, cookie=SESSION_COOKIE),
            Middleware(VariantMiddleware, enabled=lambda: self.knobs.variant)])
