"""Precedence: which of two preferences that disagree stands.

1. Explicit beats learned: what the person said (told, or answered when asked)
   outranks what was inferred from their choices, at any scope.
2. A narrower scope beats a wider one: site > category > everywhere.
3. Otherwise the later statement wins.

Rule 1 comes first because a learned preference is a guess about the person; their
own words are not. "Later overrides earlier on the same subject and scope" is also
applied when a statement is stored (the older one is marked superseded), so the
store does not keep showing both.
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import EVERYWHERE, POSITIVE, Preference, subject_info

SOURCE_RANK = {"told": 1, "asked": 1, "learned": 0}


def scope_rank(scope: str) -> int:
    """0 everywhere, 1 a category, 2 a site: higher is narrower."""
    if scope == EVERYWHERE:
        return 0
    return 2 if scope.startswith("site:") else 1


def value_key(subject: str, value: str) -> str:
    """What makes two values "the same": case and spacing never matter; for keyed
    subjects (loyalty numbers) only the key before ":" does."""
    v = " ".join(value.casefold().split())
    if subject_info(subject).kind == "keyed":
        v = v.split(":", 1)[0].strip()
    return v


def conflicts(a: Preference, b: Preference) -> bool:
    """Whether a and b cannot both stand (scope is not considered here)."""
    if a.subject != b.subject:
        return False
    if value_key(a.subject, a.value) == value_key(b.subject, b.value):
        return True  # the same thing said twice, perhaps with another polarity
    kind = subject_info(a.subject).kind
    if a.subject == "note" or kind == "keyed":
        return False  # free text, or another key (programme)
    positive = a.polarity in POSITIVE and b.polarity in POSITIVE
    if kind == "single":
        return positive  # one wanted value; avoided ones stand side by side
    # set: several may be preferred, but "must X" leaves no room for preferring Y.
    return positive and "must" in (a.polarity, b.polarity)


def priority(p: Preference) -> tuple[int, int, float, int]:
    return (SOURCE_RANK[p.source], scope_rank(p.scope), p.created.timestamp(), p.number)


def overrides(new: Preference, old: Preference) -> bool:
    """Whether storing `new` (an explicit statement) retires `old` for good."""
    return new.scope == old.scope and conflicts(new, old)


def resolve(prefs: Iterable[Preference]) -> list[Preference]:
    """The preferences that stand, best first: of any conflicting ones only the
    winner by the rules above is kept.

    Same result as checking `conflicts` against every kept rival, in one pass:
    per subject it remembers the values taken and whether a wanted (or a "must")
    value is, which is all `conflicts` looks at. Stores hold thousands of brands.
    """
    kept: list[Preference] = []
    taken: dict[str, set[str]] = {}
    wanted: set[str] = set()  # subjects with a kept prefer/must
    musts: set[str] = set()  # subjects with a kept must
    for p in sorted(prefs, key=priority, reverse=True):
        s, key, kind = p.subject, value_key(p.subject, p.value), subject_info(p.subject).kind
        positive = p.polarity in POSITIVE and s != "note" and kind != "keyed"
        if key in taken.get(s, ()):
            continue
        if positive and kind == "single" and s in wanted:
            continue
        if positive and kind == "set" and (s in musts or (p.polarity == "must" and s in wanted)):
            continue
        taken.setdefault(s, set()).add(key)
        if positive:
            wanted.add(s)
            if p.polarity == "must":
                musts.add(s)
        kept.append(p)
    return kept
