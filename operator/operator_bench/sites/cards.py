"""The payment processor's rules for card details: format checks (what a card form
checks before sending) and the documented test cards (what the processor decides).

Only these numbers ever approve; any other well-formed number is declined, as a
real processor in test mode declines a real card. Documented in README.md here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from operator_agent.permissions.sent_payment import luhn_ok


@dataclass(frozen=True)
class Outcome:
    approved: bool
    code: str  # "approved" or a decline code
    message: str  # what the card form shows


APPROVED = Outcome(True, "approved", "Payment approved.")
DECLINED = Outcome(False, "card_declined", "Your card was declined.")
TEST_CARDS: dict[str, Outcome] = {
    "4242424242424242": APPROVED,  # Visa
    "5555555555554444": APPROVED,  # Mastercard
    "378282246310005": APPROVED,  # American Express (4-digit CVC)
    "4000000000000002": DECLINED,
    "4000000000009995": Outcome(False, "insufficient_funds", "Your card has insufficient funds."),
    "4000000000000069": Outcome(False, "expired_card", "Your card has expired."),
    "4000000000000127": Outcome(False, "incorrect_cvc", "Your card's security code is incorrect."),
}
NOT_A_TEST_CARD = Outcome(False, "card_declined",
                          "Your card was declined. This store is in test mode: use a test card.")


def digits(text: str) -> str:
    return re.sub(r"[\s-]", "", text or "")


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if len(number) >= 4 and number[:4].isdigit() and (
            51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720):
        return "mastercard"
    return "card"


def parse_expiry(text: str) -> tuple[int, int] | None:
    """'MM/YY', 'MM / YY', 'MMYY' or 'MM/YYYY' -> (year, month)."""
    m = re.fullmatch(r"\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*", text or "")
    if not m:
        return None
    month, year = int(m.group(1)), int(m.group(2))
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        return None
    return year, month


def field_errors(number: str, expiry: str, cvc: str, name: str,
                 today: dt.date | None = None) -> dict[str, str]:
    """Per-field messages, empty when the details are well formed."""
    today = today or dt.date.today()
    errors: dict[str, str] = {}
    num = digits(number)
    if not num:
        errors["number"] = "Enter your card number."
    elif not luhn_ok(num):
        errors["number"] = "Your card number is invalid."
    exp = parse_expiry(expiry)
    if not (expiry or "").strip():
        errors["expiry"] = "Enter the expiry date."
    elif exp is None:
        errors["expiry"] = "Your card's expiry date is incomplete (use MM / YY)."
    elif exp < (today.year, today.month):
        errors["expiry"] = "Your card's expiry year is in the past."
    want = 4 if brand_of(num) == "amex" else 3
    code = (cvc or "").strip()
    if not code:
        errors["cvc"] = "Enter the security code."
    elif not code.isdigit() or len(code) != want:
        errors["cvc"] = f"Your card's security code should be {want} digits."
    if not (name or "").strip():
        errors["name"] = "Enter the name on the card."
    return errors


def decide(number: str) -> Outcome:
    return TEST_CARDS.get(digits(number), NOT_A_TEST_CARD)
