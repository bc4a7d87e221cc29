"""What a gate puts on the browser's network: its request check, its audit log and
its payment wire. Worked out here once for the agent's own runs, `operator run` and
skill replays (no browser imported: the desktop uses the agent too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from .permissions.audit import AuditLog
from .permissions.payment_wire import PaymentWire
from .types import Verdict


class Wire(TypedDict):
    """Keyword arguments of BrowserSession.guard_requests and BrowserSession.open."""

    guard: Callable[[str], Verdict] | None
    audit: AuditLog | None
    payments: PaymentWire | None


def wire_of(gate: object | None) -> Wire:
    """The gate's request check (only when it can refuse a request: else the browser need
    not pay for a filter), audit log and payment wire, whichever it has."""
    check = getattr(gate, "check_request", None)
    payments = getattr(gate, "payments", None)
    return Wire(guard=check if check is not None and getattr(gate, "filters_requests", False) else None,
                audit=getattr(gate, "audit", None),
                payments=payments if isinstance(payments, PaymentWire) else None)
