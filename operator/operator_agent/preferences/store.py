"""The preference store: SQLite, typed rows, short stable ids.

Writes come only from the person (add, forget, import, accept/reject a proposal)
or from the learner's proposals, which stay inactive until the person accepts
them. Nothing here reads page text: relevant() and the guard only look pages up.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..protocols import ConfigError
from ..types import Observation, PreferenceNote
from . import db, lookup
from .context import Context, build_context
from .lookup import index_terms, to_pref
from .model import HARD, POSITIVE, Draft, Polarity, Preference, Source, Status, now, subject_info
from .names import Names, learned_names
from .relevance import DEFAULT_BUDGET, select
from .rules import overrides, resolve, value_key
from .text import explain as explain_prefs

EXPORT_FORMAT = "operator-agent/preferences"


def _n(pref_id: str) -> int | None:
    s = pref_id.strip().lower()
    return int(s[1:]) if s.startswith("p") and s[1:].isdigit() else None


class PreferenceStore:
    """`PreferenceStore(path)`; path None is the default file (see db.default_path),
    ":memory:" a throwaway store. Implements protocols.PreferenceSource."""

    def __init__(self, path: str | Path | None = None, *, budget_tokens: int = DEFAULT_BUDGET) -> None:
        self.path = db.default_path() if path is None else path
        self.budget_tokens = budget_tokens
        self.db = db.connect(self.path)
        self._names: tuple[tuple[int, int], Names] | None = None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> PreferenceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- reading ---------------------------------------------------------------

    def get(self, pref_id: str) -> Preference | None:
        n = _n(pref_id)
        if n is None:
            return None
        r = self.db.execute("SELECT * FROM prefs WHERE n = ?", (n,)).fetchone()
        return to_pref(r) if r else None

    def require(self, pref_id: str) -> Preference:
        p = self.get(pref_id)
        if p is None:
            raise ConfigError(f"no preference {pref_id!r}: see `operator prefs list --all`")
        return p

    def preferences(self, statuses: Sequence[Status] = ("active",)) -> list[Preference]:
        """The preferences with these statuses (by default the ones in use), oldest first."""
        marks = ",".join("?" * len(statuses))
        rows = self.db.execute(f"SELECT * FROM prefs WHERE status IN ({marks}) ORDER BY n", tuple(statuses))
        return [to_pref(r) for r in rows]

    def all(self) -> list[Preference]:
        return [to_pref(r) for r in self.db.execute("SELECT * FROM prefs ORDER BY n")]

    def proposals(self) -> list[Preference]:
        return self.preferences(("proposed",))

    def superseded_by(self, pref_id: str) -> list[Preference]:
        rows = self.db.execute("SELECT * FROM prefs WHERE superseded_by = ? ORDER BY n", (pref_id,))
        return [to_pref(r) for r in rows]

    def __len__(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM prefs").fetchone()[0])

    # --- use --------------------------------------------------------------------

    def candidates(self, ctx: Context) -> list[Preference]:
        """Active preferences whose scope applies here and whose category is in play
        or whose words meet the task's or page's: a few, never the whole store."""
        return lookup.candidates(self.db, ctx)

    def relevant(self, task: str, observation: Observation) -> list[PreferenceNote]:
        """The preferences that bear on this task on this page, resolved by the
        precedence rules and cut to the token budget."""
        ctx = build_context(task, observation)
        pool = lookup.candidates(self.db, ctx)
        known = {p.id for p in pool}
        chosen = select(pool, ctx, self.budget_tokens)
        for _ in range(3):  # what is shown must have met every rival on its value
            extra = lookup.same_value(self.db, ctx, chosen, known)
            if not extra:
                break
            pool += extra
            known |= {p.id for p in extra}
            chosen = select(pool, ctx, self.budget_tokens)
        return [PreferenceNote(id=p.id, text=p.text) for p in chosen]

    def standing(self, ctx: Context, subjects: Iterable[str], found_by: set[str]) -> list[Preference]:
        """The must/never preferences on these subjects that stand here after precedence
        (for the guard); a "never" on a brand or airline only when named in `found_by`."""
        pool = lookup.hard(self.db, ctx, subjects, found_by)
        return [p for p in resolve(pool) if p.polarity in HARD]

    def names(self) -> Names:
        """The brands and airlines the person's data knows (their preferences and the
        options they chose among), for the parser and the page reader. Read again only
        after a write, by this connection or another."""
        version = (int(self.db.execute("PRAGMA data_version").fetchone()[0]), self.db.total_changes)
        if self._names is None or self._names[0] != version:
            self._names = (version, learned_names(self.db))
        return self._names[1]

    def explain(self, ids: Iterable[str]) -> str:
        """Cited ids in words: "because you prefer aisle seats" ("" when none is known)."""
        found = [p for p in (self.get(i) for i in ids) if p is not None]
        return explain_prefs(found)

    # --- writing ----------------------------------------------------------------

    def add(self, item: Draft | Preference, *, source: Source | None = None,
            evidence: Sequence[str] = ()) -> Preference:
        """Store a preference the person stated; an older one it contradicts on the
        same subject and scope is marked superseded."""
        data = item.model_dump(exclude={"id"})
        if source is not None:
            data["source"] = source
        if evidence:
            data["evidence"] = list(evidence)
        data.setdefault("status", "active")
        t = now()
        data["created"] = data["updated"] = t
        pref = Preference.model_validate(data)
        if pref.source == "learned" and pref.status == "active" and pref.polarity == "must":
            raise ValueError("a learned preference becomes a must only when the person accepts it so")
        with self.transaction():
            stored = self._insert(pref)
            if stored.status == "active":
                stored = self._settle(stored)
        return stored

    def forget(self, pref_id: str) -> Preference:
        p = self.require(pref_id)
        with self.transaction():
            self.db.execute("DELETE FROM prefs WHERE n = ?", (p.number,))
            self.db.execute("UPDATE prefs SET superseded_by = NULL WHERE superseded_by = ?", (p.id,))
        return p

    def propose(self, draft: Draft, *, evidence: Sequence[str], confidence: float) -> Preference | None:
        """A learned preference for the person to review (never "must"). Updates a
        pending proposal for the same thing; None when the person already holds it
        or rejected it before."""
        if draft.polarity in HARD:
            draft = draft.model_copy(update={"polarity": "prefer" if draft.polarity == "must" else "avoid"})
        rows = self.db.execute(
            "SELECT * FROM prefs WHERE subject = ? AND vkey = ? AND status != 'superseded'",
            (draft.subject, value_key(draft.subject, draft.value)))
        same = [to_pref(r) for r in rows]
        if any(p.status in ("active", "rejected") for p in same):
            return None
        pending = [p for p in same if p.status == "proposed"]
        t = now()
        with self.transaction():
            if pending:
                p = pending[0]
                self.db.execute("UPDATE prefs SET evidence = ?, confidence = ?, updated = ? WHERE n = ?",
                                (json.dumps(list(evidence)), confidence, t.isoformat(), p.number))
                return self.require(p.id)
            pref = Preference(**draft.model_dump(), source="learned", evidence=list(evidence),
                              confidence=confidence, status="proposed", created=t, updated=t)
            return self._insert(pref)

    def accept(self, pref_id: str, polarity: Polarity | None = None) -> Preference:
        """The person takes a proposal (optionally as must/never): it is used from now on."""
        p = self.require(pref_id)
        if p.status != "proposed":
            raise ConfigError(f"{p.id} is not a proposal (it is {p.status})")
        with self.transaction():
            self.db.execute("UPDATE prefs SET status = 'active', polarity = ?, updated = ? WHERE n = ?",
                            (polarity or p.polarity, now().isoformat(), p.number))
            return self._settle(self.require(p.id))

    def reject(self, pref_id: str) -> Preference:
        p = self.require(pref_id)
        if p.status != "proposed":
            raise ConfigError(f"{p.id} is not a proposal (it is {p.status})")
        self.db.execute("UPDATE prefs SET status = 'rejected', updated = ? WHERE n = ?",
                        (now().isoformat(), p.number))
        return self.require(p.id)

    def export_json(self) -> dict[str, Any]:
        return {"format": EXPORT_FORMAT, "version": 1,
                "preferences": [p.model_dump(mode="json") for p in self.all()]}

    def import_json(self, data: Any) -> list[Preference]:
        """Add the preferences of an export (new ids; ones already here are skipped).
        Precedence is settled in time order, so an older imported statement does
        not override a newer one already in the store."""
        items = data.get("preferences") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise ConfigError("not a preferences export: expected {\"preferences\": [...]} or a list")
        try:
            prefs = [Preference.model_validate(i) for i in items]
        except ValidationError as exc:
            raise ConfigError(f"invalid preference in the import: {exc.errors()[0]['msg']}") from None
        prefs.sort(key=lambda p: (p.updated, p.number))
        ids: dict[str, str] = {}
        added: list[Preference] = []
        with self.transaction():
            for p in prefs:
                if self._has(p):
                    continue
                old_id = p.id
                stored = self._insert(p.model_copy(update={"superseded_by": None}))
                ids[old_id] = stored.id
                if stored.status == "active":
                    stored = self._settle(stored)
                added.append(stored)
            for p in prefs:  # the history of what replaced what, in the new ids
                if p.superseded_by in ids and p.id in ids:
                    self.db.execute("UPDATE prefs SET superseded_by = ? WHERE n = ?",
                                    (ids[p.superseded_by], _n(ids[p.id])))
        return [self.require(p.id) for p in added]

    # --- internals ----------------------------------------------------------------

    def _has(self, p: Preference) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM prefs WHERE subject = ? AND scope = ? AND vkey = ? AND polarity = ?"
            " AND status = ?",
            (p.subject, p.scope, value_key(p.subject, p.value), p.polarity, p.status)).fetchone()
        return row is not None

    def _insert(self, p: Preference) -> Preference:
        cur = self.db.execute(
            "INSERT INTO prefs (subject, value, vkey, polarity, scope, source, evidence, confidence, status,"
            " category, created, updated, superseded_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (p.subject, p.value, value_key(p.subject, p.value), p.polarity, p.scope, p.source,
             json.dumps(p.evidence), p.confidence, p.status, p.category, p.created.isoformat(),
             p.updated.isoformat(), p.superseded_by))
        n = cur.lastrowid
        index = index_terms(p)
        self.db.executemany("INSERT OR IGNORE INTO pref_terms (term, n) VALUES (?, ?)",
                            [(t, n) for t in index])
        return p.model_copy(update={"id": f"p{n}"})

    def _settle(self, p: Preference) -> Preference:
        """Later overrides earlier on the same subject and scope: whichever of `p` and an
        active rival was stated earlier is marked superseded by the other."""
        # Only rows that can conflict (rules.conflicts decides): the same value, or a
        # wanted value where p wants one too. Keeps a store with thousands of brands fast.
        kind = subject_info(p.subject).kind
        rivals = "polarity = 'x'"  # none
        if p.polarity in POSITIVE and kind == "single":
            rivals = "polarity IN ('prefer', 'must')"
        elif p.polarity in POSITIVE and kind == "set" and p.subject != "note":
            rivals = "polarity IN ('prefer', 'must')" if p.polarity == "must" else "polarity = 'must'"
        rows = self.db.execute(
            f"SELECT * FROM prefs WHERE subject = ? AND scope = ? AND status = 'active' AND n != ?"
            f" AND (vkey = ? OR {rivals})", (p.subject, p.scope, p.number, value_key(p.subject, p.value)))
        for q in map(to_pref, rows):
            if not overrides(p, q):
                continue
            older, newer = (q, p) if (q.updated, q.number) <= (p.updated, p.number) else (p, q)
            self.db.execute("UPDATE prefs SET status = 'superseded', superseded_by = ? WHERE n = ?",
                            (newer.id, older.number))
            if older is p:
                break
        return self.require(p.id)
