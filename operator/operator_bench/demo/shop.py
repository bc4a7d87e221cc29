"""The README's main job on the practice shop (`operator demo`): its task, the values the
shipped skill replays it with when no model is configured, and a model's choices scripted.

The scripted choices (decide) stand in for the model in tests: a real browser, the real
loop and the real permission gate, only the decisions come from this file. Each decision
reads the page as the model would (the observation text) and acts on what it finds, so
banners, pop-ups and the checkout steps are handled wherever they appear.
"""

from __future__ import annotations

import re
from typing import Any

from ..testing.script import find_index

TASK = "Buy a USB-C cable under $15."
MAX_PRICE = 15.0
SEARCH = "usb-c cable"
# The practice shop's documented demo account and approving test card (operator_bench/sites/README.md).
EMAIL, PASSWORD = "demo@example.com", "demo1234"
CARD = {"Card number": "4242 4242 4242 4242", "Expiry date": "12 / 34", "Security code": "123",
        "Name on card": "Alex Morgan"}

# With no model configured, `operator demo` replays the skill taught on this shop instead.
SKILL = "buy-usb-cable"


def skill_values() -> dict[str, str]:
    """The values the shipped buy-usb-cable skill is run with for this job: the search, the
    budget, the demo account's password and the approving test card."""
    return {"query": SEARCH, "max_price": f"{MAX_PRICE:g}", "password": PASSWORD,
            "card_number": CARD["Card number"], "card_expiry": CARD["Expiry date"],
            "card_cvc": CARD["Security code"]}


_RESULT = re.compile(r'^\[(\d+)\] link "([^"]+)"\n(by [^\n]*?\$(\d+\.\d\d)[^\n]*)$', re.M)


def _step(reasoning: str, *actions: dict[str, Any]) -> dict[str, Any]:
    return {"reasoning": reasoning, "actions": list(actions)}


def _has(text: str, name: str) -> bool:
    try:
        find_index(text, name)
        return True
    except LookupError:
        return False


def _click(text: str, name: str, role: str | None = None) -> dict[str, Any]:
    return {"action": "click", "index": find_index(text, name, role)}


def _type(text: str, name: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"action": "type", "index": find_index(text, name), "text": value, **extra}


def cheapest_fit(text: str) -> tuple[int, str, float] | None:
    """The first in-stock USB-C cable under the budget, as listed on a results page."""
    for m in _RESULT.finditer(text):
        index, title, details, price = int(m.group(1)), m.group(2), m.group(3), float(m.group(4))
        if "usb-c" in title.lower() and price < MAX_PRICE and "Out of stock" not in details:
            return index, title, price
    return None


def decide(text: str) -> dict[str, Any]:
    """One branch per kind of page, in the order a person would deal with them."""
    if "Thank you, your order has been placed." in text:
        number = re.search(r"Order number\s*·?\s*(\S+)", text)
        total = re.search(r"Order total[^$\n]*(\$\d+\.\d\d)", text, re.I)
        answer = (f"Ordered: order {number.group(1) if number else '(see page)'}"
                  f"{', total ' + total.group(1) + ' with delivery' if total else ''}.")
        return _step("The order is placed.", {"action": "done", "answer": answer})
    if _has(text, "No thanks"):
        return _step("A newsletter pop-up is in the way; decline it.", _click(text, "No thanks"))
    if _has(text, "Reject non-essential"):
        return _step("Answer the cookie banner with the privacy-friendly choice.",
                     _click(text, "Reject non-essential"))
    if "# Sign in" in text:
        return _step("Checkout needs the demo account.", _type(text, "Email address", EMAIL),
                     _type(text, "Password", PASSWORD), _click(text, "Sign in", "button"))
    if _has(text, "Deliver to this address"):
        return _step("Ship to the saved address.", _click(text, "Deliver to this address"))
    if _has(text, "Continue to payment"):
        return _step("Standard delivery is fine.", _click(text, "Continue to payment"))
    if "# Payment" in text and _has(text, "Card number"):
        pay = re.search(r'\[(\d+)\] button "(Pay \$[\d.,]+)"', text)
        actions = [_type(text, label, value) for label, value in CARD.items()]
        if pay:
            actions.append({"action": "click", "index": int(pay.group(1))})
        return _step("Pay with the test card.", *actions)
    if "## Added to cart" in text:
        return _step("The cable is in the cart; check out.", _click(text, "Proceed to checkout"))
    if _has(text, "Add to cart") and "Results for" not in text:
        return _step("This cable is under $15 and in stock; add it.", _click(text, "Add to cart"))
    if "Results for" in text:
        fit = cheapest_fit(text)
        if fit is None:
            return _step("Nothing under $15 in view; scroll.", {"action": "scroll", "direction": "down"})
        index, title, price = fit
        return _step(f"{title} is ${price:.2f}, under $15 and in stock.", {"action": "click", "index": index})
    return _step("Search for the cable.", _type(text, "Search Brightcart", SEARCH, submit=True))
