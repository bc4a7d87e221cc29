"""The payment detector on real checkout pages and on hand-built observations."""

from __future__ import annotations

from decimal import Decimal

from playwright.async_api import expect

from operator_agent.perception.browser import DomPerceiver
from operator_agent.permissions.detectors import payment
from operator_agent.permissions.hosts import pattern
from operator_agent.permissions.money import find_money, parse_number
from operator_agent.permissions.policy import shipped_sites
from operator_agent.types import Click, Observation, Press, Scroll, Type

FRAMES = shipped_sites()[1]


def detect(action, observation: Observation, frames=FRAMES) -> payment.PaymentInfo | None:
    return payment.detect(action, observation, payment.page_facts(observation, frames))


def named(observation: Observation, name: str):
    return next(e for e in observation.elements if e.name == name)


async def open_checkout(page, pages_server, other_origin_server) -> Observation:
    await page.goto(pages_server.url(f"/permissions/checkout.html?pay={other_origin_server.origin}"))
    await expect(page.frame_locator("#payment-frame").locator("#pay-button")).to_be_enabled()
    return await DomPerceiver().observe(page)


async def test_checkout_with_a_cross_origin_payment_frame(page, pages_server, other_origin_server) -> None:
    checkout = await open_checkout(page, pages_server, other_origin_server)
    number = named(checkout, "Card number")
    assert number.frame.startswith(other_origin_server.origin)  # really inside the other origin's frame

    info = detect(Type(index=number.index, text="{{secret:visa.number}}"), checkout)
    assert info is not None and info.stage == "details"
    assert "card details" in info.why
    assert (info.amount, info.currency) == (Decimal("23.40"), "USD")
    assert info.merchant == "127.0.0.1"  # the shop, not the payment provider
    assert info.items == ("1 × USB-C cable (Black) $12.99", "2 × Cable ties $5.42")

    pay = detect(Click(index=named(checkout, "Pay $23.40").index), checkout)
    assert pay is not None and pay.stage == "submit" and pay.amount == Decimal("23.40")
    # Name on card is not a card detail, but it is inside a frame of card fields.
    holder = detect(Type(index=named(checkout, "Name on card").index, text="Ada"), checkout)
    assert holder is not None and "payment frame" in holder.why
    # Elsewhere on the page nothing is a payment.
    assert detect(Click(index=named(checkout, "Add another cable").index), checkout) is None
    assert detect(Scroll(), checkout) is None
    # Enter on a page with a payment form may submit it.
    enter = detect(Press(keys="Enter"), checkout)
    assert enter is not None and enter.stage == "submit"
    assert detect(Press(keys="Tab"), checkout) is None


async def test_the_order_changes_when_the_cart_changes(page, pages_server, other_origin_server) -> None:
    checkout = await open_checkout(page, pages_server, other_origin_server)
    before = detect(Click(index=named(checkout, "Pay $23.40").index), checkout)
    await page.click("#add-cable")
    after_obs = await DomPerceiver().observe(page)
    after = detect(Type(index=named(after_obs, "Card number").index, text="x"), after_obs)
    assert before is not None and after is not None
    assert after.amount == Decimal("36.39")  # the largest total on the page
    assert "1 × USB-C cable (White) $12.99" in after.items


async def test_card_form_without_autocomplete(perceive) -> None:
    form = await perceive("/permissions/card_form.html")
    for name in ("Card number", "Expires (MM/YY)", "CVV"):
        info = detect(Type(index=named(form, name).index, text="1"), form)
        assert info is not None and info.stage == "details", name
        assert (info.amount, info.currency) == (Decimal("204.50"), "EUR")
    assert info.items == ("1 × Adult fare, Lisbon return — €180.00",)
    assert detect(Type(index=named(form, "Promo code").index, text="SPRING"), form) is None
    assert detect(Type(index=named(form, "Cardholder").index, text="Ada"), form) is None
    # "Continue" in a form of card fields submits the card; "Book now" says so itself.
    for button in ("Continue", "Book now"):
        info = detect(Click(index=named(form, button).index), form)
        assert info is not None and info.stage == "submit", button
    typed_enter = detect(Type(index=named(form, "Promo code").index, text="X", submit=True), form)
    assert typed_enter is not None and typed_enter.stage == "submit"
    keyed = detect(Type(index=named(form, "Promo code").index, text="X\r", clear=False), form)
    assert keyed is not None and keyed.stage == "submit"
    assert detect(Click(index=named(form, "Back to the shop").index), form) is None


async def test_card_form_known_only_by_autocomplete(perceive) -> None:
    form = await perceive("/permissions/card_form_autocomplete.html")
    for name in ("Field A", "Field B", "Field C", "Field D"):
        assert detect(Type(index=named(form, name).index, text="1"), form) is not None, name
    assert detect(Type(index=named(form, "Full name").index, text="Ada"), form) is None
    info = detect(Click(index=named(form, "Submit").index), form)
    assert info is not None and (info.amount, info.currency) == (Decimal("49.99"), "GBP")


