"""Daily spending: every approved purchase, kept in the audit database.

Rows are only ever added (triggers refuse UPDATE/DELETE). Today's totals are
cached in memory, so checking a purchase against the daily limit does no I/O;
another run spending at the same time is seen when this one starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from . import paths
from .audit import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS purchases (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  day TEXT NOT NULL,            -- the person's local calendar day
  run_id TEXT NOT NULL,
  summary_hash TEXT NOT NULL,
  merchant TEXT NOT NULL,
  amount TEXT NOT NULL,         -- decimal as text: no float rounding
  currency TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS purchases_day ON purchases (day, currency);
CREATE TRIGGER IF NOT EXISTS purchases_no_update BEFORE UPDATE ON purchases
  BEGIN SELECT RAISE(ABORT, 'the spending ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS purchases_no_delete BEFORE DELETE ON purchases
  BEGIN SELECT RAISE(ABORT, 'the spending ledger is append-only'); END;
"""


class SpendLedger:
    def __init__(self, path: Path | str | None = None, *, run_id: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path).expanduser() if path is not None else paths.audit_path()
        self.run_id = run_id
        self._clock = clock
        self._conn = connect(self.path)
        self._conn.executescript(SCHEMA)
        self._day = ""
        self._rows: list[tuple[int, Decimal, str]] = []  # today's (id, amount, currency)
        self._load_today()

    def _today(self) -> str:
        return date.fromtimestamp(self._clock()).isoformat()

    def _load_today(self) -> None:
        self._day = self._today()
        rows = self._conn.execute("SELECT id, amount, currency FROM purchases WHERE day = ?",
                                  (self._day,)).fetchall()
        self._rows = [(int(i), Decimal(a), str(c)) for i, a, c in rows]

    def spent_today(self, currency: str, *, excluding: int | None = None) -> Decimal:
        """The day's approved spending in `currency` (without entry `excluding`)."""
        if self._today() != self._day:
            self._load_today()
        return sum((a for i, a, c in self._rows if c == currency and i != excluding), Decimal(0))

    def record(self, *, amount: Decimal, currency: str, merchant: str, summary_hash: str) -> int:
        if self._today() != self._day:
            self._load_today()
        now = self._clock()
        cur = self._conn.execute(
            "INSERT INTO purchases (time, day, run_id, summary_hash, merchant, amount, currency)"
            " VALUES (?,?,?,?,?,?,?)",
            (datetime.fromtimestamp(now).astimezone().isoformat(timespec="seconds"), self._day,
             self.run_id, summary_hash, merchant, format(amount, "f"), currency))
        entry = int(cur.lastrowid or 0)
        self._rows.append((entry, amount, currency))
        return entry

    def close(self) -> None:
        self._conn.close()
