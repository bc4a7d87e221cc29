"""Payments: typing card details, acting inside a payment iframe, or pressing the
button that pays or places an order.

When an action is part of a payment, the order is read off the observation as
well as it can be (total, currency, merchant, item lines) so a person can decide
and so the approval can be bound to exactly that order. Where several totals
show, the largest counts: a page cannot talk a purchase under a limit by
printing a smaller figure next to the real one.

A button that only moves on to the payment step ("Continue to pay", "Go to
payment") is not a payment, but only where nothing on the page could be paid
with or for: no card fields, no payment frame, no saved card shown, no order
total and no amount on the button. Anywhere else the same words count as paying,
so wording alone never takes a real purchase past the gate.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ...types import Action, Click, Element, Observation, Press, Select, Type, Upload
from ..hosts import DomainPattern, match_any
from ..money import CODES, SYMBOLS, Money, find_money
from .elements import (
    autocomplete_tokens,
    clean_text,
    host_of,
    is_button,
    is_control,
    is_submit,
    label,
    merchant_of,
    submits,
    text_lines,
)

# autocomplete tokens of the card itself (not cc-name: a name is not a card detail).
_CARD_AC = {"cc-number", "cc-exp", "cc-exp-month", "cc-exp-year", "cc-csc", "cc-type"}
# Field names that say "card" on their own...
_CARD_STRONG = re.compile(
    r"card.?(?:number|num|no)\b|cardnumber|\bcc.?(?:num|number|csc|cvc|cvv|exp)|credit.?card"
    r"|(?:^|[^a-z])(?:cvc2?|cvv2?|csc)(?:[^a-z]|$)|card.?(?:code|verification|security)")
# ...and ones that do only next to a card field (a login's "security code" is an OTP).
_CARD_WEAK = re.compile(
    r"security.?code|expir|\bexp.?(?:date|month|year)|\bmm.?/?.?yy|\byy.?/?.?mm|valid.?thru")
_PAY_TEXT = re.compile(
    r"\bpay\b|\bbuy\b|\bplace (?:your |my |the )?order\b|\border now\b|\bpurchase\b|\bcheckout now\b"
    r"|\b(?:submit|complete|confirm|finali[sz]e) (?:your |my |the |and )?"
    r"(?:order|purchase|payment|booking|reservation|checkout|pay)\b"
    r"|\bbook\b|\breserve\b|\bsubscribe\b|\bdonate\b|\bstart (?:my |your )?(?:free )?trial\b|\bpay now\b")
# Links are navigation more often than payment: only unmistakable wording counts.
_PAY_LINK_TEXT = re.compile(r"\bpay now\b|\bbuy now\b|\bplace (?:your |my )?order\b"
                            r"|\b(?:complete|confirm) (?:your |my )?(?:order|purchase|booking|payment)\b")
_PAY_ATTR = re.compile(
    r"checkout.?submit|place.?order|submit.?(?:order|payment)|pay.?now|buy.?now|pay.?button"
    r"|complete.?(?:order|purchase|checkout)|confirm.?(?:order|purchase|payment|booking)")
PAY_TARGET = re.compile(r"/(?:checkout|orders?|payments?|cart)/(?:submit|place|complete|confirm|pay)\b"
                         r"|/pay(?:ment)?/(?:confirm|submit)\b|/purchase\b|/place.?order\b")
# The whole text of a control that moves on to the payment step; anything after it
# ("Continue to pay now", "... and place order") is not just moving on.
_STEP_TEXT = re.compile(
    r"(?:(?:continue|proceed|go|move|skip)(?: on)? to|next:?) (?:the )?(?:secure )?"
    r"(?:pay|payment|checkout|check out|billing)"
    r"(?: (?:details|info|information|methods?|options?|page|step))?")
_STEP_END = re.compile(r"[\s.:!>›»→…]+$")
# A stored way to pay shown on the page ("Visa ending in 4242", "•••• 4242", "Pay with
# saved card"): a click there may charge it with no card typed.
_STORED_MEANS = re.compile(
    r"\b(?:ending|ends) (?:in|with)\W{0,3}\d{4}\b|(?:[•*●∙]\s?){4,}\d{4}\b"
    r"|\b(?:saved|stored|default) (?:card|payment)|\bpayment method\s*:|\bpay(?:ing)? with (?:your |my )?"
    r"(?:saved|stored|balance|wallet|gift card|store credit)", re.I)
_TOTAL = re.compile(r"\b(?:grand |order |estimated |final )?total\b|\bamount (?:due|to pay|payable)\b"
                    r"|\bto pay\b|\byou(?:'ll)? pay\b|\bpaying\b|\bcharged?\b|\bbalance due\b", re.I)
_NOT_TOTAL = re.compile(r"\bsub-?total\b|\bsaving|\bsaved?\b|\bdiscount|\btax\b|\bvat\b", re.I)
_NOT_ITEM = re.compile(r"\b(?:sub-?total|total|tax|vat|shipping|delivery|discount|coupon|saving|save|fee"
                       r"|balance|charged?|paying|free|add|items? \(\d+\)|qualif)", re.I)
_QTY = re.compile(r"^\d{1,3}\s*[×x]\s+\S|\bqty\b|\bquantity\b", re.I)
_ENTER_KEYS = {"enter", "numpadenter", "space", " "}
MAX_ITEMS = 20
_SYMBOLS_RE = "|".join(re.escape(s) for s in sorted({*SYMBOLS, *CODES}, key=len, reverse=True))


@dataclass(frozen=True)
class PaymentInfo:
    merchant: str  # the page's host (not the payment provider's)
    items: tuple[str, ...]
    amount: Decimal | None  # None: not read off the page
    currency: str | None
    stage: Literal["details", "submit"]  # entering card details, or paying
    why: str  # what made the action a payment, for the person
    amount_note: str = ""  # why the amount is unknown, when it is
    ship_to: str = ""  # the delivery address on the page, part of what is approved
    merchant_name: str = ""  # as the page names itself (shown, never trusted: the host is what counts)

    @property
    def merchant_label(self) -> str:
        host = self.merchant or "an unknown merchant"
        return f"{self.merchant_name} ({host})" if self.merchant_name else host

    @property
    def money(self) -> Money | None:
        if self.amount is None or self.currency is None:
            return None
        return Money(self.amount, self.currency)


def is_card_field(el: Element, *, near_card: bool = False) -> bool:
    """A card number / expiry / CVC field, by autocomplete, name, id, label or placeholder.
    `near_card`: the same frame has a surely-card field, so weaker wording counts."""
    if autocomplete_tokens(el) & _CARD_AC:
        return True
    text = label(el)
    return bool(_CARD_STRONG.search(text) or (near_card and _CARD_WEAK.search(text)))


def is_pay_control(el: Element) -> bool:
    """A button or link whose text or target says it pays or places an order."""
    if not is_control(el):
        return False
    a = el.attributes
    if _PAY_ATTR.search(" ".join(filter(None, (a.get("id"), a.get("name")))).lower()):
        return True
    target = a.get("form-action") or a.get("formaction") or ""
    if target and PAY_TARGET.search(target.lower()):
        return True
    text = " ".join(filter(None, (el.name, el.value if is_button(el) else None))).lower()
    return bool((_PAY_TEXT if is_button(el) or el.role != "link" else _PAY_LINK_TEXT).search(text))


def is_step_control(el: Element) -> bool:
    """A control whose every text only says "on to the payment step" (so names no amount)
    and whose id, name and target say nothing of paying (page_facts decides whether it counts)."""
    a = el.attributes
    if _PAY_ATTR.search(" ".join(filter(None, (a.get("id"), a.get("name")))).lower()):
        return False
    if PAY_TARGET.search((a.get("form-action") or a.get("formaction") or "").lower()):
        return False
    texts = [t for t in (el.name, el.value if is_button(el) else None) if t and t.strip()]
    return bool(texts) and all(
        _STEP_TEXT.fullmatch(_STEP_END.sub("", clean_text(t, 200).lower())) for t in texts)


@dataclass(frozen=True)
class PageFacts:
    """What the payment detector needs to know about a page, computed once per observation."""

    card_frames: frozenset[str]  # frames (""=main) with a surely-card field
    payment_frames: frozenset[str]  # iframes that take card details (by host or by fields)
    pay_controls: frozenset[int]  # element indexes
    # Enter may submit a payment here: card fields or a payment frame, or a pay button
    # next to an order total (a product page's "Buy now" alone does not count).
    checkout: bool


def page_facts(obs: Observation, frame_hosts: tuple[DomainPattern, ...]) -> PageFacts:
    card_frames = {el.frame for el in obs.elements if is_card_field(el)}
    by_host = {el.frame for el in obs.elements if el.frame and match_any(frame_hosts, host_of(el.frame))}
    payment_frames = frozenset(by_host | {f for f in card_frames if f})
    pay = {el.index for el in obs.elements if is_pay_control(el)}
    steps = {el.index for el in obs.elements if el.index in pay and is_step_control(el)}
    # "Continue to pay" moves on only where there is nothing to pay with or for: with card
    # fields, a payment frame, a saved card or a total on the page it may be the payment.
    if steps and not (card_frames or payment_frames or _total_candidates(obs)
                      or _STORED_MEANS.search(obs.text)):
        pay -= steps
    checkout = bool(card_frames or payment_frames) or bool(pay and read_amount(obs)[0] is not None)
    return PageFacts(frozenset(card_frames), payment_frames, frozenset(pay), checkout)


def detect(action: Action, obs: Observation, facts: PageFacts, *, dollar: str = "USD") -> PaymentInfo | None:
    """PaymentInfo when `action` is part of paying, else None."""
    why, stage = _why(action, obs, facts)
    if not why:
        return None
    el = obs.element(action.index) if isinstance(action, Click | Type | Select | Upload) else None
    amount, currency, note = read_amount(obs, el, dollar=dollar)
    return PaymentInfo(merchant=merchant_of(obs), items=read_items(obs), amount=amount, currency=currency,
                       stage=stage, why=why, amount_note=note, ship_to=read_ship_to(obs),
                       merchant_name=merchant_name(obs))


_TITLE_SPLIT = re.compile(r"\s+[|·—–-]\s+")


def merchant_name(obs: Observation) -> str:
    """The shop's name as its page title gives it ("Checkout | Brightcart"): the last part
    of a title in parts. For the person's eyes only; the approval is bound to the host."""
    parts = [p for p in _TITLE_SPLIT.split(obs.title.strip()) if p.strip()]
    if len(parts) < 2:
        return ""
    name = clean_text(parts[-1], 40)
    return name if name.lower() != merchant_of(obs).lower() else ""


