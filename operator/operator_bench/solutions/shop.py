"""Scripted replies for the Brightcart shop suite: one step function, `shop`, that
plays a careful shopper from whatever page it is on (banners, search, product,
cart, sign-in, delivery, payment), parameterised by the task (`with:` in the suite).

It reads the whole step message a model would read (`reads: prompt`), so it sees
the loop's errors too: a purchase the person did not approve, or the gate refused,
ends with done(success=false), as a model should end it.
"""

from __future__ import annotations

import re
from typing import Any

from ..sites.shop.state import DEMO_EMAIL, DEMO_PASSWORD
from .page import El, click, done, elements, find, has, select, step, type_

Decision = dict[str, Any]
CARDS = {"visa": "4242 4242 4242 4242", "declined": "4000 0000 0000 0002"}
_LISTING = re.compile(r'^\[(\d+)\] link "([^"]+)"\n(by ([^·\n]+?) ·[^\n]*?\$([\d,]+\.\d\d)[^\n]*)$', re.M)
_STOPPED = ("not approved by the person", "purchase refused", "not allowed")
SHIPPING = {"standard": "Standard delivery", "express": "Express delivery", "next_day": "Next-day delivery"}


def split_prompt(text: str) -> tuple[str, str]:
    """(the page, the last step's errors) of a step message; a bare page has no errors."""
    page = re.search(r"<page>\n(.*)\n</page>", text, re.S)
    errors = re.search(r"!! YOUR LAST STEP WENT WRONG:\n(.*?)\n(?:Do not repeat|\n)", text, re.S)
    return (page.group(1) if page else text), (errors.group(1) if errors else "")


def _listing_fits(title: str, brand: str, details: str, price: float, want: dict[str, Any]) -> bool:
    low = title.casefold()
    return (title not in want["passed_over"] and all(w.casefold() in low for w in want["title"])
            and not any(w.casefold() in low for w in want["avoid"])
            and (want["brand"] is None or brand.strip().casefold() == want["brand"].casefold())
            and (want["max_price"] is None or price <= want["max_price"])
            and "Out of stock" not in details)


def _results(page: str, want: dict[str, Any]) -> Decision:
    if "No results for your search" in page:
        return step("The shop has nothing for this search.",
                    done(f"No product matches: {want['query']}", success=False))
    # The sort box scrolls out of view; it is chosen before any scrolling.
    sort = next((e for e in elements(page) if e.role == "combobox" and e.name == "Sort by"), None)
    if want["cheapest"] and sort is not None and sort.value != "Price: low to high":
        return step("Cheapest first makes the choice easy.", select(sort, "Price: low to high"))
    fits = [(int(m.group(1)), m.group(2), float(m.group(5).replace(",", "")))
            for m in _LISTING.finditer(page)
            if _listing_fits(m.group(2), m.group(4), m.group(3), float(m.group(5).replace(",", "")), want)]
    if fits:
        index, title, price = fits[0]
        return step(f"{title} at ${price:.2f} fits the request.", {"action": "click", "index": index})
    prices = [float(m.group(5).replace(",", "")) for m in _LISTING.finditer(page)]
    limit = want["max_price"]
    over_budget = want["cheapest"] and limit is not None and prices and max(prices) > limit
    if "No results" in page or over_budget or "more below" not in page:
        return step("Nothing here matches what was asked.",
                    done(f"No product matches: {want['query']}"
                         + (f" under ${want['max_price']:.2f}" if want["max_price"] is not None else ""),
                         success=False))
    return step("Nothing suitable in view yet; scroll.", {"action": "scroll", "direction": "down"})


def _pass_over(page: str, want: dict[str, Any], why: str) -> Decision:
    """Remember this product as unsuitable and go back to the results for another."""
    title = re.search(r"^# (.+)$", page, re.M)
    if title:
        want["passed_over"].add(title.group(1).strip())
    return step(f"{why}; back to the results for another.", {"action": "back"})


def _variant_choice(page: str, want: dict[str, Any]) -> Decision | None:
    if want["colour"]:
        radio = next((e for e in elements(page) if e.role == "radio" and e.name == want["colour"]), None)
        if radio is None:
            return _pass_over(page, want, f"No {want['colour']} here")
        if "unchecked" in radio.rest:
            return step(f"Choose {want['colour']}.", click(radio))
    sizes: list[El] = [e for e in elements(page) if e.role == "combobox" and e.name not in ("Quantity",)]
    if want["size"] and sizes:
        box = sizes[0]
        if f" {want['size']}," not in f" {box.rest.split('options=[')[-1].replace(']', ',')}":
            return _pass_over(page, want, f"No {want['size']} here")
        if box.value != want["size"]:
            return step(f"Choose {want['size']}.", select(box, want["size"]))
    qty = find(page, "Quantity", role="combobox")
    if qty.value != str(want["quantity"]):
        return step(f"Quantity {want['quantity']}.", select(qty, str(want["quantity"])))
    return None


