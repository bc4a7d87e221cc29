"""Approvals: what a person is asked, what a yes is bound to, and who answers.

A purchase approval is bound to a hash of merchant, items, amount and currency.
The ApprovalBook remembers granted hashes for the run; when the cart or the
amount changes, the hash changes, the old approval no longer applies and the
person is asked again. Spending limits are checked before any approval counts:
over a limit is refused however the purchase was approved.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Literal

from ..protocols import Approver
from ..stdin_line import LineReader, read_from
from ..types import Action, Verdict
from .detectors.elements import clean_text
from .detectors.payment import PaymentInfo
from .gate import DenyApprover
from .policy import Policy


def approval_hash(*parts: object) -> str:
    """sha256 over a canonical JSON of the parts."""
    blob = json.dumps([str(p) if isinstance(p, Decimal) else p for p in parts], sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def purchase_hash(info: PaymentInfo) -> str:
    amount = format(info.amount.normalize(), "f") if info.amount is not None else None
    return approval_hash("purchase", info.merchant, sorted(info.items), amount, info.currency, info.ship_to)


@dataclass(frozen=True)
class Grant:
    """What one yes grants."""

    key: str  # approval hash
    kind: str  # a policy kind: payment, sensitive_site, ask_first, account_change, deletion, message
    label: str  # one line for the person
    purchase: PaymentInfo | None = None
    remember: bool = True  # kept for the run; False: good for the action asked about only


class ApprovalBook:
    """The approvals granted in this run (hash -> ledger entry of the purchase, if any)."""

    def __init__(self) -> None:
        self._granted: dict[str, int | None] = {}

    def is_granted(self, key: str) -> bool:
        return key in self._granted

    def grant(self, key: str, entry: int | None = None) -> None:
        self._granted[key] = entry

    def entry(self, key: str) -> int | None:
        return self._granted.get(key)

    def consume(self, key: str) -> None:
        """The approved purchase was submitted: paying again needs a new approval."""
        self._granted.pop(key, None)


@dataclass(frozen=True)
class LimitCheck:
    status: Literal["ok", "over", "unknown"]
    reason: str  # one line: the amount against the limits


def check_limits(info: PaymentInfo, policy: Policy, spent_today: Decimal) -> LimitCheck:
    cur = policy.currency
    limits = f"limit {_fmt(policy.max_purchase)} {cur} per purchase, {_fmt(policy.max_daily)} {cur} a day"
    if info.amount is None or info.currency is None:
        return LimitCheck("unknown", f"amount unknown ({info.amount_note or 'not on the page'}); {limits}")
    amount = f"{_fmt(info.amount)} {info.currency}"
    if info.currency != cur:
        return LimitCheck("unknown", f"{amount} cannot be checked against limits in {cur}")
    if info.amount > policy.max_purchase:
        return LimitCheck("over", f"{amount} is over the per-purchase limit of "
                                  f"{_fmt(policy.max_purchase)} {cur}")
    total = spent_today + info.amount
    if total > policy.max_daily:
        return LimitCheck("over", f"{amount} would bring today's spending to {_fmt(total)} {cur}, "
                                  f"over the daily limit of {_fmt(policy.max_daily)} {cur}")
    return LimitCheck("ok", f"{amount}; {limits}; spent today {_fmt(spent_today)} {cur}")


def _fmt(amount: Decimal) -> str:
    return format(amount.quantize(Decimal("0.01")) if amount.as_tuple().exponent != 0 else amount, "f")


def purchase_summary(info: PaymentInfo, limits: LimitCheck) -> list[str]:
    lines = [f"Purchase at {info.merchant_label}"]
    if info.items:
        lines.append("  items: " + "; ".join(clean_text(i, 100) for i in info.items[:8])
                     + (f"; ... ({len(info.items) - 8} more)" if len(info.items) > 8 else ""))
    else:
        lines.append("  items: none listed on the page")
    lines.append(f"  amount: {limits.reason}")
    if info.ship_to:
        lines.append(f"  ship to: {clean_text(info.ship_to, 160)}")
    lines.append(f"  why asked: {info.why}")
    return lines


def summary_text(sections: list[list[str]], key: str) -> str:
    """The text a person decides on; the approval id ties their answer to it."""
    body = "\n".join(line for section in sections for line in section)
    return f"{body}\napproval id: {key[:12]}"


# --- who answers -----------------------------------------------------------------


class TerminalApprover:
    """Shows the summary and asks y/N on a terminal. Anything but y/yes is a no,
    and so is the end of input."""

    def __init__(self, stdin: LineReader | None = None, stdout: IO[str] | None = None) -> None:
        self.stdin: LineReader = stdin or sys.stdin
        self.stdout = stdout or sys.stderr

    async def approve(self, verdict: Verdict, action: Action) -> bool:
        out = self.stdout
        out.write("\n--- the agent needs your approval ---\n")
        for line in (verdict.summary or verdict.reason).splitlines():
            indent = " " * (len(line) - len(line.lstrip(" ")))
            out.write(indent + clean_text(line, 300) + "\n")  # page text cannot draw on the terminal
        out.write("Allow this? [y/N] ")
        out.flush()
        answer = await read_from(self.stdin)
        return answer.strip().lower() in ("y", "yes")


def terminal_approver(stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> Approver:
    """A TerminalApprover when stdin is a terminal, else one that denies (nobody can answer)."""
    source = stdin or sys.stdin
    try:
        tty = source.isatty()
    except (AttributeError, ValueError):
        tty = False
    return TerminalApprover(source, stdout) if tty else DenyApprover()
