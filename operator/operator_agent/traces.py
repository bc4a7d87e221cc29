"""Run folders and the incremental trace.

A run folder holds trace.jsonl (one JSON object per line: the run, then each
step, then the result) and the step screenshots. Every line is written and
flushed as soon as it is known, so a run killed mid-way keeps every finished
step; the loader forgives a last line cut off by that kill. What a run did is
its owner's alone: folders 0700, files 0600, secrets redacted (redaction.py).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .private_files import create_private, private_dir, write_private
from .protocols import ConfigError
from .redaction import REDACTED as REDACTED  # re-exported: the trace names its marker
from .redaction import Redactor
from .types import RunResult, StepRecord

TRACE_FILE = "trace.jsonl"
_LAST = ("last", "latest")
_STAMP = "%Y%m%d-%H%M%S"


def runs_root(root: Path | None = None) -> Path:
    """Where run folders live: `root`, else $OPERATOR_RUNS_DIR, else ./runs."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get("OPERATOR_RUNS_DIR") or "runs")


def _slug(task: str, limit: int = 32) -> str:
    # ASCII only, so run ids are safe in any shell and file system.
    text = unicodedata.normalize("NFKD", task).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or (words[0][:limit] if words else "run")


def new_run_dir(root: Path | None = None, task: str = "") -> Path:
    """Create and return a fresh run folder, e.g. runs/20261121-033512-buy-usb-c-cable-ab12.

    The id starts with the UTC time (UTC so names sort in time order even across
    daylight-saving changes), then a slug of the task and a random suffix.
    """
    base = private_dir(runs_root(root), tighten=False)  # ./runs may be a folder the person shares
    while True:
        stamp = datetime.now(UTC).strftime(_STAMP)
        path = base / f"{stamp}-{_slug(task)}-{secrets.token_hex(2)}"
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:  # two runs in the same second drew the same suffix
            continue
        return private_dir(path)  # mkdir's mode is cut by the umask: set it outright


def discard_if_empty(run_dir: Path) -> bool:
    """Remove a run folder nothing was written to (the run never started); True if removed.

    rmdir removes only an empty folder, so a run that wrote anything is never touched.
    """
    try:
        Path(run_dir).rmdir()
    except OSError:  # not empty, or already gone
        return False
    return True


@contextmanager
def reserved_run_dir(root: Path | None = None, task: str = "") -> Iterator[Path]:
    """A fresh run folder made before the run (its name is the run id the audit log
    needs), removed again on the way out if the run never started: a browser that did
    not launch or a page that did not open leaves no empty folder behind."""
    path = new_run_dir(root, task)
    try:
        yield path
    finally:
        discard_if_empty(path)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _image_ext(data: bytes) -> str:
    return ".jpg" if data[:3] == b"\xff\xd8\xff" else ".png"


class RunTrace:
    """The Trace of one run: appends to run_dir/trace.jsonl as the run goes."""

    def __init__(self, run_dir: Path, *, task: str, meta: dict[str, Any] | None = None,
                 redactor: Redactor | None = None) -> None:
        self.run_dir = private_dir(Path(run_dir))
        self.redactor = redactor if redactor is not None else Redactor()
        self.path = self.run_dir / TRACE_FILE
        # Exclusive: a trace is never overwritten or appended to by a second run.
        self._file: TextIO | None = open(create_private(self.path), "w", encoding="utf-8")  # noqa: SIM115
        self._write({"type": "run", "task": task, "started": _now_iso(), "meta": meta or {}})

    def _write(self, obj: dict[str, Any]) -> None:
        if self._file is None:
            raise RuntimeError(f"trace {self.path} is already finished")
        line = json.dumps(self.redactor.redact_obj(obj), ensure_ascii=False)
        self._file.write(line + "\n")
        self._file.flush()  # never batch: a killed run keeps every finished step

    def record(self, step: StepRecord, screenshot: bytes | None) -> None:
        """Write the step (and its screenshot, first, so the line never names a
        missing file). Sets step.screenshot to the file name on the caller's record."""
        if screenshot:
            name = f"step-{step.step:03d}{_image_ext(screenshot)}"
            write_private(self.run_dir / name, screenshot)
            step.screenshot = name
        self._write({"type": "step", **step.model_dump(mode="json")})

    def event(self, kind: str, data: dict[str, Any]) -> None:
        """A line of another kind (a manager's plan, checks, ...), written at once like a
        step; load_run skips kinds it does not know."""
        if kind in ("run", "step", "result"):
            raise ValueError(f"{kind!r} lines are the trace's own")
        self._write({"type": kind, **data})

    def finish(self, result: RunResult) -> None:
        self._write({"type": "result", **result.model_dump(mode="json")})
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> RunTrace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class LoadedRun:
    run_dir: Path
    task: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    started: datetime | None = None
    steps: list[StepRecord] = field(default_factory=list)
    result: RunResult | None = None  # None: the run was killed before it finished
    events: list[dict[str, Any]] = field(default_factory=list)  # lines of other kinds (RunTrace.event)


