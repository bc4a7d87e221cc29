"""Payments held at the wire: the request that pays is checked against what the
person approved, as it is sent, not as the page showed it.

The gate approves a purchase from the page (amount, items, merchant); a page can
then send something else. So the action that pays, once approved, becomes an
Authorization here, good for one paying request until the next action is
checked, and the network guard brings each request that may pay
(permissions.sent_payment reads it) here before it leaves the browser:

- a request that carries an amount while a purchase is authorized: its largest
  amount, currency, items and destination must be those approved;
- one that carries a card number, goes to a payment processor or to a paying
  path, or submits a page (a form post) while a purchase is authorized: it is the
  payment, so an amount that cannot be read from it is asked about again;
- one that pays (an amount, plus a card, a processor, a paying path or a host
  already paid in this run) with no purchase authorized: asked about, as a
  payment nobody approved.

Spending limits are checked on the amount sent, always, and are final. Any
other mismatch asks the person again (denied with nobody to ask). The spending
ledger counts what was sent, once the server has taken it (a declined card is
not spending); from the moment it is let go until then the amount is reserved
in the ledger, so payments sent meanwhile (another worker's, on a ledger a
manager's workers share) are judged with it counted. Requests that carry no
sign of paying pass untouched.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal
from urllib.parse import urlsplit

from ..types import Verdict
from .approvals import ApprovalBook, approval_hash
from .audit import AuditLog
from .detectors.elements import clean_text, host_of
from .detectors.payment import PAY_TARGET, PaymentInfo
from .hosts import DomainPattern, match_any
from .ledger import SpendLedger
from .money import Money
from .policy import Policy
from .sent_payment import SentPayment, read_request

Ask = Callable[[Verdict], Awaitable[bool]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # never pay: not judged
_WORD = re.compile(r"[a-z]{3,}")
_FILLER = {"the", "and", "for", "with", "item", "items", "product", "qty"}


@dataclass(frozen=True)
class WireRequest:
    url: str
    method: str
    body: bytes | str | None = None
    content_type: str = ""
    submits_page: bool = False  # a navigation carrying a body: a form post


@dataclass(frozen=True)
class Authorization:
    """One approved purchase, good for one paying request."""

    key: str
    info: PaymentInfo
    hosts: frozenset[str]  # where it may be sent: the merchant and the page's payment frames


@dataclass(frozen=True)
class Held:
    """What became of a paying request."""

    allowed: bool
    reason: str
    charge: Money | None = None  # counted in the ledger once the server has taken it
    merchant: str = ""
    key: str = ""
    reservation: int | None = None  # the ledger's hold on the charge until the server answers


@dataclass
class _Judgement:
    decision: Literal["allow", "deny", "ask"]
    reason: str
    sent: SentPayment
    host: str
    auth: Authorization | None
    lines: list[str] = field(default_factory=list)


class PaymentWire:
    """Authorizations from the gate, judged against what requests carry."""

    def __init__(self, policy: Policy, *, ledger: SpendLedger, book: ApprovalBook, audit: AuditLog | None,
                 interactive: bool, frame_hosts: tuple[DomainPattern, ...]) -> None:
        self.policy = policy
        self.ledger = ledger
        self.book = book
        self.audit = audit
        self.interactive = interactive
        self.frame_hosts = frame_hosts
        self.processors: set[str] = set()  # hosts of payment frames seen on pages
        self.paid: set[str] = set()  # hosts paid in this run: another amount sent there may pay again
        self.attached = False  # a network guard brings requests here (else the gate counts spending)
        self.ask: Ask | None = None  # the person, when someone can answer
        self._live: dict[str, Authorization] = {}
        self._lock = asyncio.Lock()  # one question at a time

    # --- from the gate ---------------------------------------------------------------

    def authorize(self, key: str, info: PaymentInfo, frames: frozenset[str] = frozenset()) -> None:
        self._live.pop(key, None)
        self._live[key] = Authorization(key, info, frozenset({info.merchant, *frames}))

    def expire(self) -> None:
        """The next action: an approval unused by the one it was given for is gone."""
        self._live.clear()

    def learn_processors(self, hosts: frozenset[str]) -> None:
        self.processors |= hosts

    # --- from the network guard -----------------------------------------------------

    async def hold(self, request: WireRequest) -> Held | None:
        """None: the request does not pay. Else whether it may go, asking when needed."""
        if request.method.upper() in SAFE_METHODS:
            return None
        judged = self.judge(request)
        if judged is None:
            return None
        approved: bool | None = None
        if judged.decision == "ask":
            async with self._lock:
                approved = await self._ask(judged)
        allowed = judged.decision == "allow" or bool(approved)
        reason = judged.reason
        if judged.decision == "ask" and approved is None:
            reason += "; nobody can approve it in this non-interactive run"
        charge = self._charge(judged) if allowed else None
        reservation = None
        if charge is not None:
            # Checked again as one step with the hold: a question awaited the person meanwhile,
            # and another run on this ledger (a manager's worker) may have paid since.
            reservation = self._reserve(charge)
            if reservation is None:
                over = self._over_daily(charge.amount, charge.currency)
                reason = judged.reason = f"a payment sent to {judged.host} was refused: {over}"
                allowed, charge = False, None
        self._log(judged, allowed, approved, request.url)
        if allowed:
            self.paid.add(judged.host)
            if judged.auth is not None:  # used up: paying again needs a new approval
                self._live.pop(judged.auth.key, None)
                self.book.consume(judged.auth.key)
        key = judged.auth.key if judged.auth is not None else ""
        merchant = judged.auth.info.merchant if judged.auth is not None else judged.host
        why = reason if allowed else f"the browser held back a payment: {reason}"
        return Held(allowed, why, charge=charge, merchant=merchant, key=key, reservation=reservation)

    def charged(self, held: Held) -> None:
        """The server took the payment: it counts against the spending limits."""
        if held.charge is not None:
            self.ledger.record(amount=held.charge.amount, currency=held.charge.currency,
                               merchant=held.merchant, summary_hash=held.key, reservation=held.reservation)

    def not_charged(self, held: Held) -> None:
        """The server did not take it (declined, failed, never answered): not spending."""
        self.ledger.release(held.reservation)

    def _reserve(self, charge: Money) -> int | None:
        limit = self.policy.max_daily if charge.currency == self.policy.currency else None
        return self.ledger.reserve(charge.amount, charge.currency, limit=limit)

    # --- judging ---------------------------------------------------------------------

    def judge(self, request: WireRequest) -> _Judgement | None:
        sent = read_request(request.url, request.body, request.content_type)
        host = host_of(request.url)
        path = urlsplit(request.url).path.lower() if "://" in request.url else ""
        marked = (sent.has_card or bool(match_any(self.frame_hosts, host)) or host in self.processors
                  or host in self.paid or bool(PAY_TARGET.search(path)))
        if not self._live:
            if not (sent.amounts and marked):
                return None
            return self._limits(sent, host, None) or _Judgement(
                "ask", f"the page is sending a payment of {_money(sent)} to {host} that you did not approve",
                sent, host, None, [f"A payment nobody approved is being sent to {host}", *_sending(sent)])
        if not sent.amounts:
            if not (marked or request.submits_page):
                return None
            auth = self._latest()
            return _Judgement(
                "ask", f"the request that pays ({host}) carries no amount that can be checked against the "
                       f"{_approved(auth)} you approved", sent, host, auth,
                [f"The payment is being sent to {host}, but its amount cannot be read from the request",
                 *_sending(sent), *_approval_lines(auth)])
        auth = self._matching(sent) or self._latest()
        over = self._limits(sent, host, auth)
        if over is not None:
            return over
        mismatch = self._mismatch(sent, host, auth)
        # Any amount sent while paying must be the approved one; the first to send it uses
        # the approval up (a second charge needs a new one).
        if not mismatch:
            return _Judgement("allow", f"sends the approved {_approved(auth)}", sent, host, auth)
        return _Judgement("ask", f"the payment being sent to {host} is not the one you approved: {mismatch}",
                          sent, host, auth,
                          [f"The payment being sent to {host} is not the one you approved", *_sending(sent),
                           *_approval_lines(auth), f"  differs: {mismatch}"])

    def _latest(self) -> Authorization:
        return next(reversed(self._live.values()))

    def _matching(self, sent: SentPayment) -> Authorization | None:
        for auth in reversed(self._live.values()):
            if not self._mismatch(sent, "", auth, check_host=False):
                return auth
        return None

    def _mismatch(self, sent: SentPayment, host: str, auth: Authorization, *, check_host: bool = True) -> str:
        info = auth.info
        if len(sent.currencies) > 1:
            return "it names several currencies: " + ", ".join(sent.currencies)
        currency = sent.currency or info.currency or self.policy.currency
        if info.amount is None or info.currency is None:
            return f"it sends {_money(sent)}, and no amount was read from the page when you approved it"
        if sent.amount != info.amount or currency != info.currency:
            return (f"it sends {_fmt(sent.amount)} {currency}, "
                    f"you approved {_fmt(info.amount)} {info.currency}")
        extra = [i for i in sent.items if not _named(i, info.items)]
        if extra and info.items:
            return "it names items you did not approve: " + "; ".join(clean_text(i, 80) for i in extra[:3])
        if check_host and host not in auth.hosts and host not in self.processors and not match_any(
                self.frame_hosts, host):
            return f"it goes to {host}, not to {info.merchant} or its payment processor"
        return ""

    def _limits(self, sent: SentPayment, host: str, auth: Authorization | None) -> _Judgement | None:
        """Over a spending limit: refused, whoever approved what."""
        cur = self.policy.currency
        currency = sent.currency or (auth.info.currency if auth and auth.info.currency else cur)
        amount = sent.amount
        if amount is None or currency != cur or len(sent.currencies) > 1:
            return None
        why = ""
        if amount > self.policy.max_purchase:
            limit = _fmt(self.policy.max_purchase)
            why = f"{_fmt(amount)} {cur} is over the per-purchase limit of {limit} {cur}"
        elif self.ledger.committed_today(cur) + amount > self.policy.max_daily:
            why = self._over_daily(amount, cur)
        if not why:
            return None
        return _Judgement("deny", f"a payment sent to {host} was refused: {why}", sent, host, auth)

    def _over_daily(self, amount: Decimal, cur: str) -> str:
        spent = self.ledger.committed_today(cur) + amount
        return (f"{_fmt(amount)} {cur} would bring today's spending to {_fmt(spent)} {cur}, "
                f"over the daily limit of {_fmt(self.policy.max_daily)} {cur}")

    def _charge(self, judged: _Judgement) -> Money | None:
        auth, sent = judged.auth, judged.sent
        if sent.amount is not None:
            currency = sent.currency or (auth.info.currency if auth and auth.info.currency
                                         else self.policy.currency)
            return Money(sent.amount, currency)
        return auth.info.money if auth is not None else None  # approved unread: what the person saw

    async def _ask(self, judged: _Judgement) -> bool | None:
        """The person's answer; None when nobody can answer (a no)."""
        if not self.interactive or self.ask is None:
            return None
        key = approval_hash("payment-request", judged.host, [str(a) for a in judged.sent.amounts],
                            judged.auth.key if judged.auth else "")
        summary = "\n".join([*judged.lines, "  why asked: the page sends something other than what was "
                             "approved", f"approval id: {key[:12]}"])
        return await self.ask(Verdict(decision="ask", reason=judged.reason, summary=summary))

    def _log(self, judged: _Judgement, allowed: bool, approved: bool | None, url: str) -> None:
        if self.audit is None:
            return
        answer = None if approved is None else ("yes" if approved else "no")
        self.audit.record(event="payment-request", decision="allow" if allowed else "deny",
                          reason=clean_text(judged.reason, 500), url=url, answer=answer,
                          summary_hash=judged.auth.key if judged.auth else "")


