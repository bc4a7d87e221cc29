"""The explicit opt-out of every permission check, and approvers that answer when a
gate asks. The default gate is the policy gate (builder.permissions()), never this."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ..types import Action, Observation, Verdict

log = logging.getLogger(__name__)


class AllowEverythingUnsafe:
    """Gate that allows every action: no payment, sensitive site or secret is checked.

    Only ever an explicit opt-in (`Agent(gate=AllowEverythingUnsafe())`), e.g. a test that
    shows what an attack does without the gate; nothing builds it by default.
    """

    def __init__(self) -> None:
        log.warning("AllowEverythingUnsafe: every permission check is off for this agent")

    async def check(self, action: Action, observation: Observation) -> Verdict:
        return Verdict(decision="allow")

    def check_arrival(self, url: str) -> Verdict:
        return Verdict(decision="allow")

    def record_answer(self, verdict: Verdict, approved: bool) -> None:
        """Nothing to remember: the policy gate (policy_gate.PolicyGate) binds answers."""

    filters_requests = False

    def check_request(self, url: str) -> Verdict:
        return Verdict(decision="allow")


class DenyApprover:
    """Nobody can answer: consequential actions are denied by default."""

    async def approve(self, verdict: Verdict, action: Action) -> bool:
        return False


class CallbackApprover:
    """For the Python API: the caller's function decides."""

    def __init__(self, fn: Callable[[Verdict, Action], bool | Awaitable[bool]]) -> None:
        self.fn = fn

    async def approve(self, verdict: Verdict, action: Action) -> bool:
        answer = self.fn(verdict, action)
        if isinstance(answer, Awaitable):
            answer = await answer
        return bool(answer)
