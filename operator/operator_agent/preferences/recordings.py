"""Learning from recorded demonstrations as well as from runs.

The recorder (skills/, `operator record`) writes for each click the repeated item the
element sat in and its like siblings (name and text of each), and for each select its
options. Each such pick becomes a step shaped like a run's: an observation text with
one line per sibling's words and one `[k] role "name"` line per sibling, and the
click on the chosen one. So the learner reads demonstrations with the same code as
runs, and the person's own choices are the evidence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..types import ActionResult, Click, Element, Select, StepRecord

SOURCE_PREFIX = "recording:"


def _flat(text: str) -> str:
    # One line; never mistaken for an element line or a heading.
    return " ".join(text.split()).lstrip("[#") or "·"


def _step(seq: int, url: str, title: str, text: str, action: Click | Select, target: Element) -> StepRecord:
    return StepRecord(step=seq, url=url, title=title, observation_text=text, actions=[action],
                      results=[ActionResult(ok=True, target=target)])


def _select(seq: int, url: str, title: str, target: dict[str, Any], option: str) -> StepRecord | None:
    options = [str(o) for o in target.get("options") or []]
    if option not in options:
        return None
    el = Element(index=1, role=str(target.get("role") or "combobox"), tag="select",
                 name=str(target.get("name") or ""), options=options)
    return _step(seq, url, title, f"[1] {el.role} {json.dumps(el.name)}", Select(index=1, option=option), el)


def _click(seq: int, url: str, title: str, target: dict[str, Any]) -> StepRecord | None:
    item = target.get("item") or {}
    siblings = item.get("siblings") or []
    chosen = item.get("index")
    if not isinstance(chosen, int) or not 0 <= chosen < len(siblings):
        return None
    role, lines = str(target.get("role") or "button"), [f"title: {title}"]
    for k, sib in enumerate(siblings):
        name = str(sib.get("name") or "")
        if k != chosen and (sib.get("disabled") or not name):
            continue  # not on offer: says nothing about the choice
        lines.append(_flat(str(sib.get("text") or "")))
        lines.append(f"[{k + 1}] {role} {json.dumps(name if k != chosen else target.get('name') or name)}")
    el = Element(index=chosen + 1, role=role, tag=str(target.get("tag") or "button"),
                 name=str(target.get("name") or ""))
    return _step(seq, url, title, "\n".join(lines), Click(index=chosen + 1), el)


def steps_from_recording(path: Path) -> list[StepRecord]:
    """The picks among like items in a recording, as steps the learner reads."""
    from ..skills.events import load_recording  # the recorder's own reader of its format

    rec = load_recording(path)
    steps = []
    for ev in rec.events:
        target = ev.target or {}
        after = rec.after.get(ev.seq)
        title = (after.title if after and after.title else "") or ""
        step = None
        if ev.type == "select" and ev.option:
            step = _select(ev.seq, ev.url, title, target, ev.option)
        elif ev.type == "click":
            step = _click(ev.seq, ev.url, title, target)
        if step is not None:
            steps.append(step)
    return steps


def finished_recordings(root: Path) -> list[Path]:
    """Recording folders whose recorder has stopped (a live one is read when done)."""
    if not root.is_dir():
        return []
    done = []
    for path in sorted(p for p in root.iterdir() if (p / "events.jsonl").is_file()):
        try:
            meta = json.loads((path / "recording.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict) and (meta.get("stopped") or meta.get("ended")):
            done.append(path)
    return done
