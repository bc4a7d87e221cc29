"""The practice shop driven with plain Playwright: search, product pages, the cart, and a
purchase through sign-in, shipping, delivery and a card payment in a cross-origin iframe.
The outcome is checked on the server (the state endpoint), not only on the page."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from playwright.async_api import Page, Route, expect

from operator_bench.sites import PracticeSites
from operator_bench.sites.shop.catalog import SearchQuery
from operator_bench.sites.shop.state import DEMO_EMAIL, DEMO_PASSWORD

SIGN_IN = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "next": "/"}


def _money(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def _product_with_variants(sites: PracticeSites, **query: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A product from the first result page with two or more in-stock variants, and a
    variant of it that is not the page's default one."""
    assert sites.shop is not None
    for item in sites.shop.catalog.search(SearchQuery(**query)).items:
        product = sites.shop.catalog.product(item["id"])
        assert product is not None
        in_stock = [v for v in product["variants"] if v["stock"] > 0]
        if len(in_stock) >= 2 and product["colours"] and product["sizes"]:
            return product, in_stock[-1]
    raise AssertionError("no product with variants on the first page")


def _add_form(product: dict[str, Any], variant: dict[str, Any]) -> dict[str, str]:
    return {"product_id": str(product["id"]), "colour": variant["colour"], "size": variant["size"],
            "quantity": "1"}


async def _fill_card(page: Page, number: str, *, expiry: str = "12 / 34", cvc: str = "123") -> None:
    card = page.frame_locator("#payment-frame")
    await card.get_by_label("Card number").fill(number)
    await card.get_by_label("Expiry date").fill(expiry)
    await card.get_by_label("Security code (CVC)").fill(cvc)
    await card.get_by_label("Name on card").fill("Alex Morgan")
    await card.get_by_role("button", name=re.compile(r"^Pay \$")).click()


async def _to_payment_step(sites: PracticeSites, page: Page) -> dict[str, Any]:
    """Cart with one item, signed in, saved address, standard delivery: the payment page."""
    product, variant = _product_with_variants(sites, q="usb-c cable", max_price=1500)
    shop = sites.shop_url
    await page.request.post(f"{shop}/cart/add", form=_add_form(product, variant))
    await page.request.post(f"{shop}/signin", form=SIGN_IN)
    await page.goto(f"{shop}/checkout/shipping")
    await page.get_by_role("button", name="Deliver to this address").click()
    await page.get_by_role("button", name="Continue to payment").click()
    await expect(page.get_by_role("heading", name="Payment", exact=True)).to_be_visible()
    return variant


