"""Spend limits across runs that share a ledger (a manager's workers): a payment let go at
the wire is reserved until its server answers, so two payments at the same moment cannot
both pass a daily limit only one of them fits, however the two are interleaved."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from operator_agent.permissions.approvals import ApprovalBook
from operator_agent.permissions.detectors.payment import PaymentInfo
from operator_agent.permissions.hosts import pattern
from operator_agent.permissions.ledger import SpendLedger
from operator_agent.permissions.payment_wire import PaymentWire, WireRequest
from operator_agent.permissions.policy import Policy
from operator_agent.types import Verdict

FORM = "application/x-www-form-urlencoded"
POLICY = Policy(max_purchase=Decimal(25), max_daily=Decimal(30))


def _wire(ledger: SpendLedger, *, interactive: bool = False) -> PaymentWire:
    """One worker's wire (its own approvals), on the ledger the workers share."""
    return PaymentWire(POLICY, ledger=ledger, book=ApprovalBook(), audit=None, interactive=interactive,
                       frame_hosts=(pattern("pay.example"),))


def _purchase(amount: str) -> PaymentInfo:
    return PaymentInfo(merchant="shop.example", items=("1 × HDMI cable",), amount=Decimal(amount),
                       currency="USD", stage="submit", why="clicking Pay")


def _approved(wire: PaymentWire, key: str, amount: str) -> WireRequest:
    wire.authorize(key, _purchase(amount))
    return WireRequest(url="https://shop.example/charge", method="POST", content_type=FORM,
                       body=f"amount={amount}&item_name=HDMI+cable".encode())


async def test_two_payments_at_once_cannot_both_pass_a_limit_only_one_fits(tmp_path: Path) -> None:
    ledger = SpendLedger(tmp_path / "audit.db")
    first, second = _wire(ledger), _wire(ledger)
    held = await asyncio.gather(first.hold(_approved(first, "a", "19.00")),
                                second.hold(_approved(second, "b", "19.00")))
    # Neither server has answered yet: nothing is recorded, and still only one may go.
    assert ledger.spent_today("USD") == 0
    allowed = [h for h in held if h is not None and h.allowed]
    refused = [h for h in held if h is not None and not h.allowed]
    assert len(allowed) == 1 and len(refused) == 1
    assert "daily limit of 30" in refused[0].reason and "38.00" in refused[0].reason
    assert ledger.committed_today("USD") == Decimal("19.00")
    # The server takes it: recorded once (the reservation becomes the purchase, not a second count).
    (first if allowed[0] is held[0] else second).charged(allowed[0])
    assert ledger.spent_today("USD") == ledger.committed_today("USD") == Decimal("19.00")
    ledger.close()


async def test_a_payment_not_taken_frees_its_room(tmp_path: Path) -> None:
    ledger = SpendLedger(tmp_path / "audit.db")
    first, second = _wire(ledger), _wire(ledger)
    taken = await first.hold(_approved(first, "a", "19.00"))
    assert taken is not None and taken.allowed and taken.reservation is not None
    waiting = await second.hold(_approved(second, "b", "19.00"))
    assert waiting is not None and not waiting.allowed  # the first is on its way: counted
    first.not_charged(taken)  # the card was declined: not spending
    assert ledger.committed_today("USD") == 0
    again = await second.hold(_approved(second, "c", "19.00"))
    assert again is not None and again.allowed
    ledger.close()


async def test_the_limit_is_checked_again_after_the_person_answers(tmp_path: Path) -> None:
    """A question awaits the person: another worker's payment can go meanwhile. The yes
    given to the first cannot take room the second took while it was asked."""
    ledger = SpendLedger(tmp_path / "audit.db")
    asking, quick = _wire(ledger, interactive=True), _wire(ledger)
    asked = asyncio.Event()
    answer = asyncio.Event()

    async def person(verdict: Verdict) -> bool:
        asked.set()
        await answer.wait()
        return True

    asking.ask = person
    # Its amount cannot be read from the request: the wire asks the person about it.
    asking.authorize("a", _purchase("19.00"))
    unread = WireRequest(url="https://shop.example/checkout/place", method="POST", content_type=FORM,
                         body=b"order=1", submits_page=True)
    pending = asyncio.ensure_future(asking.hold(unread))
    await asked.wait()
    other = await quick.hold(_approved(quick, "b", "19.00"))
    assert other is not None and other.allowed
    answer.set()
    late = await pending
    assert late is not None and not late.allowed and "daily limit" in late.reason
    assert ledger.committed_today("USD") == Decimal("19.00")
    ledger.close()


def test_ledger_reservations(tmp_path: Path) -> None:
    ledger = SpendLedger(tmp_path / "audit.db")
    held = ledger.reserve(Decimal(20), "USD", limit=Decimal(30))
    assert held is not None and ledger.reserve(Decimal(11), "USD", limit=Decimal(30)) is None
    assert ledger.reserve(Decimal(11), "EUR", limit=None) is not None  # another currency: no limit here
    ledger.record(amount=Decimal(20), currency="USD", merchant="shop.example", summary_hash="k",
                  reservation=held)
    assert ledger.spent_today("USD") == ledger.committed_today("USD") == Decimal(20)
    ledger.release(held)  # already taken over by the record: nothing changes
    assert ledger.committed_today("USD") == Decimal(20)
    ledger.close()
