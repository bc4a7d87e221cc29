"""A run's spending limits: `--max-tokens` and `--max-cost` (AgentConfig.max_tokens, max_cost).

Checked before every model call, so a run stops before the call that would go over rather
than after it: the next call is estimated from the last one (a step's prompt is mostly the
same page and history again), and never below the tokens of the page it will be shown.
A cost limit needs a price: when the model has none (cost_usd is None), the limit cannot
be checked, and the run says so once instead of pretending.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .protocols import ConfigError
from .types import Usage


class BadBudget(ConfigError, ValueError):
    """A budget that could never allow a call. A ValueError for API callers; a ConfigError,
    so the command line prints it as one line and exits 2."""


def tokens(usage: Usage) -> int:
    return usage.input_tokens + usage.output_tokens


def usd(value: float) -> str:
    # Cents for dollar amounts; sub-dollar budgets and per-step costs need the small digits.
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def next_call(last_call: Usage | None, input_tokens: int) -> tuple[int, float | None]:
    """The estimated tokens and cost (None: unknown) of the next model call: the last call's,
    scaled up when the page it will read is bigger than that whole call was."""
    last = tokens(last_call) if last_call is not None else 0
    estimate = max(last, input_tokens)
    cost = None
    if last_call is not None and last_call.cost_usd is not None and last:
        cost = last_call.cost_usd * estimate / last
    return estimate, cost


@dataclass(frozen=True)
class Budget:
    max_tokens: int | None = None
    max_cost: float | None = None  # USD

    def __post_init__(self) -> None:
        if self.max_tokens is not None and (isinstance(self.max_tokens, bool) or self.max_tokens < 1):
            raise BadBudget(f"--max-tokens (max_tokens) must be at least 1, not {self.max_tokens}")
        if self.max_cost is not None and not (math.isfinite(self.max_cost) and self.max_cost > 0):
            raise BadBudget(f"--max-cost (max_cost) must be more than 0 US dollars, not {self.max_cost}")

    def __bool__(self) -> bool:
        return self.max_tokens is not None or self.max_cost is not None

    def refusal(self, spent: Usage, last_call: Usage | None, input_tokens: int, before: str) -> str | None:
        """Why the next model call must not be made, as one line, or None to go ahead.

        `before` names the call ("step 4's model call"); `input_tokens` is what it will read
        at least (the observation)."""
        est_tokens, est_cost = next_call(last_call, input_tokens)
        if self.max_tokens is not None:
            used = tokens(spent)
            if used >= self.max_tokens or used + est_tokens > self.max_tokens:
                more = "" if used >= self.max_tokens else f" and it would take about {est_tokens:,} more"
                return (f"stopped before {before}: {used:,} tokens spent of the {self.max_tokens:,}-token "
                        f"budget{more}; raise --max-tokens (AgentConfig.max_tokens) to go on")
        if self.max_cost is not None and spent.cost_usd is not None:
            cost = spent.cost_usd
            if cost >= self.max_cost or (est_cost is not None and cost + est_cost > self.max_cost):
                more = "" if cost >= self.max_cost or est_cost is None else (
                    f" and it would cost about {usd(est_cost)} more")
                return (f"stopped before {before}: {usd(cost)} spent of the {usd(self.max_cost)} "
                        f"budget{more}; raise --max-cost (AgentConfig.max_cost) to go on")
        return None

    def unchecked(self, spent: Usage) -> str | None:
        """Why the cost limit could not be held (calls were made but none had a price), or None."""
        if self.max_cost is None or spent.cost_usd is not None or not (spent.calls or tokens(spent)):
            return None
        return (f"the {usd(self.max_cost)} cost budget was not checked: no price is known for this "
                "model (--max-tokens limits it instead)")

    def against(self, spent: Usage) -> str:
        """The total against the limits, e.g. "9,512 of 10,000 tokens (95%) · $0.0040 of $0.0100 (40%)"."""
        parts = []
        if self.max_tokens is not None:
            used = tokens(spent)
            parts.append(f"{used:,} of {self.max_tokens:,} tokens ({100 * used / self.max_tokens:.0f}%)")
        if self.max_cost is not None:
            if spent.cost_usd is None:
                parts.append(f"cost unknown of {usd(self.max_cost)} (no price for this model)")
            else:
                parts.append(f"{usd(spent.cost_usd)} of {usd(self.max_cost)} "
                             f"({100 * spent.cost_usd / self.max_cost:.0f}%)")
        return " · ".join(parts)

    def as_meta(self) -> dict[str, Any]:
        """For the trace's run line (the report shows the total against it)."""
        limits = {"max_tokens": self.max_tokens, "max_cost": self.max_cost}
        return {k: v for k, v in limits.items() if v is not None}

    @classmethod
    def from_meta(cls, meta: object) -> Budget:
        """A budget from a trace's run line; nothing usable there is no budget."""
        if not isinstance(meta, dict):
            return cls()
        try:
            return cls(max_tokens=meta.get("max_tokens"), max_cost=meta.get("max_cost"))
        except (BadBudget, TypeError):
            return cls()