async def test_buy_a_usb_c_cable_variant_through_sign_in_shipping_and_card(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    product, variant = _product_with_variants(sites, q="usb-c cable", max_price=1500)

    await page.goto(sites.shop_url)
    await page.get_by_label("Search Brightcart").fill("usb-c cable")
    await page.get_by_label("Search Brightcart").press("Enter")
    await expect(page.get_by_role("heading", name='Results for "usb-c cable"')).to_be_visible()
    await page.get_by_label("Max price ($)").fill("15")
    await page.get_by_role("button", name="Apply price").click()
    await expect(page.get_by_role("link", name="Remove maximum price")).to_be_visible()
    prices = [_money(t) for t in await page.locator(".card-price .price").all_inner_texts()]
    assert prices and max(prices) <= 15

    await page.get_by_role("link", name=product["title"], exact=True).click()
    await expect(page.get_by_role("heading", name=product["title"])).to_be_visible()
    await page.get_by_label(variant["colour"], exact=True).check()
    await page.get_by_label(product["size_label"]).select_option(variant["size"])
    unit = variant["price"] / 100
    await expect(page.locator(".buybox [data-price]")).to_have_text(f"${unit:,.2f}")
    await page.get_by_role("button", name="Add to cart").click()
    dialog = page.get_by_role("dialog", name="Added to cart")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("link", name="Go to cart").click()

    await page.get_by_label(f"Quantity for {product['title']}", exact=True).fill("2")
    await page.get_by_role("button", name=f"Update quantity for {product['title']}").click()
    await expect(page.get_by_role("status")).to_have_text("Your cart was updated.")
    await expect(page.locator(".cart-subtotal")).to_contain_text(f"${2 * unit:,.2f}")
    await page.locator(".checkout-box").get_by_role("link", name="Proceed to checkout").click()

    await expect(page.get_by_text("Please sign in to continue.")).to_be_visible()
    await page.get_by_label("Email address").fill(DEMO_EMAIL)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Choose a shipping address")).to_be_visible()
    await page.get_by_role("button", name="Deliver to this address").click()
    await page.get_by_label("Express delivery").check()
    await page.get_by_role("button", name="Continue to payment").click()
    total = round(2 * unit + 9.99, 2)
    await expect(page.locator(".summary .grand dd")).to_have_text(f"${total:,.2f}")

    await _fill_card(page, "4242 4242 4242 4242")
    await expect(page.get_by_role("heading", name="Thank you, your order has been placed.")).to_be_visible()
    number = await page.locator("#order-number").inner_text()
    await expect(page.locator("#order-total")).to_have_text(f"${total:,.2f}")

    state = sites.state("shop")
    assert len(state["orders"]) == 1
    order = state["orders"][0]
    assert order["number"] == number and order["email"] == DEMO_EMAIL
    lines = [(i["variant_id"], i["quantity"], i["unit_price"]) for i in order["items"]]
    assert lines == [(variant["id"], 2, unit)]
    assert order["items"][0]["colour"] == variant["colour"] and order["items"][0]["size"] == variant["size"]
    assert order["subtotal"] == round(2 * unit, 2) and order["shipping"] == 9.99 and order["total"] == total
    assert order["shipping_option"] == "express" and order["address"]["city"] == "Springfield"
    assert order["payment"]["last4"] == "4242"
    assert [(p["status"], p["amount"], p["last4"], p["merchant"]) for p in state["payments"]] == [
        ("approved", total, "4242", "Brightcart")]
    assert state["carts"] == []  # the order emptied it
    assert "4242424242424242" not in json.dumps(sites.state("payments"))  # never the full number

    await page.get_by_role("link", name="View all your orders").click()
    await expect(page.get_by_text(number)).to_be_visible()


async def test_cart_add_change_quantity_remove(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    assert sites.shop is not None
    first, v1 = _product_with_variants(sites, q="power bank")
    second, v2 = _product_with_variants(sites, q="hoodie")
    for product, variant in ((first, v1), (second, v2)):
        await page.goto(f"{sites.shop_url}/product/{product['id']}")
        await page.get_by_label(variant["colour"], exact=True).check()
        await page.get_by_label(product["size_label"]).select_option(variant["size"])
        await page.get_by_role("button", name="Add to cart").click()
        await page.get_by_role("dialog").get_by_role("button", name="Continue shopping").click()
        await expect(page.get_by_role("dialog")).to_be_hidden()
    await expect(page.locator("#cart-count")).to_have_text("2")

    await page.get_by_role("link", name=re.compile("^Cart")).click()
    await page.get_by_label(f"Quantity for {first['title']}", exact=True).fill("3")
    await page.get_by_role("button", name=f"Update quantity for {first['title']}").click()
    await page.get_by_role("button", name=f"Remove {second['title']}").click()
    await expect(page.get_by_role("status")).to_have_text("The item was removed from your cart.")
    await expect(page.get_by_role("link", name=second["title"])).to_have_count(0)

    carts = sites.state("shop")["carts"]
    assert [[(i["variant_id"], i["quantity"]) for i in c["items"]] for c in carts] == [[(v1["id"], 3)]]


async def test_search_ranks_filters_sorts_and_pages(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    await page.goto(f"{sites.shop_url}/search?q=usb-c+cable")
    titles = await page.locator(".card-title").all_inner_texts()
    assert len(titles) == 24 and all("USB-C" in t for t in titles[:10])  # relevance first
    await expect(page.get_by_role("status")).to_contain_text("1-24 of")

    await page.get_by_label("Sort by").select_option("price-asc")
    await expect(page.get_by_label("Sort by")).to_have_value("price-asc")
    prices = [_money(t) for t in await page.locator(".card-price .price").all_inner_texts()]
    assert prices == sorted(prices)

    first_brand = page.locator(".filters fieldset", has_text="Brand").locator("label").first
    brand = (await first_brand.inner_text()).split(" (")[0].strip()
    await page.get_by_role("checkbox", name=re.compile(f"^{re.escape(brand)} ")).check()
    await expect(page.get_by_role("link", name=f"Remove brand {brand}")).to_be_visible()
    assert set(await page.locator(".card-brand").all_inner_texts()) == {f"by {brand}"}

    await page.get_by_label("4 stars & up").check()
    await expect(page.get_by_role("link", name="Remove rating filter")).to_be_visible()
    ratings = [float(t.split()[0]) for t in await page.locator(".card .rating-text").all_inner_texts()]
    assert ratings and min(ratings) >= 4

    await page.goto(f"{sites.shop_url}/search?category=cables-adapters")
    await page.get_by_role("navigation", name="Pagination").get_by_role("link", name="Next ›").click()
    await expect(page.get_by_role("status")).to_contain_text("25-48 of")
    await expect(page.locator(".pagination .current")).to_have_text("2")


async def test_product_pages_show_variants_reviews_and_stock(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    assert sites.shop is not None
    catalog = sites.shop.catalog
    sold_out = catalog.db.one("SELECT id FROM products WHERE stock = 0 ORDER BY id LIMIT 1")
    assert sold_out is not None
    await page.goto(f"{sites.shop_url}/product/{sold_out['id']}")
    await expect(page.get_by_text("Currently unavailable.")).to_be_visible()
    await expect(page.get_by_role("button", name="Out of stock")).to_be_disabled()

    # A product with a sold-out variant among others in stock: picking it disables the button.
    row = catalog.db.one(
        "SELECT p.id, v.colour, v.size FROM products p JOIN variants v ON v.product_id = p.id"
        " WHERE p.stock > 0 AND v.stock = 0 AND v.colour IS NOT NULL AND v.size IS NOT NULL"
        " AND p.review_count > 5 ORDER BY p.id LIMIT 1")
    assert row is not None
    product = catalog.product(row["id"])
    assert product is not None
    await page.goto(f"{sites.shop_url}/product/{row['id']}")
    await expect(page.get_by_role("button", name="Add to cart")).to_be_enabled()
    await page.get_by_label(row["colour"], exact=True).check()
    await page.get_by_label(product["size_label"]).select_option(row["size"])
    await expect(page.get_by_role("button", name="Out of stock")).to_be_disabled()
    await expect(page.locator("#stock-status")).to_have_text("Out of stock")
    await expect(page.get_by_role("heading", name="Customer reviews")).to_be_visible()
    await expect(page.locator(".review")).to_have_count(len(product["reviews"]))


async def test_declined_and_invalid_cards_show_errors_and_place_no_order(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    await _to_payment_step(sites, page)
    card = page.frame_locator("#payment-frame")

    await _fill_card(page, "4242 4242 4242 4241")  # fails the checksum: refused before any charge
    await expect(card.get_by_text("Your card number is invalid.")).to_be_visible()

    await _fill_card(page, "4000 0000 0000 0002")
    await expect(card.get_by_role("alert")).to_have_text("Your card was declined.")
    await expect(page.locator("#payment-error")).to_have_text(
        "Payment failed: Your card was declined. Try another card.")

    await _fill_card(page, "4111 1111 1111 1111")  # well formed but not a test card
    await expect(card.get_by_role("alert")).to_contain_text("use a test card")

    await _fill_card(page, "4242 4242 4242 4242", expiry="01 / 20")
    await expect(card.get_by_text("Your card's expiry year is in the past.")).to_be_visible()

    state = sites.state("shop")
    assert state["orders"] == []
    tried = [(p["status"], p["last4"]) for p in state["payments"]]
    assert tried == [("declined", "0002"), ("declined", "1111")]
    assert page.url.endswith("/checkout/payment")


async def test_empty_required_address_field_shows_error(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    product, variant = _product_with_variants(sites, q="usb-c cable")
    shop = sites.shop_url
    await page.request.post(f"{shop}/cart/add", form=_add_form(product, variant))
    await page.request.post(f"{shop}/signin", form=SIGN_IN)
    await page.goto(f"{shop}/checkout/shipping")
    form = page.locator("form.address-form")
    for label, value in (("Full name", "Sam Lee"), ("Address line 1", "1 Main St"), ("State", "NY"),
                         ("ZIP code", "10001")):
        await form.get_by_label(label).fill(value)
    await form.get_by_role("button", name="Use this address").click()
    await expect(page.get_by_text("Enter your city.")).to_be_visible()
    await expect(form.get_by_label("City")).to_have_attribute("aria-invalid", "true")
    await expect(form.get_by_label("Full name")).to_have_value("Sam Lee")  # what was typed is kept
    assert page.url.endswith("/checkout/shipping")

    await form.get_by_label("City").fill("New York")
    await form.get_by_role("button", name="Use this address").click()
    await expect(page.get_by_text("Shipping to: Sam Lee")).to_be_visible()
    assert sites.state("shop")["orders"] == []


async def test_wrong_password_is_refused_visibly(sites, context, page) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    await page.goto(f"{sites.shop_url}/signin")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("Enter your email address.")).to_be_visible()
    await page.get_by_label("Email address").fill(DEMO_EMAIL)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("The email or password you entered is incorrect.")
    assert [(s["email"], s["ok"]) for s in sites.state("shop")["sign_ins"]] == [(DEMO_EMAIL, False)]


async def test_pay_button_waits_for_the_card_script(sites, context, page) -> None:
    """Until pay.js has taken the form, a click on Pay would submit it natively (the card in a
    GET to the iframe's own URL, and no payment): the button stays disabled until then."""
    await context.add_cookies(sites.dismissed_cookies())
    held: asyncio.Future[Route] = asyncio.get_running_loop().create_future()
    await context.route("**/static/pay.js", lambda route: held.set_result(route))
    await _to_payment_step(sites, page)
    script = await asyncio.wait_for(held, 30)  # the parser has passed the form and waits on it
    card = page.frame_locator("#payment-frame")
    await expect(card.locator("#pay-button")).to_be_disabled()
    await script.continue_()
    await _fill_card(page, "4242 4242 4242 4242")
    await page.wait_for_url("**/orders/**")
    assert len(sites.state("shop")["orders"]) == 1
