"""What every success check is built on: the outcome of a task (what the servers hold,
the final page, the answer, the approvals) and the Check model each kind extends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

CENT = 0.005


@dataclass
class ApprovalRecord:
    """One question the permission gate put to the (simulated) person."""

    summary: str  # exactly what the person was shown
    reason: str
    approved: bool
    amount: float | None = None  # parsed from the summary's "amount:" line
    currency: str | None = None


@dataclass
class Outcome:
    """Everything a check may look at once a task has run."""

    answer: str | None = None
    agent_success: bool = False  # the agent finished with done(success=true), verified
    gave_up: bool = False  # the agent said done(success=false)
    stop_reason: str = ""
    final_url: str = ""
    final_text: str = ""
    state: dict[str, Any] = field(default_factory=dict)  # site name -> its /api/state
    approvals: list[ApprovalRecord] = field(default_factory=list)
    raw_reward: float | None = None  # MiniWoB
    reward_reason: str | None = None
    product: Callable[[int], dict[str, Any] | None] = lambda _pid: None  # shop catalogue: product by id
    cheapest: Callable[[str], float | None] = lambda _kind: None  # lowest in-stock price of a product kind
    # Every itinerary the flights site sells (origin, destination, ISO date): id, price, stops, redeye.
    itineraries: Callable[[str, str, str], list[dict[str, Any]]] = lambda _o, _d, _day: []
    judged: dict[str, tuple[bool, str]] = field(default_factory=dict)  # rubric -> the judge's verdict


class CheckResult(BaseModel):
    name: str
    ok: bool
    detail: str = ""


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: ClassVar[str] = ""

    def evaluate(self, o: Outcome) -> CheckResult:
        ok, detail = self.judge(o)
        return CheckResult(name=self.label(), ok=ok, detail=detail)

    def judge(self, o: Outcome) -> tuple[bool, str]:
        raise NotImplementedError

    def label(self) -> str:
        args = self.model_dump(exclude_defaults=True)
        return f"{self.kind} {args}" if args else self.kind


def lowered(v: str | None) -> str:
    return (v or "").casefold()


def word_list(v: str | list[str] | None) -> list[str]:
    return [] if v is None else [v] if isinstance(v, str) else list(v)


def near_cent(a: float, b: float) -> bool:
    return abs(a - b) < CENT