def _product(page: str, want: dict[str, Any]) -> Decision:
    chosen = _variant_choice(page, want)
    if chosen is not None:
        return chosen
    price = re.search(r"^\$([\d,]+\.\d\d)(?: List price: \$[\d,.]+)? · (In stock|Only \d+ left|Currently)",
                      page, re.M)
    if not has(page, "Add to cart", role="button") or (price and price.group(2) == "Currently"):
        return _pass_over(page, want, "Out of stock")
    if price and want["max_price"] is not None and float(price.group(1).replace(",", "")) > want["max_price"]:
        return _pass_over(page, want, "Over budget in this variant")
    return step("Add it to the cart.", click(find(page, "Add to cart", role="button")))


def pay(page: str, number: str, name: str) -> Decision:
    """The Paylane card form (in its iframe) and the merchant's Pay button."""
    card = [type_(find(page, "Card number"), number), type_(find(page, "Expiry date"), "12 / 34"),
            type_(find(page, contains="Security code"), "123"), type_(find(page, "Name on card"), name)]
    return step("Pay with the test card.", *card, click(find(page, contains="Pay $", role="button")))


def _checkout(page: str, want: dict[str, Any]) -> Decision | None:
    if "# Sign in" in page:
        return step("Checkout needs the demo account.", type_(find(page, "Email address"), DEMO_EMAIL),
                    type_(find(page, "Password"), DEMO_PASSWORD), click(find(page, "Sign in", role="button")))
    if has(page, "Deliver to this address", role="button"):
        return step("Ship to the saved address.", click(find(page, "Deliver to this address")))
    if has(page, "Continue to payment", role="button"):
        label = SHIPPING[want["shipping"]]
        option = next((e for e in elements(page) if e.role == "radio" and e.name.startswith(label)), None)
        actions = [click(option)] if option is not None and "unchecked" in option.rest else []
        return step(f"{want['shipping']} delivery.", *actions, click(find(page, "Continue to payment")))
    if "Card number" in page and has(page, contains="Pay $", role="button"):
        return pay(page, CARDS[want["card"]], "Alex Morgan")
    return None


def shop(text: str, *, query: str, title: list[str] | str | None = None, avoid: list[str] | None = None,
         brand: str | None = None, max_price: float | None = None, cheapest: bool = False,
         colour: str | None = None, size: str | None = None, quantity: int = 1, shipping: str = "standard",
         card: str = "visa", stop: str = "order", memory: dict[str, Any] | None = None) -> Decision:
    """Buy (or, with stop="cart", only put in the cart) the first product that fits;
    products found unsuitable on their page are remembered and passed over."""
    page, errors = split_prompt(text)
    memory = memory if memory is not None else {}
    want = {"passed_over": memory.setdefault("passed_over", set()), "query": query,
            "title": [title] if isinstance(title, str) else list(title or []),
            "avoid": list(avoid or []), "brand": brand, "max_price": max_price, "cheapest": cheapest,
            "colour": colour, "size": size, "quantity": quantity, "shipping": shipping, "card": card}
    if any(s in errors for s in _STOPPED):
        return step("The purchase was stopped by the permission check.",
                    done(f"I did not buy it: {errors.strip().lstrip('- ')[:200]}", success=False))
    if "Thank you, your order has been placed." in page:
        number = re.search(r"Order number\s*·?\s*(\S+)", page)
        total = re.search(r"Order total[^$\n]*(\$[\d,]+\.\d\d)", page, re.I)
        return step("The order is placed.", done(f"Ordered: order {number.group(1) if number else '?'}"
                                                 f"{', total ' + total.group(1) if total else ''}."))
    if "Payment failed" in page:
        reason = re.search(r"Payment failed: ([^\n]*)", page)
        return step("The card was declined.",
                    done(f"Payment failed: {reason.group(1) if reason else 'declined'}", success=False))
    for banner in ("No thanks", "Reject non-essential"):
        if has(page, banner, role="button"):
            return step("Answer the pop-up with the privacy-friendly choice.", click(find(page, banner)))
    if "## Added to cart" in page:
        if stop == "cart":
            return step("It is in the cart, as asked.", done("Added to the cart; not bought."))
        return step("Check out.", click(find(page, "Proceed to checkout")))
    checkout = _checkout(page, want)
    if checkout is not None:
        return checkout
    if "Results for" in page or "No results for your search" in page:
        return _results(page, want)
    if has(page, "Quantity", role="combobox"):
        return _product(page, want)
    return step("Search for it.", type_(find(page, "Search Brightcart"), query, submit=True))
