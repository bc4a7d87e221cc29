"""The SQLite file: where it lives and its tables.

One file holds the preferences, the words they are found by, and the learner's
log of choices. WAL and a busy timeout let `operator prefs` run while an agent
reads the same file.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path

from ..private_files import private_dir, private_file, tighten

APP = "operator-agent"
FILE = "preferences.db"
ENV = "OPERATOR_PREFS_DB"

SCHEMA = """
CREATE TABLE IF NOT EXISTS prefs (
    n INTEGER PRIMARY KEY AUTOINCREMENT,   -- the id is "p" || n, never reused
    subject TEXT NOT NULL,
    value TEXT NOT NULL,
    vkey TEXT NOT NULL,                    -- rules.value_key(subject, value): "the same value"
    polarity TEXT NOT NULL,
    scope TEXT NOT NULL,
    source TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '[]',   -- JSON list of strings
    confidence REAL NOT NULL DEFAULT 1.0,
    status TEXT NOT NULL,
    category TEXT,                         -- from the subject, for fast lookup
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    superseded_by TEXT
);
CREATE INDEX IF NOT EXISTS prefs_lookup ON prefs(status, scope, category);
CREATE INDEX IF NOT EXISTS prefs_subject ON prefs(subject, scope, vkey);
CREATE TABLE IF NOT EXISTS pref_terms (
    term TEXT NOT NULL,
    n INTEGER NOT NULL REFERENCES prefs(n) ON DELETE CASCADE,
    PRIMARY KEY (term, n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pref_terms_n ON pref_terms(n);
CREATE TABLE IF NOT EXISTS choices (
    source TEXT NOT NULL,       -- a run id or recording name
    step INTEGER NOT NULL,
    action INTEGER NOT NULL,    -- position of the action within the step
    subject TEXT NOT NULL,      -- which attribute the choice says something about
    chosen TEXT NOT NULL,
    alternatives TEXT NOT NULL, -- JSON list of the other options' values
    label TEXT NOT NULL,        -- what was chosen, as the page named it
    host TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (source, step, action, subject)
);
CREATE TABLE IF NOT EXISTS ingested (source TEXT PRIMARY KEY, created TEXT NOT NULL);
"""


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """$OPERATOR_PREFS_DB, else the user's data folder ($XDG_DATA_HOME or
    ~/.local/share; %APPDATA% on Windows)/operator-agent/preferences.db."""
    env = os.environ if env is None else env
    explicit = env.get(ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32" and env.get("APPDATA"):
        base = Path(env["APPDATA"])
    else:
        base = Path(env.get("XDG_DATA_HOME", "").strip() or Path.home() / ".local" / "share")
    return base / APP / FILE


def connect(path: str | Path) -> sqlite3.Connection:
    if str(path) != ":memory:":
        # What the person likes and chose is theirs alone: the file 0600, our folder 0700.
        target = Path(path)
        private_dir(target.parent, tighten=target.parent.name == APP)
        private_file(target)
        for suffix in ("-wal", "-shm"):  # SQLite gives new ones the database's mode
            tighten(f"{target}{suffix}")
    # check_same_thread off: the agent may call from a worker thread; calls never overlap.
    conn = sqlite3.connect(str(path), timeout=5.0, check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    conn.executescript(SCHEMA)
    return conn