def test_pay_buttons_by_text_and_target(make) -> None:
    pays = ["Pay", "Pay now", "Pay $12.00", "Buy now", "Buy", "Place order", "Place your order",
            "Complete purchase", "Confirm booking", "Confirm and pay", "Book", "Subscribe", "Order now",
            "Start free trial", "Donate", "Submit order"]
    for text in pays:
        o = make.obs("https://shop.test/c", make.el(1, "button", text))
        assert detect(Click(index=1), o) is not None, text
    harmless = ["Add to cart", "Payment methods", "Proceed to checkout", "Books", "Bookmark",
                "PayPal help", "Save for later", "Apply coupon"]
    for text in harmless:
        o = make.obs("https://shop.test/c", make.el(1, "button", text))
        assert detect(Click(index=1), o) is None, text
    # Links only count with unmistakable wording.
    assert detect(Click(index=1), make.obs("https://s.test/", make.el(1, "link", "Pay bills"))) is None
    assert detect(Click(index=1), make.obs("https://s.test/", make.el(1, "link", "Buy now"))) is not None
    # A generic button whose id or form target says what it does.
    for attrs in ({"id": "checkout-submit"}, {"name": "placeOrder"}, {"form_action": "/checkout/submit"},
                  {"formaction": "https://shop.test/orders/place"}):
        o = make.obs("https://shop.test/c", make.el(1, "button", "Continue", **attrs))
        assert detect(Click(index=1), o) is not None, attrs
    sub = make.el(1, "button", "", tag="input", type="submit", value="Place order")
    assert detect(Click(index=1), make.obs("https://shop.test/", sub)) is not None


def test_enter_counts_only_where_it_may_pay(make) -> None:
    search, buy = make.el(1, "textbox", "Search"), make.el(2, "button", "Buy now")
    product = make.obs("https://shop.test/p/1", search, buy, text="USB-C cable $12.99")
    assert detect(Type(index=1, text="charger", submit=True), product) is None
    assert detect(Press(keys="Enter"), product) is None
    review = make.obs("https://shop.test/review", make.el(1, "textbox", "Coupon"),
                      make.el(2, "button", "Place order"), text="Order total: $12.99")
    assert detect(Type(index=1, text="SAVE10", submit=True), review).stage == "submit"  # type: ignore[union-attr]
    assert detect(Press(keys="Enter"), review) is not None


def test_payment_frames_by_host(make) -> None:
    frame = "https://js.stripe.com/v3/elements-inner-card.html"
    o = make.obs("https://shop.test/pay", make.el(1, "textbox", "Number", frame=frame),
                 make.el(2, "button", "Go", frame=frame), text="Order total: $5.00")
    info = detect(Type(index=1, text="4242"), o)
    assert info is not None and "js.stripe.com" in info.why and info.merchant == "shop.test"
    assert detect(Click(index=2), o).stage == "submit"  # type: ignore[union-attr]
    custom = (pattern("*.paylane.test"),)
    o = make.obs("https://shop.test/pay", make.el(1, "textbox", "Number", frame="https://x.paylane.test/f"))
    assert detect(Type(index=1, text="1"), o) is None
    assert detect(Type(index=1, text="1"), o, frames=(*FRAMES, *custom)) is not None


def test_amounts(make) -> None:
    o = make.obs("https://shop.test/c", make.el(1, "button", "Pay"),
                 text="Subtotal: $90.00\nTotal savings: $5.00\nOrder total: $95.00\nTotal: $9.50")
    info = detect(Click(index=1), o)
    assert info is not None and info.amount == Decimal("95.00")  # the largest total, not the smallest
    mixed = make.obs("https://shop.test/c", make.el(1, "button", "Pay €10"), text="Total: $12.00")
    info = detect(Click(index=1), mixed)
    assert info is not None and info.amount is None and "several currencies" in info.amount_note
    none = make.obs("https://shop.test/c", make.el(1, "button", "Pay"), text="Thanks for shopping")
    info = detect(Click(index=1), none)
    assert info is not None and info.amount is None and info.money is None
    assert detect(Click(index=1), make.obs("https://shop.test/c", make.el(1, "button", "Pay £7.50"))
                  ).money.currency == "GBP"  # type: ignore[union-attr]


def test_money_parsing() -> None:
    assert [str(m) for m in find_money("Total: $1,234.56 · 23,40 € · EUR 1.234,56 · ¥2300 · 9 USD")] == [
        "1234.56 USD", "23.40 EUR", "1234.56 EUR", "2300 JPY", "9 USD"]
    assert find_money("Pay C$ 10")[0].currency == "CAD"
    assert parse_number("1 234,5") == Decimal("1234.5")
    assert parse_number("1,234") == Decimal(1234)
