"""Which tasks changed outcome between two results files (task × seed pairs run in both;
a pair that either file did not run is counted apart, never as a failure)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .results import Key, TaskResult, by_key


@dataclass
class Comparison:
    fixed: list[tuple[TaskResult, TaskResult]] = field(default_factory=list)  # failed in A, passes in B
    broken: list[tuple[TaskResult, TaskResult]] = field(default_factory=list)  # passed in A, fails in B
    same: int = 0
    only_a: list[Key] = field(default_factory=list)
    only_b: list[Key] = field(default_factory=list)
    not_run: list[Key] = field(default_factory=list)  # in both files, not run in one or both
    rate_a: float = 0.0  # over the pairs in both
    rate_b: float = 0.0

    @property
    def p_value(self) -> float:
        """Two-sided exact sign test on the pairs that changed (McNemar's, exact): how likely a
        split at least this lopsided is when neither side is really better."""
        return sign_test(len(self.fixed), len(self.broken))

    @property
    def beyond_noise(self) -> bool:
        return self.p_value < 0.05


def sign_test(up: int, down: int) -> float:
    n = up + down
    if n == 0:
        return 1.0
    k = min(up, down)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def compare(a: list[TaskResult], b: list[TaskResult]) -> Comparison:
    ka, kb = by_key(a), by_key(b)
    shared = [k for k in ka if k in kb]
    both = [k for k in shared if ka[k].not_run is None and kb[k].not_run is None]
    out = Comparison(only_a=sorted(k for k in ka if k not in kb), only_b=sorted(k for k in kb if k not in ka),
                     not_run=sorted(set(shared) - set(both)))
    for k in sorted(both):
        ra, rb = ka[k], kb[k]
        if ra.success == rb.success:
            out.same += 1
        elif rb.success:
            out.fixed.append((ra, rb))
        else:
            out.broken.append((ra, rb))
    if both:
        out.rate_a = sum(ka[k].success for k in both) / len(both)
        out.rate_b = sum(kb[k].success for k in both) / len(both)
    return out


def _why(r: TaskResult) -> str:
    if r.error:
        return r.error
    failed = [f"{c.name}: {c.detail}" for c in r.checks if not c.ok]
    return failed[0] if failed else r.stop_reason


def render(c: Comparison, name_a: str = "A", name_b: str = "B") -> list[str]:
    """Plain lines for a terminal."""
    n = c.same + len(c.fixed) + len(c.broken)
    lines = [f"{n} task × seed pairs run in both: {name_a} {c.rate_a:.0%} → {name_b} {c.rate_b:.0%} "
             f"({len(c.fixed)} now pass, {len(c.broken)} now fail, {c.same} unchanged)",
             f"{'beyond noise' if c.beyond_noise else 'within noise'}: sign test on the pairs that changed, "
             f"p = {c.p_value:.3g}" + ("" if c.beyond_noise else " (not a difference at the 5% level)")]
    for title, pairs, mark in (("now fail", c.broken, "✗"), ("now pass", c.fixed, "✓")):
        if pairs:
            lines.append(f"{title}:")
            for ra, rb in pairs:
                lines.append(f"  {mark} {ra.suite}/{ra.task}#{ra.seed}: "
                             f"{_why(rb) if not rb.success else 'was: ' + _why(ra)}"[:200])
    for title, keys in ((f"only in {name_a}", c.only_a), (f"only in {name_b}", c.only_b),
                        ("not run in one or both", c.not_run)):
        if keys:
            shown = ", ".join(f"{s}/{t}#{d}" for s, t, d in keys[:8])
            lines.append(f"{title}: {len(keys)} ({shown}{' …' if len(keys) > 8 else ''})")
    return lines
