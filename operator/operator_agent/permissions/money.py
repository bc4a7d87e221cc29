"""Amounts of money as pages write them: "$23.40", "23,40 €", "EUR 1.234,56"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Symbols first by length, so "US$" wins over "$".
SYMBOLS = {
    "US$": "USD", "CA$": "CAD", "C$": "CAD", "AU$": "AUD", "A$": "AUD", "NZ$": "NZD", "HK$": "HKD",
    "S$": "SGD", "R$": "BRL", "MX$": "MXN", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR",
    "₩": "KRW", "₽": "RUB", "₺": "TRY", "₪": "ILS", "₫": "VND", "฿": "THB", "₱": "PHP", "zł": "PLN",
}
_CODE_LIST = ("USD EUR GBP JPY CNY INR CAD AUD NZD CHF SEK NOK DKK PLN CZK HUF RON BGN BRL MXN ARS CLP COP "
              "KRW SGD HKD TWD ZAR TRY ILS RUB UAH THB PHP IDR MYR VND AED SAR QAR KWD EGP NGN KES")
CODES = frozenset(_CODE_LIST.split(" "))

_SYM = "|".join(re.escape(s) for s in sorted(SYMBOLS, key=len, reverse=True))
_CODE = r"\b(?:" + "|".join(sorted(CODES)) + r")\b"
_NUM = r"\d{1,3}(?:[,.\u00a0\u202f' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MONEY = re.compile(
    rf"(?P<pre>{_SYM}|{_CODE})\s?(?P<n1>{_NUM})(?!\d)"
    rf"|(?<![\d.,])(?P<n2>{_NUM})\s?(?P<post>{_SYM}|{_CODE})")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str  # ISO 4217 code

    def __str__(self) -> str:
        return f"{format(self.amount, 'f')} {self.currency}"


def parse_number(text: str) -> Decimal:
    """"1,234.56", "1.234,56", "1 234,56", "23,40" -> Decimal. Raises ValueError."""
    digits = re.sub(r"[\s\u00a0\u202f']", "", text)
    if not digits or not re.fullmatch(r"[\d.,]+", digits):
        raise ValueError(f"not a number: {text!r}")
    last = max(digits.rfind("."), digits.rfind(","))
    if last >= 0:
        sep = digits[last]
        decimals = len(digits) - last - 1
        if digits.count(sep) > 1 or (decimals == 3 and sep not in digits[:last]
                                     and ("." in digits) != ("," in digits)):
            digits = digits.replace(sep, "")  # only thousands separators
        else:
            whole = digits[:last].replace(",", "").replace(".", "")
            digits = f"{whole}.{digits[last + 1:]}"
    try:
        return Decimal(digits)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {text!r}") from exc


def find_money(text: str, *, dollar: str = "USD") -> list[Money]:
    """Every amount with a currency in `text`, in order. `dollar` is what a bare "$" means."""
    found = []
    for m in _MONEY.finditer(text):
        cur = m.group("pre") or m.group("post")
        num = m.group("n1") or m.group("n2")
        try:
            amount = parse_number(num)
        except ValueError:
            continue
        code = SYMBOLS.get(cur, cur.upper())
        if cur == "$":
            code = dollar
        found.append(Money(amount, code))
    return found


def parse_amount(text: str | float | int, default_currency: str) -> Money:
    """A limit as a person writes it: 50, "50", "50.00", "50 USD", "$50". Raises ValueError."""
    if isinstance(text, bool):
        raise ValueError("expected an amount, got a boolean")
    if isinstance(text, int | float):
        amount = Decimal(str(text))
        currency = default_currency
    else:
        found = find_money(text, dollar=default_currency if default_currency.endswith("D") else "USD")
        if found:
            amount, currency = found[0].amount, found[0].currency
        else:
            amount, currency = parse_number(text.strip()), default_currency
    if not amount.is_finite() or amount < 0:
        raise ValueError("expected a non-negative amount")
    return Money(amount, currency)
