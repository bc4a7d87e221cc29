"""The permission gate's default until the policy layer lands: allow everything,
and approvers that answer when a gate asks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..types import Action, Observation, Verdict


class AllowAll:
    """Gate that allows every action (issue #4 replaces it with the policy gate)."""

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
