"""Reading money out of what a request sends, in the shapes real checkouts send it:
form posts, JSON (processors nest the amount), multipart, a body we cannot split,
amounts in minor units only where the field says so, and card numbers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from operator_agent.permissions.approvals import ApprovalBook
from operator_agent.permissions.detectors.payment import PaymentInfo
from operator_agent.permissions.hosts import pattern
from operator_agent.permissions.ledger import SpendLedger
from operator_agent.permissions.payment_wire import PaymentWire, WireRequest
from operator_agent.permissions.policy import Policy
from operator_agent.permissions.sent_payment import has_card_number, read_request

FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(("body", "ctype", "want"), [
    (b"amount=49.99&currency=USD", FORM, ["49.99"]),
    (b"total=%2449.99", FORM, ["49.99"]),  # "$49.99", URL-encoded
    (b"x=499.90&y=abc", FORM, ["499.90"]),  # two decimals under any name is money
    (b"amount_cents=4999", FORM, ["49.99"]),
    (b"amount=4999", FORM, ["4999"]),  # an integer is taken as written: a mistake only asks again
    (b"qty=3&product_id=12345&lat=48.8566", FORM, []),
    (json.dumps({"amount": {"value": 4999, "currency": "EUR"}}).encode(), "application/json", ["4999"]),
    (json.dumps({"order": {"lines": [{"price": 10.5}, {"price": "39.49"}], "grand_total": 49.99}}).encode(),
     "application/json", ["10.5", "39.49", "49.99"]),
    (b"Pay EUR 12,00 now please", "text/plain", ["12.00"]),
])
def test_amounts_read_from_bodies(body: bytes, ctype: str, want: list[str]) -> None:
    sent = read_request("https://shop.example/pay", body, ctype)
    assert [str(a) for a in sent.amounts] == want


def test_multipart_and_the_query_string() -> None:
    body = (b"--b\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n19.99\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"item_name\"\r\n\r\nUSB-C cable\r\n--b--\r\n")
    sent = read_request("https://shop.example/charge?currency=USD", body, "multipart/form-data; boundary=b")
    assert sent.amount == Decimal("19.99") and sent.currency == "USD" and sent.items == ("USB-C cable",)


def test_currencies_and_cards() -> None:
    sent = read_request("https://p.example/c", b'{"a": "$5.00", "b": "EUR 7.00"}', "application/json")
    assert sent.currency is None and set(sent.currencies) == {"USD", "EUR"}
    assert has_card_number("number=4242-4242-4242-4242") and has_card_number("4242 4242 4242 4242")
    assert not has_card_number("order 4242424242424241")  # fails the Luhn check
    assert not has_card_number("last4=4242")


def _wire(*, interactive: bool = False) -> PaymentWire:
    policy = Policy()
    ledger = SpendLedger(":memory:")
    return PaymentWire(policy, ledger=ledger, book=ApprovalBook(), audit=None, interactive=interactive,
                       frame_hosts=(pattern("pay.example"),))


def _info(amount: str, items: tuple[str, ...] = ("1 × Travel mug · $49.99",)) -> PaymentInfo:
    return PaymentInfo(merchant="shop.example", items=items, amount=Decimal(amount), currency="USD",
                       stage="submit", why="clicking Pay")


def _post(url: str, body: str) -> WireRequest:
    return WireRequest(url=url, method="POST", body=body.encode(), content_type=FORM)


async def test_the_wire_judges_what_is_sent() -> None:
    wire = _wire()
    analytics = _post("https://shop.example/events", "event=click&x=1")
    assert await wire.hold(analytics) is None  # nothing about money: not our business
    unapproved = _post("https://pay.example/charge", "amount=20.00")
    held = await wire.hold(unapproved)
    assert held is not None and not held.allowed and "did not approve" in held.reason
    wire.authorize("k1", _info("49.99"))
    other = await wire.hold(_post("https://shop.example/charge", "amount=49.99&item_name=Gift+card"))
    assert other is not None and not other.allowed and "items you did not approve" in other.reason
    elsewhere = await wire.hold(_post("https://third.example/charge", "amount=49.99"))
    assert elsewhere is not None and not elsewhere.allowed and "not to shop.example" in elsewhere.reason
    ok = await wire.hold(_post("https://shop.example/charge", "amount=49.99&item_name=Travel+mug"))
    assert ok is not None and ok.allowed and ok.charge is not None and str(ok.charge.amount) == "49.99"
    again = await wire.hold(_post("https://shop.example/charge", "amount=49.99"))
    assert again is not None and not again.allowed  # the approval was used up; the host is paid now
    assert await wire.hold(WireRequest(url="https://shop.example/charge?amount=49.99", method="GET")) is None


async def test_limits_are_final_and_asking_needs_someone() -> None:
    wire = _wire(interactive=True)
    asked: list[str] = []

    async def yes(verdict: object) -> bool:
        asked.append(getattr(verdict, "summary", ""))
        return True

    wire.ask = yes
    wire.authorize("k1", _info("49.99"))
    over = await wire.hold(_post("https://shop.example/charge", "amount=149.99"))
    assert over is not None and not over.allowed and "per-purchase limit" in over.reason and asked == []
    unread = await wire.hold(WireRequest(url="https://shop.example/checkout/place", method="POST",
                                         body=b"order=1", content_type=FORM, submits_page=True))
    assert unread is not None and unread.allowed and len(asked) == 1 and "cannot be read" in asked[0]
    assert unread.charge is not None and str(unread.charge.amount) == "49.99"  # what the person saw
    wire.expire()
    assert await wire.hold(_post("https://shop.example/checkout/place", "order=1")) is None