def _fields(model: type[StepRecord] | type[RunResult], obj: dict[str, Any]) -> dict[str, Any]:
    # Keep only known fields, so traces written by a newer version still load.
    return {k: v for k, v in obj.items() if k in model.model_fields}


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def load_run(run_dir: Path) -> LoadedRun:
    """Read a run folder back. A last line cut off mid-write is skipped; any
    other broken line is a real corruption and raises ValueError."""
    run_dir = Path(run_dir)
    path = run_dir / TRACE_FILE
    if not path.is_file():
        raise ConfigError(f"{run_dir} is not a run folder (no {TRACE_FILE})")
    lines = [ln for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    run = LoadedRun(run_dir=run_dir)
    for number, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            kind = obj.get("type")
            if kind == "run":
                run.task = str(obj.get("task", ""))
                run.meta = dict(obj.get("meta") or {})
                run.started = _parse_time(obj.get("started"))
            elif kind == "step":
                run.steps.append(StepRecord.model_validate(_fields(StepRecord, obj)))
            elif kind == "result":
                run.result = RunResult.model_validate(_fields(RunResult, obj))
            else:
                run.events.append(obj)
        except ValueError as exc:  # JSONDecodeError and ValidationError are ValueErrors
            if number == len(lines):
                break  # truncated by a kill mid-write
            raise ValueError(f"{path}:{number}: broken trace line: {exc}") from exc
    return run


def _started_key(run_dir: Path) -> tuple[float, str]:
    """Sort key for "newest": the precise start time from the trace, else the
    second-resolution time in the name; then the name."""
    try:
        with (run_dir / TRACE_FILE).open(encoding="utf-8") as f:
            started = _parse_time(json.loads(f.readline()).get("started"))
    except (OSError, ValueError, AttributeError):
        started = None
    if started is None:
        try:
            started = datetime.strptime(run_dir.name[:15], _STAMP).replace(tzinfo=UTC)
        except ValueError:
            started = datetime.fromtimestamp(0, UTC)
    return started.timestamp(), run_dir.name


def list_runs(root: Path | None = None) -> list[Path]:
    """Run folders under the root, oldest first."""
    base = runs_root(root)
    if not base.is_dir():
        return []
    runs = [p for p in base.iterdir() if (p / TRACE_FILE).is_file()]
    return sorted(runs, key=_started_key)


def find_run(ref: str, root: Path | None = None) -> Path:
    """A run folder from a path, a run id (or unique id prefix) or "last"/"latest"."""
    base = runs_root(root)
    hint = f"pass a run folder, a run id from {base}, or 'last'"
    if ref.lower() in _LAST:
        runs = list_runs(base)
        if not runs:
            raise ConfigError(f"no runs in {base}: run a task first, or {hint}")
        return runs[-1]
    for candidate in (Path(ref), base / ref):
        if (candidate / TRACE_FILE).is_file():
            return candidate
    matches = [p for p in list_runs(base) if p.name.startswith(ref)] if ref else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ConfigError(f"run id {ref!r} is ambiguous ({len(matches)} runs in {base}): {hint}")
    raise ConfigError(f"no run {ref!r} found: {hint}")