# "Shipping to: ..." / "Deliver to: ..." / "Delivery address: ...": the colon keeps step
# indicators such as "1. Shipping address · 2. Delivery" out.
_SHIP_TO = re.compile(
    r"\b(?:ship(?:ping)? to|deliver(?:y|ing)? to|delivery address|shipping address)\s*:\s*(.+)", re.I)


def read_ship_to(obs: Observation) -> str:
    """Where the order goes, as the checkout page states it (an approval covers it too:
    changing the address after approval must ask again)."""
    for line in obs.text.splitlines():
        m = _SHIP_TO.search(line)
        if m and not line.lstrip().startswith("["):  # text on the page, not a button's name
            return clean_text(m.group(1), 160)
    return ""


def _why(action: Action, obs: Observation, facts: PageFacts) -> tuple[str, Literal["details", "submit"]]:
    if isinstance(action, Press):
        keys = {k.rsplit("+", 1)[-1].lower() for k in action.keys.split()}
        if facts.checkout and keys & _ENTER_KEYS:
            return f"pressing {action.keys} on a page with a payment form", "submit"
        return "", "details"
    if not isinstance(action, Click | Type | Select | Upload):
        return "", "details"
    el = obs.element(action.index)
    if el is None:
        return "", "details"
    submit = submits(action)
    stage: Literal["details", "submit"] = "submit" if submit else "details"
    name = clean_text(el.name or el.attributes.get("name", "") or el.role, 60)
    if isinstance(action, Click) and el.index in facts.pay_controls:
        return f'clicking "{name}" [{el.index}]', "submit"
    if isinstance(action, Type | Select) and is_card_field(el, near_card=el.frame in facts.card_frames):
        return f'entering card details into "{name}" [{el.index}]', stage
    if el.frame and el.frame in facts.payment_frames:
        stage = "submit" if submit or (isinstance(action, Click) and is_button(el)) else stage
        return f"acting inside the payment frame of {host_of(el.frame)} [{el.index}]", stage
    if isinstance(action, Click) and is_submit(el) and el.frame in facts.card_frames:
        return f'clicking "{name}" [{el.index}] in a form with card fields', "submit"
    if submit and facts.checkout:
        return f"pressing Enter in [{el.index}] on a page with a payment form", "submit"
    return "", "details"


