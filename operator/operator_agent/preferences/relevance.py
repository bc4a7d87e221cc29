"""Which preferences to show the planner this step, and how many.

Candidates come from the store already narrowed (scope applies, category in play,
or some word shared with the task or page). Here they are scored, resolved by the
precedence rules so two that disagree are never both shown, and cut to a token
budget, most relevant first.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..tokens import count_tokens
from .context import Context, words
from .model import HARD, Preference
from .rules import resolve, scope_rank

DEFAULT_BUDGET = 300  # tokens for all preference lines of one step


def _stem(ws: frozenset[str] | set[str]) -> set[str]:
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in ws}


def score(p: Preference, ctx: Context, task: set[str], page: set[str]) -> float:
    """How much this preference bears on the task here; 0 or less: not at all."""
    own = _stem(words(p.value))
    in_task, on_page = len(own & task), len(own & page)
    if p.category is not None and p.category in ctx.categories:
        s = 3.0
    elif p.scope != "everywhere":  # scoped to this site or category (it applies: checked before)
        s = 2.0
    elif in_task >= 1 or (p.category is None and on_page >= 2):
        s = 0.0  # the task names it (or, for a note, the page is about it)
    else:
        return 0.0
    s += 2.0 * in_task + 0.5 * min(on_page, 4)
    s += scope_rank(p.scope)
    if p.polarity in HARD:
        s += 1.0  # the guard will hold the agent to these: better it knows them
    s += 0.5 if p.explicit else 0.0
    return s * (0.5 + 0.5 * p.confidence)


def select(candidates: Sequence[Preference], ctx: Context, budget_tokens: int = DEFAULT_BUDGET,
           ) -> list[Preference]:
    task, page = _stem(ctx.task_words), _stem(ctx.page_words)
    scored = {p.id: score(p, ctx, task, page) for p in candidates if ctx.applies(p.scope)}
    # Resolve among all that bear on the task, so a winner is never cut while its loser shows.
    standing = resolve(p for p in candidates if scored.get(p.id, 0.0) > 0)
    standing.sort(key=lambda p: (-scored[p.id], -p.number))
    chosen: list[Preference] = []
    spent = misses = 0
    for p in standing:
        cost, _ = count_tokens(f"- [{p.id}] {p.text}\n")
        if spent + cost > budget_tokens:
            misses += 1  # a shorter one further down may still fit, but do not read on forever
            if misses >= 5:
                break
            continue
        chosen.append(p)
        spent += cost
    return chosen
