"""Learning from the person's choices.

Each run (or recording) is read for choices at choice points: which of several
similar results, seats, products or delivery options was picked, with the
attributes of the chosen one and of the others on offer. A choice only counts for
an attribute when the alternatives differed in it (picking the only nonstop flight
says nothing about stops). When the same value is chosen consistently across
enough runs (3 of 3 by default), it is proposed to the person as a learned
"prefer"; it is used only after they accept it (`operator prefs review`).

The choice log records what was chosen, never what a page says about
preferences: page text cannot create or change a preference through here.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..traces import list_runs, load_run
from ..types import Click, RunResult, Select, StepRecord
from .choices import Choice, alternatives, choice_at, element_line
from .context import host_of
from .model import Draft, Preference, now
from .names import Names
from .recordings import SOURCE_PREFIX, finished_recordings, steps_from_recording
from .store import PreferenceStore
from .vocab import primary_window


@dataclass(frozen=True)
class ChoiceEvent:
    source: str  # a run id or "recording:NAME"
    step: int
    action: int
    subject: str
    chosen: str
    alternatives: tuple[str, ...]
    label: str
    host: str


def attributes(choice: Choice) -> dict[str, str]:
    """What a chosen option says about the person, by preference subject."""
    f, out = choice.facts, {}
    if choice.kind == "seat" and f.seat:
        out["flights.seat"] = f.seat
    if f.flight:
        if f.red_eye or f.departs is not None:
            out["flights.departure_time"] = "red-eye" if f.red_eye else primary_window(f.departs or 0)
        if f.stops is not None:
            out["flights.max_stops"] = str(f.stops)
        if len(f.airlines) == 1:  # a codeshare says nothing clear about the airline
            out["flights.airline"] = f.airlines[0]
    elif choice.kind in ("product", "cart") and f.brand:
        out["shopping.brand"] = f.brand
    if f.speed:
        out["shipping.speed"] = f.speed
    return out


def choices_in_step(source: str, step: StepRecord, names: Names | None = None) -> list[ChoiceEvent]:
    """The informative choices one recorded step made; `names` (the store's) find the
    brands and airlines a page names without saying so."""
    if step.preference_ids:
        return []  # decided by a stored preference: no new evidence about the person
    events = []
    for i, (action, result) in enumerate(zip(step.actions, step.results, strict=False)):
        if not result.ok or not isinstance(action, Click | Select):
            continue
        el = result.target
        role, name = (el.role, el.name) if el else ("", "")
        if el is None and (line := element_line(step.observation_text, action.index)):
            role, name = line.role, line.name
        if not role:
            continue
        if isinstance(action, Select):
            chosen = choice_at(action.index, role, name, step.observation_text, option=action.option,
                               names=names)
            others = [c for o in (el.options if el and el.options else []) if o != action.option
                      for c in [choice_at(action.index, role, name, step.observation_text, option=o,
                                          names=names)] if c]
        else:
            chosen = choice_at(action.index, role, name, step.observation_text, title=step.title, names=names)
            others = alternatives(action.index, role, name, step.observation_text, title=step.title,
                                  names=names)
        if chosen is None:
            continue
        offered = [attributes(o) for o in others]
        for subject, value in attributes(chosen).items():
            alts = tuple(sorted({a[subject] for a in offered if subject in a}))
            if any(a != value for a in alts):
                events.append(ChoiceEvent(source, step.step, i, subject, value, alts, chosen.label[:80],
                                          host_of(step.url)))
    return events


class Learner:
    """Logs choices into the store's file and turns consistent ones into proposals."""

    def __init__(self, store: PreferenceStore, *, min_sources: int = 3, min_share: float = 0.8) -> None:
        self.store = store
        self.min_sources = min_sources
        self.min_share = min_share

    def ingested(self, source: str) -> bool:
        row = self.store.db.execute("SELECT 1 FROM ingested WHERE source = ?", (source,)).fetchone()
        return row is not None

    def ingest(self, source: str, steps: Iterable[StepRecord]) -> int:
        """Log the choices of one run or recording (once per source); returns how many."""
        if self.ingested(source):
            return 0
        names = self.store.names()
        events = [e for step in steps for e in choices_in_step(source, step, names)]
        t = now().isoformat()
        with self.store.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO choices (source, step, action, subject, chosen, alternatives, label,"
                " host, created) VALUES (?,?,?,?,?,?,?,?,?)",
                [(e.source, e.step, e.action, e.subject, e.chosen, json.dumps(e.alternatives), e.label,
                  e.host, t) for e in events])
            db.execute("INSERT OR IGNORE INTO ingested (source, created) VALUES (?, ?)", (source, t))
        return len(events)

    def ingest_runs(self, root: Path | None = None) -> int:
        """Log every finished run under the runs folder not read before."""
        total = 0
        for run_dir in list_runs(root):
            if self.ingested(run_dir.name):
                continue
            try:
                run = load_run(run_dir)
            except (ValueError, OSError):
                continue  # a broken trace teaches nothing; it is reported elsewhere
            if run.result is not None:  # a run still going is read when it has finished
                total += self.ingest(run_dir.name, run.steps)
        return total

    def ingest_recordings(self, root: Path | None = None) -> int:
        """Log the picks of every finished recording not read before (source "recording:NAME")."""
        from ..skills.events import recordings_dir

        total = 0
        for path in finished_recordings(root or recordings_dir()):
            source = SOURCE_PREFIX + path.name
            if self.ingested(source):
                continue
            try:
                steps = steps_from_recording(path)
            except (ValueError, OSError):
                continue  # a broken recording teaches nothing
            total += self.ingest(source, steps)
        return total

    def propose(self) -> list[Preference]:
        """Proposals for values chosen consistently; returns all pending proposals."""
        by_subject: dict[str, list[tuple[str, str, int, str]]] = defaultdict(list)
        for r in self.store.db.execute("SELECT subject, chosen, source, step, label FROM choices "
                                       "ORDER BY created, source, step, action"):
            by_subject[r["subject"]].append((r["chosen"], r["source"], r["step"], r["label"]))
        for subject, rows in by_subject.items():
            counts = Counter(value.casefold() for value, *_ in rows)
            top, k = counts.most_common(1)[0]
            picked = [row for row in rows if row[0].casefold() == top]
            sources = {src for _, src, _, _ in picked}
            if len(sources) < self.min_sources or k / len(rows) < self.min_share:
                continue
            if subject == "flights.max_stops" and top != "0":
                continue  # choosing a one-stop flight is about price, not a liking for stops
            evidence = [f"{src} step {step}: chose {label!r}" for _, src, step, label in picked]
            if k < len(rows):
                evidence.append(f"chosen {k} of {len(rows)} times")
            draft = Draft(subject=subject, value=picked[-1][0], polarity="prefer")
            self.store.propose(draft, evidence=evidence, confidence=round((k + 1) / (len(rows) + 2), 2))
        return self.store.proposals()


class LearningHook:
    """A RunHook: when a run ends, its choices are logged and proposals refreshed."""

    def __init__(self, learner: Learner) -> None:
        self.learner = learner
        self._steps: list[StepRecord] = []

    def on_step(self, step: StepRecord) -> None:
        self._steps.append(step)

    def on_run_end(self, result: RunResult) -> None:
        source = Path(result.run_dir).name if result.run_dir else f"run-{secrets.token_hex(4)}"
        steps, self._steps = self._steps, []
        self.learner.ingest(source, steps)
        self.learner.propose()
