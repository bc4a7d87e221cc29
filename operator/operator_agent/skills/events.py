"""A recording on disk: a folder (recordings_dir()/NAME by default) with recording.json
(metadata), events.jsonl (one event per line, written as it happens), shots/ (page
screenshots, JPEG) and crops/ (the acted-on element, cut out of the screenshot before
the event).

Event types: click, fill, select, check, press, scroll (from the page), navigate,
new_tab, switch_tab, close_tab (from the browser), and `after` lines that add what
the page looked like once an event had settled (url, headings, screenshot).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict

from ..permissions.paths import data_dir
from ..protocols import ConfigError

RECORDINGS_ENV = "OPERATOR_RECORDINGS_DIR"
META = "recording.json"
EVENTS = "events.jsonl"


def recordings_dir() -> Path:
    """Where `operator record` keeps recordings: $OPERATOR_RECORDINGS_DIR, else recordings/
    in the user's data folder (~/.local/share/operator-agent/recordings on Linux)."""
    env = os.environ.get(RECORDINGS_ENV)
    return Path(env).expanduser() if env else data_dir() / "recordings"


class RecordingMeta(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    start_url: str
    task: str = ""  # what the person said they were doing, if they did
    started: str = ""
    ended: str = ""
    stopped: str = ""  # why: window closed, Ctrl+C, stop()
    viewport: list[int] = [1280, 800]
    events: int = 0
    version: int = 1


class Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    seq: int
    t: float = 0.0  # when the person acted (epoch ms)
    type: str
    page: int = 0  # tab index
    url: str = ""  # the page's URL when it happened
    frame: dict[str, Any] | None = None  # {url, path, title} when inside an iframe
    target: dict[str, Any] | None = None  # describe.js output, bbox in page coordinates
    value: str | None = None  # typed text (never for secrets)
    secret: str | None = None  # which kind of secret was typed (its value is not kept)
    option: str | None = None
    checked: bool | None = None
    key: str | None = None
    dy: float | None = None
    height: float | None = None
    view: float | None = None
    before: str | None = None  # screenshot before (file in shots/)
    crop: str | None = None  # the element, cut out (file in crops/)
    # `after` lines:
    shot: str | None = None
    title: str | None = None
    headings: list[str] | None = None


@dataclass
class Recording:
    path: Path
    meta: RecordingMeta
    events: list[Event]  # everything but `after` lines, in file order
    after: dict[int, Event] = field(default_factory=dict)  # seq -> its after line

    def settled_url(self, event: Event) -> str:
        a = self.after.get(event.seq)
        return a.url if a is not None and a.url else event.url


def find_recording(ref: str) -> Path:
    """A recording by its folder, or by its name in recordings_dir()."""
    path = Path(ref).expanduser()
    if (path / EVENTS).is_file():
        return path
    named = recordings_dir() / ref
    if Path(ref).name == ref and (named / EVENTS).is_file():
        return named
    if path.is_dir():
        return path  # load_recording says what it lacks
    root = recordings_dir()
    known = sorted(p.parent.name for p in root.glob(f"*/{EVENTS}")) if root.is_dir() else []
    raise ConfigError(f"no recording {ref!r}: not a folder, nor a name in {root} "
                      f"(known: {', '.join(known) or 'none yet'}); record one with "
                      "`operator record NAME --url URL`")


def load_recording(path: Path) -> Recording:
    meta_path, events_path = path / META, path / EVENTS
    if not events_path.is_file():
        raise ConfigError(f"{path} is not a recording (no {EVENTS}); record one with "
                          "`operator record NAME --url URL`")
    try:
        meta = RecordingMeta.model_validate_json(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = RecordingMeta(name=path.name, start_url="")
    events: list[Event] = []
    after: dict[int, Event] = {}
    for line in events_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            ev = Event.model_validate_json(line)
        except ValueError:
            continue  # a line cut short when the recorder was killed
        if ev.type == "after":
            after[ev.seq] = ev
        else:
            events.append(ev)
    return Recording(path, meta, events, after)


class EventWriter:
    """Appends events as JSON lines, flushed one by one (a crash keeps what was written)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8")

    def write(self, event: dict[str, Any]) -> None:
        self._file.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def write_meta(path: Path, meta: RecordingMeta) -> None:
    tmp = path / (META + ".tmp")
    tmp.write_text(meta.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(path / META)