def read_amount(obs: Observation, el: Element | None = None, *,
                dollar: str = "USD") -> tuple[Decimal | None, str | None, str]:
    """(amount, currency, note) of the order on the page: the largest total shown,
    or the amount on the pay button itself."""
    candidates: list[Money] = []
    if el is not None and el.name:
        candidates += find_money(el.name, dollar=dollar)
    candidates += _total_candidates(obs, dollar=dollar)
    if not candidates:
        return None, None, "no order total found on the page"
    currencies = Counter(m.currency for m in candidates)
    if len(currencies) > 1:
        return None, None, "amounts in several currencies: " + ", ".join(sorted(currencies))
    return max(m.amount for m in candidates), candidates[0].currency, ""


def _total_candidates(obs: Observation, *, dollar: str = "USD") -> list[Money]:
    """Every amount the page's text calls a total (or what is paid, due, charged)."""
    candidates: list[Money] = []
    for line in text_lines(obs):
        parts = [p for p in re.split(r" · | \| ", line) if p.strip()]
        for i, part in enumerate(parts):
            if not _TOTAL.search(part) or _NOT_TOTAL.search(part):
                continue
            found = find_money(part, dollar=dollar)
            if not found and i + 1 < len(parts):  # "Order total:" · "$23.40"
                found = find_money(parts[i + 1], dollar=dollar)[:1]
            candidates += found
    return candidates


