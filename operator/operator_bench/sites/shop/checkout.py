"""The shop's account and checkout routes: sign-in (which expires), shipping address,
delivery option, card payment in Paylane's cross-origin iframe, the order confirmation
and the order history."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..common import origin_of
from ..sessions import session_id
from .state import DEMO_ADDRESS, SHIPPING, SHIPPING_BY_CODE, USERS, shipping_price

if TYPE_CHECKING:
    from .site import Shop

ADDRESS_FIELDS = (  # name, label, required
    ("full_name", "Full name", True), ("line1", "Address line 1", True), ("line2", "Address line 2", False),
    ("city", "City", True), ("state", "State", True), ("postcode", "ZIP code", True),
    ("country", "Country", True), ("phone", "Phone number", False),
)
COUNTRIES = ("United States", "Canada", "United Kingdom", "Ireland", "Germany", "France", "Portugal", "Spain")


def _safe_next(value: str) -> str:
    """Only a path on this site: never an open redirect."""
    return value if value.startswith("/") and not value.startswith("//") and "\\" not in value else "/"


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def validate_address(form: Any) -> tuple[dict[str, str], dict[str, str]]:
    address = {name: str(form.get(name) or "").strip() for name, _, _ in ADDRESS_FIELDS}
    errors: dict[str, str] = {}
    for name, label, required in ADDRESS_FIELDS:
        if required and not address[name]:
            errors[name] = f"Enter your {label.lower()}." if name != "country" else "Choose a country."
    if address["country"] and address["country"] not in COUNTRIES:
        errors["country"] = "We don't deliver to that country yet."
    if (address["postcode"] and address["country"] == "United States"
            and not re.fullmatch(r"\d{5}(-\d{4})?", address["postcode"])):
        errors["postcode"] = "Enter a valid ZIP code (5 digits)."
    return address, errors


def routes(shop: Shop) -> list[Route]:
    def gate(request: Request, resume: str | None = None) -> Response | None:
        """None when signed in; otherwise a redirect to sign in and come back."""
        account = shop.account(request)
        if account.signed_in:
            return None
        back = resume or request.url.path + (f"?{request.url.query}" if request.url.query else "")
        reason = "expired" if account.expired else "required"
        return _redirect("/signin?" + urlencode({"next": back, "reason": reason}))

    def totals(sid: str) -> dict[str, Any]:
        cart = shop.cart(sid)
        progress = shop.state.checkout(sid)
        option = SHIPPING_BY_CODE.get(progress["shipping"] or "")
        shipping = shipping_price(option, cart["subtotal"]) if option else 0
        return {"cart": cart, "address": progress["address"], "option": option, "shipping": shipping,
                "total": cart["subtotal"] + shipping}

    # --- sign-in --------------------------------------------------------------

    async def signin(request: Request) -> Response:
        nxt = _safe_next(request.query_params.get("next", "/"))
        reason = request.query_params.get("reason", "")
        errors: dict[str, str] = {}
        email = shop.account(request).email or ""
        if request.method == "POST":
            form = await request.form()
            email = str(form.get("email") or "").strip()
            password = str(form.get("password") or "")
            nxt = _safe_next(str(form.get("next") or "/"))
            if not email:
                errors["email"] = "Enter your email address."
            if not password:
                errors["password"] = "Enter your password."
            if not errors:
                if shop.state.sign_in(session_id(request), email, password):
                    return _redirect(nxt)
                errors["form"] = "The email or password you entered is incorrect."
            reason = ""
        return shop.render(request, "signin.html", 401 if errors.get("form") else 200, quiet=True,
                           next=nxt, reason=reason, errors=errors, email=email)

    async def signout(request: Request) -> Response:
        shop.state.sign_out(session_id(request))
        return _redirect("/")

    # --- checkout steps --------------------------------------------------------

    async def shipping_step(request: Request) -> Response:
        if (r := gate(request, "/checkout/shipping")) is not None:
            return r
        sid = session_id(request)
        if not shop.state.cart_lines(sid):
            return _redirect("/cart")
        account = shop.account(request)
        saved = USERS.get(account.email or "", {}).get("address")
        errors: dict[str, str] = {}
        address = shop.state.checkout(sid)["address"] or {}
        if request.method == "POST":
            form = await request.form()
            if form.get("choice") == "saved" and saved:
                shop.state.save_checkout(sid, address=dict(saved))
                return _redirect("/checkout/delivery")
            address, errors = validate_address(form)
            if not errors:
                shop.state.save_checkout(sid, address=address)
                return _redirect("/checkout/delivery")
        elif address == saved:
            address = {}
        return shop.render(request, "checkout_shipping.html", 422 if errors else 200, quiet=True, step=1,
                           saved=saved, address=address, errors=errors, fields=ADDRESS_FIELDS,
                           countries=COUNTRIES, totals=totals(sid))

    async def delivery_step(request: Request) -> Response:
        if (r := gate(request, "/checkout/delivery")) is not None:
            return r
        sid = session_id(request)
        t = totals(sid)
        if not t["cart"]["lines"]:
            return _redirect("/cart")
        if not t["address"]:
            return _redirect("/checkout/shipping")
        error = ""
        if request.method == "POST":
            form = await request.form()
            code = str(form.get("shipping") or "")
            if code in SHIPPING_BY_CODE:
                shop.state.save_checkout(sid, shipping=code)
                return _redirect("/checkout/payment")
            error = "Choose a delivery option."
        options = [(o, shipping_price(o, t["cart"]["subtotal"])) for o in SHIPPING]
        return shop.render(request, "checkout_delivery.html", 422 if error else 200, quiet=True, step=2,
                           options=options, chosen=(t["option"].code if t["option"] else "standard"),
                           error=error, totals=t)

    async def payment_step(request: Request, error: str = "") -> Response:
        if (r := gate(request, "/checkout/payment")) is not None:
            return r
        sid = session_id(request)
        t = totals(sid)
        if not t["cart"]["lines"]:
            return _redirect("/cart")
        if not t["address"] or not t["option"]:
            return _redirect("/checkout/shipping" if not t["address"] else "/checkout/delivery")
        origin = origin_of(request)
        intent = shop.processor.create_intent(
            merchant="Brightcart", amount=t["total"], currency="USD",
            description=f"Brightcart order, {t['cart']['count']} item(s)", origin=origin)
        return shop.render(request, "checkout_payment.html", 402 if error else 200, quiet=True, step=3,
                           totals=t, intent=intent, error=error,
                           pay_src=f"{shop.payments_url}/pay/{intent}?{urlencode({'parent': origin})}")

    async def complete(request: Request) -> Response:
        account = shop.account(request)
        if not account.email:
            return _redirect("/signin?" + urlencode({"next": "/checkout/payment", "reason": "required"}))
        sid = session_id(request)
        form = await request.form()
        t = totals(sid)
        if not t["cart"]["lines"] or not t["address"] or not t["option"]:
            return _redirect("/cart")
        payment = shop.processor.capture(str(form.get("intent") or ""), merchant="Brightcart",
                                         amount=t["total"])
        if payment is None:
            return await payment_step(request, "We could not confirm your payment, so your order was not"
                                               " placed. Please enter your card details again.")
        keep = ("product_id", "variant_id", "sku", "title", "colour", "size", "quantity", "unit_price",
                "line_total")
        lines = [{k: line[k] for k in keep} for line in t["cart"]["lines"]]
        number = shop.state.place_order(sid, account.email, lines, subtotal=t["cart"]["subtotal"],
                                        shipping=t["shipping"], option=t["option"].code, address=t["address"],
                                        payment=payment)
        return _redirect(f"/orders/{number}?placed=1")

    # --- orders ---------------------------------------------------------------

    async def orders(request: Request) -> Response:
        if (r := gate(request)) is not None:
            return r
        mine = list(reversed(shop.state.orders(shop.account(request).email)))
        return shop.render(request, "orders.html", orders=mine, options=SHIPPING_BY_CODE)

    async def order(request: Request) -> Response:
        if (r := gate(request)) is not None:
            return r
        found = shop.state.order(request.path_params["number"])
        if found is None or found["email"] != shop.account(request).email:
            return shop.render(request, "not_found.html", 404)
        return shop.render(request, "order.html", quiet=True, order=found, options=SHIPPING_BY_CODE,
                           placed=request.query_params.get("placed") == "1", demo_address=DEMO_ADDRESS)

    async def checkout_start(request: Request) -> Response:
        return _redirect("/checkout/shipping")

    return [
        Route("/signin", signin, methods=["GET", "POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/checkout", checkout_start),
        Route("/checkout/shipping", shipping_step, methods=["GET", "POST"]),
        Route("/checkout/delivery", delivery_step, methods=["GET", "POST"]),
        Route("/checkout/payment", payment_step),
        Route("/checkout/complete", complete, methods=["POST"]),
        Route("/orders", orders),
        Route("/orders/{number}", order),
    ]
