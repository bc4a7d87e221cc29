"""Sensitive sites: banking, payments, email, health, government, crypto wallets.

Domain lists ship in sensitive_sites.toml; a policy chooses the categories that
apply and may add domains to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..hosts import DomainPattern
from ..policy import Policy, shipped_sites


@dataclass(frozen=True)
class SiteMatch:
    category: str
    pattern: DomainPattern  # what matched: an approval covers every host it matches


class SensitiveSites:
    def __init__(self, categories: Mapping[str, tuple[DomainPattern, ...]]) -> None:
        # Most specific pattern first, so "mail.google.com" beats a broader entry.
        self._entries = sorted(((p, cat) for cat, pats in categories.items() for p in pats),
                               key=lambda e: (-len(e[0].host), e[0].wildcard))

    @classmethod
    def from_policy(cls, policy: Policy) -> SensitiveSites:
        shipped, _ = shipped_sites()
        cats: dict[str, tuple[DomainPattern, ...]] = {c: shipped.get(c, ()) for c in policy.categories}
        for cat, extra in policy.sensitive_extra:
            if cat in cats:
                cats[cat] = (*cats[cat], *extra)
        return cls(cats)

    def match(self, host: str) -> SiteMatch | None:
        if not host:
            return None
        for pat, cat in self._entries:
            if pat.matches(host):
                return SiteMatch(cat, pat)
        return None

    def category(self, host: str) -> str | None:
        m = self.match(host)
        return m.category if m else None

    def hosts(self) -> list[str]:
        """The listed domains (for look-alike protection)."""
        return [p.host for p, _ in self._entries]