def read_items(obs: Observation) -> tuple[str, ...]:
    """Cart lines as the page shows them. Short text lines arrive joined with " · ",
    so a line is split into segments and an item is a quantity segment ("2 × Cable")
    or a name segment, with the price segments that follow it. Totals, fees and
    offers are not items."""
    items: list[str] = []

    def flush(parts: list[str]) -> None:
        if parts and (_QTY.search(parts[0]) or len(parts) > 1 or find_money(parts[0])):
            items.append(clean_text(" ".join(parts), 120))

    current: list[str] = []  # carried over a line break: the price may start the next line
    for line in text_lines(obs):
        for seg in (s.strip() for s in re.split(r" · | \| ", line)):
            if current and _money_only(seg):
                current.append(seg)
                continue
            flush(current)
            current = [seg] if _item_start(seg) else []
    flush(current)
    qty = [i for i in items if _QTY.search(i)]
    return tuple(dict.fromkeys(qty or [i for i in items if find_money(i)]))[:MAX_ITEMS]


def _money_only(seg: str) -> bool:
    return bool(find_money(seg)) and not re.sub(r"[\d\s.,:\-–—]|" + _SYMBOLS_RE, "", seg).strip()


def _item_start(seg: str) -> bool:
    return bool(seg) and len(seg) <= 100 and not _NOT_ITEM.search(seg) and not _money_only(seg)
