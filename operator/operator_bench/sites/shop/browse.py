"""The shop's browsing routes: home, search, product pages, the cart, newsletter sign-up."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..common import money
from ..sessions import session_id
from .catalog import CATEGORY_NAMES, SORTS, SearchQuery

if TYPE_CHECKING:
    from .site import Shop


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def routes(shop: Shop) -> list[Route]:
    async def home(request: Request) -> Response:
        deals = shop.catalog.popular(8, "cables-adapters")
        popular = shop.catalog.popular(8)
        return shop.render(request, "home.html", deals=deals, popular=popular)

    async def search(request: Request) -> Response:
        query = SearchQuery.from_params(request.query_params)
        result = shop.catalog.search(query)
        if query.page == 1:
            shop.state.searched(query.q, query.category, result.total)
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]

        def page_url(n: int) -> str:
            return "/search?" + urlencode([*params, ("page", str(n))])

        def without(key: str, value: str | None = None) -> str:
            kept = [(k, v) for k, v in params if not (k == key and (value is None or v == value))]
            return "/search?" + urlencode(kept)

        shown = sorted({1, 2, result.pages - 1, result.pages, result.page - 1, result.page, result.page + 1}
                       & set(range(1, result.pages + 1)))
        page_links: list[int | None] = []  # None: a gap ("…")
        for n in shown:
            if page_links and n - (page_links[-1] or 0) > 1:
                page_links.append(None)
            page_links.append(n)
        heading = (f'Results for "{query.q}"' if query.q
                   else CATEGORY_NAMES.get(query.category, "All products"))
        return shop.render(request, "search.html", query=query, result=result, sorts=SORTS, heading=heading,
                           page_links=page_links,
                           page_url=page_url, without=without,
                           min_price=f"{query.min_price / 100:g}" if query.min_price is not None else "",
                           max_price=f"{query.max_price / 100:g}" if query.max_price is not None else "")

    async def product(request: Request) -> Response:
        item = shop.catalog.product(request.path_params["pid"])
        if item is None:
            return shop.render(request, "not_found.html", 404)
        variants = item["variants"]
        chosen = _choose(variants, request.query_params.get("colour"), request.query_params.get("size"))
        in_stock = [v for v in variants if v["stock"] > 0]
        variant_data = [{"id": v["id"], "colour": v["colour"], "size": v["size"], "price": money(v["price"]),
                         "stock": v["stock"]} for v in variants]
        stars = _star_breakdown(item)
        return shop.render(request, "product.html", p=item, chosen=chosen, sold_out=not in_stock,
                           variant_data=variant_data, related=shop.catalog.related(item), histogram=stars)

    async def cart_page(request: Request) -> Response:
        return shop.render(request, "cart.html", cart=shop.cart(session_id(request)),
                           message=request.query_params.get("msg", ""))

    async def cart_add(request: Request) -> Response:
        form = await request.form()
        sid = session_id(request)
        item = shop.catalog.product(_int(form.get("product_id")))
        error = ""
        variant = None
        qty = max(1, min(10, _int(form.get("quantity"), 1)))
        if item is None:
            error = "That product is no longer available."
        else:
            colour, size = form.get("colour") or None, form.get("size") or None
            if item["colours"] and not colour:
                error = f"Choose a {str(item['colour_label']).lower()}."
            elif item["sizes"] and not size:
                error = f"Choose a {str(item['size_label']).lower()}."
            else:
                variant = _choose(item["variants"], str(colour or ""), str(size or ""), exact=True)
                if variant is None:
                    error = "That combination is not available."
                elif variant["stock"] <= 0:
                    error = "Sorry, this option is out of stock."
        if error or variant is None or item is None:
            if _wants_json(request):
                return JSONResponse({"ok": False, "error": error}, status_code=422)
            pid = _int(form.get("product_id"))
            return RedirectResponse(f"/product/{pid}?{urlencode({'error': error})}", status_code=303)
        line_qty = shop.state.add_to_cart(sid, variant["id"], qty, variant["stock"])
        if _wants_json(request):
            cart = shop.cart(sid)
            return JSONResponse({
                "ok": True, "title": item["title"],
                "options": ", ".join(x for x in (variant["colour"], variant["size"]) if x),
                "quantity": qty, "line_quantity": line_qty, "price": money(variant["price"]),
                "cart_count": cart["count"], "subtotal": money(cart["subtotal"])})
        return RedirectResponse("/cart", status_code=303)

    async def cart_update(request: Request) -> Response:
        form = await request.form()
        vid = _int(form.get("variant_id"))
        qty = _int(form.get("quantity"), -1)
        if qty < 0:
            return RedirectResponse("/cart?msg=Enter+a+quantity+of+0+or+more.", status_code=303)
        shop.state.set_quantity(session_id(request), vid, qty)
        return RedirectResponse("/cart?msg=Your+cart+was+updated.", status_code=303)

    async def cart_remove(request: Request) -> Response:
        form = await request.form()
        shop.state.remove(session_id(request), _int(form.get("variant_id")))
        return RedirectResponse("/cart?msg=The+item+was+removed+from+your+cart.", status_code=303)

    async def newsletter(request: Request) -> Response:
        form = await request.form()
        email = str(form.get("email") or "").strip()
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            return JSONResponse({"ok": False, "error": "Enter a valid email address."}, status_code=422)
        shop.state.subscribe(email)
        return JSONResponse({"ok": True})

    return [
        Route("/", home),
        Route("/search", search),
        Route("/product/{pid:int}", product),
        Route("/cart", cart_page),
        Route("/cart/add", cart_add, methods=["POST"]),
        Route("/cart/update", cart_update, methods=["POST"]),
        Route("/cart/remove", cart_remove, methods=["POST"]),
        Route("/newsletter", newsletter, methods=["POST"]),
    ]


def _choose(variants: list[dict[str, Any]], colour: str | None, size: str | None,
            *, exact: bool = False) -> dict[str, Any] | None:
    """The variant with this colour and size; without exact, the best default
    (the requested options where given, preferring one in stock)."""
    def fits(v: dict[str, Any]) -> bool:
        return (not colour or v["colour"] == colour) and (not size or v["size"] == size)

    if exact:
        return next((v for v in variants if (v["colour"] or "") == (colour or "")
                     and (v["size"] or "") == (size or "")), None)
    matches = [v for v in variants if fits(v)] or variants
    return next((v for v in matches if v["stock"] > 0), matches[0] if matches else None)


def _star_breakdown(item: dict[str, Any]) -> list[tuple[int, int]]:
    """Percent of ratings per star, shaped around the average (the shown reviews are a sample)."""
    rating = item["rating"] or 0
    if not item["review_count"]:
        return [(s, 0) for s in range(5, 0, -1)]
    weights = {s: max(0.02, 1 - abs(s - rating) / 2.2) ** 2 for s in range(1, 6)}
    total = sum(weights.values())
    return [(s, round(100 * weights[s] / total)) for s in range(5, 0, -1)]