def _named(item: str, approved: tuple[str, ...]) -> bool:
    """An item the request names is one the person approved: its words are in the approval."""
    words = set(_WORD.findall(item.lower())) - _FILLER
    text = " ".join(approved).lower()
    return not words or all(w in text for w in words)


def _fmt(amount: Decimal | None) -> str:
    if amount is None:
        return "?"
    return format(amount.quantize(Decimal("0.01")) if amount.as_tuple().exponent != 0 else amount, "f")


def _money(sent: SentPayment) -> str:
    return f"{_fmt(sent.amount)} {sent.currency or ''}".strip() if sent.amount is not None else "an amount"


def _approved(auth: Authorization) -> str:
    info = auth.info
    what = f"{_fmt(info.amount)} {info.currency}" if info.money else "purchase (amount unknown)"
    return f"{what} at {info.merchant_label}"


def _sending(sent: SentPayment) -> list[str]:
    lines = [f"  sending: {_money(sent)}" + (" with a card number" if sent.has_card else "")]
    if sent.items:
        lines.append("  items sent: " + "; ".join(clean_text(i, 80) for i in sent.items[:6]))
    return lines


def _approval_lines(auth: Authorization) -> list[str]:
    info = auth.info
    lines = [f"  you approved: {_approved(auth)}"]
    if info.items:
        lines.append("  items approved: " + "; ".join(clean_text(i, 80) for i in info.items[:6]))
    return lines
