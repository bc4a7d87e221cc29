"""The read queries behind relevant() and the guard: narrow in SQL first, so a store
of thousands answers in milliseconds and is never read whole.

What a preference can be found by: its scope (applies here), its category (in
play), its words (shared with the task, page or chosen option), and, to resolve
precedence, its rivals (the same value, or another wanted value of the subject).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from .context import Context, words
from .model import SUBJECTS, Preference
from .rules import value_key

SET_SUBJECTS = tuple(s for s, info in SUBJECTS.items() if info.kind == "set")
_MAX_LOOKUP_TERMS = 400  # page words used to find preferences by overlap (the longest ones)


def terms(text: str) -> set[str]:
    """Words a preference is found by, with a plural "s" dropped so seat ~ seats."""
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words(text)}


# Words in many names that would find every airline or brand at once.
_GENERIC = frozenset({"air", "airway", "airline", "co", "inc", "ltd", "the", "and"})


def index_terms(p: Preference) -> set[str]:
    return terms(p.value) - _GENERIC


def to_pref(r: sqlite3.Row) -> Preference:
    # Rows were validated on the way in; constructing without validation keeps lookups fast.
    # Lookups select no evidence (it is only shown by `prefs list` and review).
    keys = r.keys()
    return Preference.model_construct(
        id=f"p{r['n']}", subject=r["subject"], value=r["value"], polarity=r["polarity"],
        scope=r["scope"], source=r["source"],
        evidence=json.loads(r["evidence"]) if "evidence" in keys else [],
        confidence=r["confidence"], status=r["status"], created=datetime.fromisoformat(r["created"]),
        updated=datetime.fromisoformat(r["updated"]), superseded_by=r["superseded_by"])


_LEAN = ("SELECT n, subject, value, polarity, scope, source, confidence, status, created, updated,"
         " superseded_by FROM prefs")
_WANTED_PER_SET = 60  # brands/airlines wanted but named nowhere here: the likeliest few
_BY_WORDS = 150  # preferences found by shared words: the best matches

def _marks(items: Sequence[Any]) -> str:
    return ",".join("?" * len(items))


def lookup_terms(ctx: Context) -> list[str]:
    task = sorted(terms(" ".join(ctx.task_words)))
    page = sorted(terms(" ".join(ctx.page_words)) - set(task), key=lambda w: (-len(w), w))
    return task + page[:_MAX_LOOKUP_TERMS]


def candidates(db: sqlite3.Connection, ctx: Context) -> list[Preference]:
    """Active preferences whose scope applies here and that bear on the task: of a
    category in play (a wanted brand or airline named nowhere here only among the
    likeliest few; an avoided one only when named), or sharing words with the task or
    page (the best matches). With their rivals where a "must" makes a subject exclusive."""
    scopes = ctx.scopes
    where = f"status = 'active' AND scope IN ({_marks(scopes)})"
    rows: dict[int, sqlite3.Row] = {}
    if ctx.categories:
        cats = sorted(ctx.categories)
        in_cats = f"{where} AND category IN ({_marks(cats)})"
        for r in db.execute(f"{_LEAN} WHERE {in_cats} AND (subject NOT IN ({_marks(SET_SUBJECTS)})"
                            " OR polarity = 'must')", [*scopes, *cats, *SET_SUBJECTS]):
            rows[r["n"]] = r
        for r in db.execute(f"{_LEAN} WHERE {in_cats} AND subject IN ({_marks(SET_SUBJECTS)})"
                            " AND polarity = 'prefer' ORDER BY scope != 'everywhere' DESC,"
                            f" source != 'learned' DESC, n DESC LIMIT {_WANTED_PER_SET}",
                            [*scopes, *cats, *SET_SUBJECTS]):
            rows[r["n"]] = r
    task = sorted(terms(" ".join(ctx.task_words)))
    lookup = lookup_terms(ctx)
    if lookup:
        weight = f"CASE WHEN term IN ({_marks(task)}) THEN 4 ELSE 1 END" if task else "1"
        hits = (f"SELECT n FROM pref_terms WHERE term IN ({_marks(lookup)}) GROUP BY n"
                f" ORDER BY sum({weight}) DESC, n DESC LIMIT {_BY_WORDS}")
        for r in db.execute(f"{_LEAN} WHERE {where} AND n IN ({hits})", [*scopes, *task, *lookup]):
            rows[r["n"]] = r
    found = [to_pref(r) for r in rows.values()]
    return found + _exclusive_rivals(db, ctx, found)


def _exclusive_rivals(db: sqlite3.Connection, ctx: Context, found: list[Preference]) -> list[Preference]:
    """Every wanted value of a subject where `found` may hold one exclusively but not
    all its rivals: a brand/airline subject with a "must", or a single-valued subject
    found by its words alone (its category is not in play, so its rivals were not read)."""
    subjects = sorted({p.subject for p in found
                       if (p.subject in SET_SUBJECTS and p.polarity == "must")
                       or (p.subject not in SET_SUBJECTS and p.subject != "note"
                           and p.category not in ctx.categories)})
    if not subjects:
        return []
    ids = {p.id for p in found}
    scopes = ctx.scopes
    rows = db.execute(f"{_LEAN} WHERE status = 'active' AND scope IN ({_marks(scopes)})"
                      f" AND subject IN ({_marks(subjects)}) AND polarity IN ('prefer', 'must')",
                      [*scopes, *subjects])
    return [p for p in map(to_pref, rows) if p.id not in ids]


def same_value(db: sqlite3.Connection, ctx: Context, prefs: Iterable[Preference],
               known: set[str]) -> list[Preference]:
    """Rivals that say something about the same value as `prefs` (any polarity), not
    already in `known` (ids)."""
    pairs = {(p.subject, value_key(p.subject, p.value)) for p in prefs}
    if not pairs:
        return []
    keys = sorted({k for _, k in pairs})
    scopes = ctx.scopes
    rows = db.execute(f"{_LEAN} WHERE status = 'active' AND scope IN ({_marks(scopes)})"
                      f" AND vkey IN ({_marks(keys)})", [*scopes, *keys])
    return [p for p in map(to_pref, rows) if p.id not in known
            and (p.subject, value_key(p.subject, p.value)) in pairs]


def hard(db: sqlite3.Connection, ctx: Context, subjects: Iterable[str], found_by: set[str],
         ) -> list[Preference]:
    """The must/never preferences (with their rivals) on these subjects that apply here.
    A "never" on a brand or airline comes only when its name is among `found_by`."""
    subjects = sorted(subjects)
    if not subjects:
        return []
    scopes, words_ = ctx.scopes, sorted(found_by)
    named = f"n IN (SELECT n FROM pref_terms WHERE term IN ({_marks(words_)}))" if words_ else "0"
    rows = db.execute(
        f"{_LEAN} WHERE status = 'active' AND scope IN ({_marks(scopes)})"
        f" AND subject IN ({_marks(subjects)}) AND polarity IN ('must', 'never')"
        f" AND (subject NOT IN ({_marks(SET_SUBJECTS)}) OR polarity = 'must' OR {named})",
        [*scopes, *subjects, *SET_SUBJECTS, *words_])
    found = [to_pref(r) for r in rows]
    if not found:
        return []
    # Rivals: the same value; and every wanted value of a subject where one is wanted
    # exclusively (any single-valued subject, or a set subject with a must).
    exclusive = sorted({p.subject for p in found
                        if p.subject not in SET_SUBJECTS or p.polarity == "must"})
    ids = {p.id for p in found}
    rivals = same_value(db, ctx, found, ids)
    if exclusive:
        rows = db.execute(
            f"{_LEAN} WHERE status = 'active' AND scope IN ({_marks(scopes)})"
            f" AND subject IN ({_marks(exclusive)}) AND polarity IN ('prefer', 'must')",
            [*scopes, *exclusive])
        rivals += [p for p in map(to_pref, rows) if p.id not in ids]
    return found + rivals
