"""Approvals bound to what was approved, spending limits, and who answers."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from operator_agent.permissions.approvals import (
    ApprovalBook,
    TerminalApprover,
    check_limits,
    purchase_hash,
    terminal_approver,
)
from operator_agent.permissions.audit import AuditLog, list_entries
from operator_agent.permissions.detectors.payment import PaymentInfo
from operator_agent.permissions.gate import CallbackApprover, DenyApprover
from operator_agent.permissions.ledger import SpendLedger
from operator_agent.permissions.policy import Policy
from operator_agent.permissions.policy_gate import PolicyGate
from operator_agent.types import Click, Observation, Type, Verdict

CART = "1 × USB-C cable · $12.99\nOrder total: $23.40"


def checkout(make, text: str = CART) -> Observation:
    return make.obs("https://shop.test/checkout", make.el(1, "textbox", "Card number", sensitive=True),
                    make.el(2, "button", "Place order"), text=text)


def gate(tmp_path: Path, **policy: object) -> PolicyGate:
    audit = AuditLog(tmp_path / "audit.db", run_id="run")
    return PolicyGate(Policy(**policy), audit=audit, interactive=True)  # type: ignore[arg-type]


def info(amount: str | None = "23.40", items: tuple[str, ...] = ("1 × cable",), currency: str = "USD",
         merchant: str = "shop.test") -> PaymentInfo:
    return PaymentInfo(merchant=merchant, items=items, amount=Decimal(amount) if amount else None,
                       currency=currency if amount else None, stage="submit", why="test")


def test_the_hash_binds_merchant_items_amount_and_currency() -> None:
    base = purchase_hash(info())
    assert purchase_hash(info(amount="23.4")) == base  # the same amount written differently
    assert purchase_hash(info(items=("1 × cable",))) == base
    for other in (info(amount="23.41"), info(items=("2 × cable",)), info(currency="EUR"),
                  info(merchant="evil.test"), info(items=("1 × cable", "1 × charger"))):
        assert purchase_hash(other) != base


async def test_approve_then_change_amount_or_items_asks_again(tmp_path: Path, make) -> None:
    g = gate(tmp_path)
    page = checkout(make)
    verdict = await g.check(Type(index=1, text="4242"), page)
    assert verdict.decision == "ask"
    assert "Purchase at shop.test" in verdict.summary and "23.40 USD" in verdict.summary
    assert "1 × USB-C cable $12.99" in verdict.summary and "approval id:" in verdict.summary
    g.record_answer(verdict, True)
    # Same order: the approval holds for the rest of entering it, and for paying.
    assert (await g.check(Type(index=1, text="4242"), page)).decision == "allow"
    assert (await g.check(Click(index=2), page)).decision == "allow"
    # Paying used it up: a second purchase of the same cart is asked again.
    assert (await g.check(Click(index=2), page)).decision == "ask"

    g2 = gate(tmp_path / "two")
    first = await g2.check(Type(index=1, text="4242"), page)
    g2.record_answer(first, True)
    more = checkout(make, CART.replace("23.40", "35.00"))
    changed = await g2.check(Click(index=2), more)
    assert changed.decision == "ask" and "35.00 USD" in changed.summary
    other_items = checkout(make, "2 × USB-C cable · $25.98\nOrder total: $23.40")
    assert (await g2.check(Click(index=2), other_items)).decision == "ask"


async def test_declined_means_asked_again(tmp_path: Path, make) -> None:
    g = gate(tmp_path)
    page = checkout(make)
    verdict = await g.check(Click(index=2), page)
    g.record_answer(verdict, False)
    assert (await g.check(Click(index=2), page)).decision == "ask"


async def test_limits_hold_even_when_pre_approved(tmp_path: Path, make) -> None:
    g = gate(tmp_path, max_purchase=Decimal(20), without_asking=frozenset({"payment"}))
    verdict = await g.check(Click(index=2), checkout(make))
    assert verdict.decision == "deny"
    assert "23.40 USD is over the per-purchase limit of 20 USD" in verdict.reason
    # Under the limit the pre-approval applies, and counts toward the day.
    g = gate(tmp_path / "daily", max_daily=Decimal(50), without_asking=frozenset({"payment"}))
    assert (await g.check(Click(index=2), checkout(make))).decision == "allow"
    assert (await g.check(Click(index=2), checkout(make, CART.replace("23.40", "25.00")))).decision == "allow"
    third = await g.check(Click(index=2), checkout(make, CART.replace("23.40", "2.00")))
    assert third.decision == "deny" and "daily limit" in third.reason and "50.40" in third.reason


async def test_daily_limit_counts_approved_purchases_across_runs(tmp_path: Path, make) -> None:
    g = gate(tmp_path, max_daily=Decimal(30))
    verdict = await g.check(Click(index=2), checkout(make))
    g.record_answer(verdict, True)
    # A later run the same day (same audit db) already has 23.40 spent.
    later = gate(tmp_path, max_daily=Decimal(30))
    verdict = await later.check(Click(index=2), checkout(make, CART.replace("23.40", "10.00")))
    assert verdict.decision == "deny" and "33.40" in verdict.reason
    # Over a limit is refused before anybody is asked: no answer can lift it.
    over = await later.check(Click(index=2), checkout(make, CART.replace("23.40", "500.00")))
    assert over.decision == "deny"


async def test_unknown_amount_is_asked_never_auto_approved(tmp_path: Path, make) -> None:
    g = gate(tmp_path, without_asking=frozenset({"payment"}))
    page = checkout(make, "Thanks for shopping with us")
    verdict = await g.check(Click(index=2), page)
    assert verdict.decision == "ask" and "amount unknown" in verdict.summary
    euros = await g.check(Click(index=2), checkout(make, "Order total: 20,00 €"))
    assert euros.decision == "ask" and "cannot be checked against limits in USD" in euros.summary


async def test_non_interactive_asks_become_denials(tmp_path: Path, make) -> None:
    g = PolicyGate(Policy(), interactive=False)
    verdict = await g.check(Click(index=2), checkout(make))
    assert verdict.decision == "deny"
    assert "non-interactive" in verdict.reason and '"payment"' in verdict.reason
    allowed = PolicyGate(Policy(without_asking=frozenset({"payment"})), interactive=False)
    assert (await allowed.check(Click(index=2), checkout(make))).decision == "allow"


async def test_answers_are_audited_with_the_summary_hash(tmp_path: Path, make) -> None:
    g = gate(tmp_path)
    verdict = await g.check(Click(index=2), checkout(make))
    g.record_answer(verdict, True)
    entries = list_entries(tmp_path / "audit.db")
    assert [(e.event, e.decision, e.answer) for e in entries] == [("check", "ask", None),
                                                                  ("answer", "allow", "yes")]
    assert entries[0].summary_hash == entries[1].summary_hash != ""
    assert entries[1].summary_hash[:12] in verdict.summary


def test_check_limits_messages() -> None:
    p = Policy(max_purchase=Decimal(100), max_daily=Decimal(200))
    assert check_limits(info("99.99"), p, Decimal(0)).status == "ok"
    assert check_limits(info("100.01"), p, Decimal(0)).status == "over"
    assert check_limits(info("50"), p, Decimal(151)).status == "over"
    assert check_limits(info(None), p, Decimal(0)).status == "unknown"


def test_approval_book() -> None:
    book = ApprovalBook()
    assert not book.is_granted("h")
    book.grant("h", 7)
    assert book.is_granted("h") and book.entry("h") == 7
    book.consume("h")
    assert not book.is_granted("h")


async def test_terminal_approver_reads_its_stream() -> None:
    verdict = Verdict(decision="ask", reason="r", summary="Purchase at shop.test\n  amount: 5 USD\x1b[2J")
    out = io.StringIO()
    assert await TerminalApprover(io.StringIO("y\n"), out).approve(verdict, Click(index=1)) is True
    assert "Purchase at shop.test" in out.getvalue() and "[y/N]" in out.getvalue()
    assert "\x1b" not in out.getvalue()  # a page cannot send escape codes to the terminal
    for answer in ("n\n", "\n", "", "yes please\n", "maybe\n"):
        assert await TerminalApprover(io.StringIO(answer), io.StringIO()).approve(verdict, Click(index=1)) \
            is False, answer
    assert await TerminalApprover(io.StringIO("YES\n"), io.StringIO()).approve(verdict, Click(index=1))


async def test_nobody_at_the_terminal_means_deny() -> None:
    approver = terminal_approver(io.StringIO("y\n"))  # not a TTY
    assert isinstance(approver, DenyApprover)
    assert await approver.approve(Verdict(decision="ask"), Click(index=1)) is False

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(terminal_approver(Tty("y\n")), TerminalApprover)
    seen = []
    callback = CallbackApprover(lambda v, a: seen.append(v.summary) or True)
    assert await callback.approve(Verdict(decision="ask", summary="s"), Click(index=1)) and seen == ["s"]


async def test_a_ledger_can_be_given(tmp_path: Path, make) -> None:
    ledger = SpendLedger(tmp_path / "spend.db", run_id="x")
    g = PolicyGate(Policy(without_asking=frozenset({"payment"})), ledger=ledger, interactive=False)
    assert (await g.check(Click(index=2), checkout(make))).decision == "allow"
    assert ledger.spent_today("USD") == Decimal("23.40")
