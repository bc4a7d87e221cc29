"""The audit log: every decision of the permission gate, append-only, in SQLite.

One INSERT committed per decision (autocommit, WAL), so a run killed mid-way
keeps every entry written before it died. There is no update or delete API,
and triggers refuse UPDATE and DELETE from anyone else using the file.
Secrets never get here: every text of an entry (the action, the URL, even one a
page asked for and was refused, the reason, the summary) passes the log's
Redactor before it is written. The file is its owner's alone (0600).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..private_files import private_dir, private_file, tighten
from ..redaction import Redactor
from . import paths

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  run_id TEXT NOT NULL,
  event TEXT NOT NULL,          -- check | arrival | answer
  decision TEXT NOT NULL CHECK (decision IN ('allow', 'ask', 'deny')),
  answer TEXT,                  -- yes | no: the person's answer (event = answer)
  summary_hash TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL DEFAULT '',   -- JSON, secrets redacted
  url TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  summary TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS decisions_run ON decisions (run_id);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def connect(path: Path | str) -> sqlite3.Connection:
    """A WAL connection in autocommit mode (each statement is its own transaction),
    to a file only its owner can read (an older, readable one is tightened)."""
    target = Path(path).expanduser()
    if str(target) != ":memory:":
        # Our own data folder is made private; a folder the person chose is only created.
        private_dir(target.parent, tighten=target.parent.name == paths.APP)
        private_file(target)
        for suffix in ("-wal", "-shm"):  # SQLite gives new ones the database's mode
            tighten(f"{target}{suffix}")
    conn = sqlite3.connect(target, isolation_level=None, timeout=5.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses no commit
    return conn


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: str
    run_id: str
    event: str
    decision: str
    answer: str | None
    summary_hash: str
    action: str
    url: str
    reason: str
    summary: str


class AuditLog:
    """`AuditLog(path, run_id=..., redactor=...)`; `record(...)` appends one committed
    row. Add to `redactor` every value that must never be written (the vault's)."""

    def __init__(self, path: Path | str | None = None, *, run_id: str | None = None,
                 clock: Callable[[], str] = _now, redactor: Redactor | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else paths.audit_path()
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.redactor = redactor if redactor is not None else Redactor()
        self._clock = clock
        self._conn = connect(self.path)
        self._conn.executescript(SCHEMA)

    def record(self, *, event: str, decision: str, reason: str = "", action: dict[str, Any] | None = None,
               url: str = "", summary: str = "", summary_hash: str = "", answer: str | None = None) -> int:
        r = self.redactor
        action_json = json.dumps(r.redact_obj(action), ensure_ascii=False) if action is not None else ""
        cur = self._conn.execute(
            "INSERT INTO decisions (time, run_id, event, decision, answer, summary_hash, action, url, reason,"
            " summary) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (self._clock(), self.run_id, event, decision, answer, summary_hash, action_json,
             r.redact(url), r.redact(reason), r.redact(summary)))
        return int(cur.lastrowid or 0)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def list_entries(path: Path | str | None = None, *, run_id: str | None = None, decision: str | None = None,
                 since: str | None = None, limit: int = 200) -> list[AuditEntry]:
    """The newest `limit` entries (oldest first), optionally of one run, one decision
    ("allow" | "ask" | "deny"), or at/after an ISO time. Missing log -> []."""
    target = Path(path).expanduser() if path is not None else paths.audit_path()
    if not target.exists():
        return []
    conn = sqlite3.connect(target.resolve().as_uri() + "?mode=ro", uri=True, timeout=5.0)
    try:
        has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'decisions'").fetchone()
        if not has_table:
            return []
        where, args = [], []
        for column, value in (("run_id", run_id), ("decision", decision)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if since:
            where.append("time >= ?")
            args.append(since)
        sql = ("SELECT id, time, run_id, event, decision, answer, summary_hash, action, url, reason, summary"
               " FROM decisions" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY id DESC LIMIT ?")
        rows = conn.execute(sql, (*args, max(0, limit))).fetchall()
    finally:
        conn.close()
    return [AuditEntry(*row) for row in reversed(rows)]


def format_entries(entries: list[AuditEntry]) -> list[str]:
    """One line per entry for `operator audit`:
    `2025-01-02 10:11:12 run1a2b check  deny  navigate https://x  evil.test is denied ...`"""
    lines = []
    for e in entries:
        when = e.time[:19].replace("T", " ")
        what = _describe(e.action)
        verdict = e.decision + (f" ({'approved' if e.answer == 'yes' else 'declined'})" if e.answer else "")
        tag = f" #{e.summary_hash[:12]}" if e.summary_hash else ""
        line = f"{when} {e.run_id} {e.event:<7} {verdict:<16} {what}"
        if e.reason:
            line += f" - {e.reason}"
        lines.append(" ".join((line + tag).split()))
    return lines


def _describe(action_json: str) -> str:
    if not action_json:
        return ""
    try:
        action = json.loads(action_json)
    except ValueError:
        return action_json[:80]
    if not isinstance(action, dict):
        return ""
    kind = action.get("action", "?")
    detail = action.get("url") or action.get("keys") or (
        f"[{action['index']}]" if "index" in action else "")
    text = action.get("text")
    if isinstance(text, str):
        detail += f" {json.dumps(text[:40], ensure_ascii=False)}"
    return f"{kind} {detail}".strip()
