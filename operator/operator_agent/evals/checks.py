"""Success checks: what must be true after a task, judged on what the servers hold
(orders, bookings, payments), the final page, the agent's answer, the approvals it
asked for, or a MiniWoB page's reward.

In a suite file each check is a one-key mapping, `- order: {items: [...]}`, or a
flag, `- no_payment: true`. Every kind is a pydantic model, so a typo in a suite
fails when the suite is loaded, not at the end of a long run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import ValidationError

from .check_base import ApprovalRecord, Check, CheckResult, Outcome, lowered, near_cent, word_list
from .site_checks import (
    ApprovalCheck,
    BookingCheck,
    CartCheck,
    NoBooking,
    NoOrder,
    NoPayment,
    OrderCheck,
    PaymentCheck,
    Searched,
)

# The checks' one import for suites, the runner and tests: every kind, wherever it is defined.
__all__ = [
    "KINDS", "AgentCheck", "AnswerCheck", "ApprovalCheck", "ApprovalRecord", "BookingCheck",
    "CartCheck", "Check", "CheckResult", "Judged", "NoBooking", "NoOrder", "NoPayment",
    "OrderCheck", "Outcome", "PageCheck", "PaymentCheck", "RewardCheck", "Searched", "StateCheck",
    "UrlCheck", "evaluate", "parse_check", "parse_checks",
]

# --- page, answer, agent ---------------------------------------------------------------


def _text_check(text: str, contains: str | list[str] | None, any_: list[str] | None,
                matches: str | None, absent: str | list[str] | None) -> tuple[bool, str]:
    low = lowered(text)
    missing = [w for w in word_list(contains) if lowered(w) not in low]
    if missing:
        return False, f"missing {missing}"
    if any_ and not any(lowered(w) in low for w in any_):
        return False, f"none of {any_}"
    if matches and not re.search(matches, text, re.I | re.S):
        return False, f"no match for /{matches}/"
    present = [w for w in word_list(absent) if lowered(w) in low]
    if present:
        return False, f"should not contain {present}"
    return True, ""


_DOLLARS = re.compile(r"\$\s?(\d[\d,]*(?:\.\d{1,2})?)")


class AnswerCheck(Check):
    """Words in the agent's answer; and, so that an answer listing every candidate does not
    pass, `amount` (every dollar amount it names is this one, ± 1 cent, and it names one;
    `cheapest_of: KIND` computes it from the shop's catalogue, whatever the seed) and
    `one_of` (it names exactly one of these)."""

    kind: ClassVar[str] = "answer"
    contains: str | list[str] | None = None
    any: list[str] | None = None
    matches: str | None = None
    absent: str | list[str] | None = None
    amount: float | None = None
    cheapest_of: str | None = None
    one_of: list[str] | None = None

    def judge(self, o: Outcome) -> tuple[bool, str]:
        text = o.answer or ""
        ok, why = _text_check(text, self.contains, self.any, self.matches, self.absent)
        if ok and (self.amount is not None or self.cheapest_of is not None):
            want = self.amount if self.amount is not None else o.cheapest(self.cheapest_of or "")
            named = [float(m.replace(",", "")) for m in _DOLLARS.findall(text)]
            ok = want is not None and bool(named) and all(near_cent(x, want) for x in named)
            said = ", ".join(f"${x:g}" for x in named) or "no amount"
            why = "" if ok else f"wanted ${want} alone, it names {said}"
        if ok and self.one_of:
            named_one = [w for w in self.one_of if lowered(w) in lowered(text)]
            ok = len(named_one) == 1
            why = "" if ok else f"names {named_one or 'none'} of {self.one_of}, not exactly one"
        return ok, why or f"answer: {text[:120]}"


class Judged(Check):
    """An open answer, graded by a model against `rubric` (evals/judge.py asks it after the
    run; the verdict and the judge's reason are this check's result)."""

    kind: ClassVar[str] = "judged"
    rubric: str

    def judge(self, o: Outcome) -> tuple[bool, str]:
        return o.judged.get(self.rubric, (False, "not judged"))


class PageCheck(Check):
    kind: ClassVar[str] = "page"
    contains: str | list[str] | None = None
    any: list[str] | None = None
    matches: str | None = None
    absent: str | list[str] | None = None

    def judge(self, o: Outcome) -> tuple[bool, str]:
        return _text_check(o.final_text, self.contains, self.any, self.matches, self.absent)


class UrlCheck(Check):
    kind: ClassVar[str] = "url"
    contains: str | None = None
    matches: str | None = None

    def judge(self, o: Outcome) -> tuple[bool, str]:
        ok = (self.contains is None or self.contains in o.final_url) and (
            self.matches is None or re.search(self.matches, o.final_url) is not None)
        return ok, o.final_url


class AgentCheck(Check):
    """What the agent itself reported: `success: false` passes when it gave up with
    done(success=false), as it must on an impossible task."""

    kind: ClassVar[str] = "agent"
    success: bool

    def judge(self, o: Outcome) -> tuple[bool, str]:
        ok = o.agent_success if self.success else o.gave_up
        return ok, f"stop: {o.stop_reason}; answer: {(o.answer or '')[:100]}"


class RewardCheck(Check):
    """MiniWoB: the page's raw reward is above `above` (success is a positive reward)."""

    kind: ClassVar[str] = "reward"
    above: float = 0.0

    def judge(self, o: Outcome) -> tuple[bool, str]:
        r = o.raw_reward
        return r is not None and r > self.above, f"raw reward {r} ({o.reward_reason or 'no reason'})"


class StateCheck(Check):
    """A value in a site's state by dotted path, e.g. `path: shop.newsletter, length: 0`."""

    kind: ClassVar[str] = "state"
    path: str
    equals: Any = None
    contains: Any = None
    length: int | None = None

    def judge(self, o: Outcome) -> tuple[bool, str]:
        value: Any = o.state
        for part in self.path.split("."):
            index = int(part) if part.lstrip("-").isdigit() else None
            if isinstance(value, list) and index is not None and -len(value) <= index < len(value):
                value = value[index]
            elif isinstance(value, dict) and part in value:
                value = value[part]
            else:
                return False, f"{self.path}: no {part!r}"
        ok = (self.equals is None or value == self.equals) and (
            self.contains is None or self.contains in value) and (
            self.length is None or (hasattr(value, "__len__") and len(value) == self.length))
        return ok, f"{self.path} = {str(value)[:120]}"


KINDS: dict[str, type[Check]] = {c.kind: c for c in (
    OrderCheck, CartCheck, NoOrder, Searched, BookingCheck, NoBooking, NoPayment, PaymentCheck, ApprovalCheck,
    AnswerCheck, Judged, PageCheck, UrlCheck, AgentCheck, RewardCheck, StateCheck)}


def parse_check(raw: object) -> Check:
    if isinstance(raw, Check):
        return raw
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ValueError(f"a check is a one-key mapping like `order: {{...}}`, not {raw!r}")
    (kind, args), = raw.items()
    cls = KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown check {kind!r}; known: {', '.join(sorted(KINDS))}")
    if args is True or args is None:
        args = {}
    elif not isinstance(args, dict):
        raise ValueError(f"check {kind}: expected a mapping of arguments, not {args!r}")
    try:
        return cls.model_validate(args)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ValueError(f"check {kind}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def parse_checks(raw: list[Any]) -> list[Check]:
    return [parse_check(r) for r in raw]


def evaluate(checks: Sequence[Check], outcome: Outcome) -> list[CheckResult]:
    return [c.evaluate(outcome) for c in checks]
