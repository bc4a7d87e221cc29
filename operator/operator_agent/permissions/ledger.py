"""Daily spending: every approved purchase, kept in the audit database.

Rows are only ever added (triggers refuse UPDATE/DELETE). Today's totals are
cached in memory, so checking a purchase against the daily limit does no I/O;
another run spending at the same time is seen when this one starts.

A payment on its way (allowed at the wire, the server not yet answered) is
reserved: counted against the daily limit until it is recorded or released.
Runs sharing one ledger (a manager's workers) thus cannot both pass a limit
only one of them fits by paying at the same moment.
"""

from __future__ import annotations

import threading
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
        self._pending: dict[int, tuple[Decimal, str]] = {}  # reservations: sent, not yet answered
        self._reservations = 0
        # Checking a limit and holding the amount are one step (threads, too: to_thread callers).
        self._lock = threading.Lock()
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

    def committed_today(self, currency: str, *, excluding: int | None = None) -> Decimal:
        """Spent today plus the payments on their way (reserved): what a new one must fit beside."""
        with self._lock:
            return self.spent_today(currency, excluding=excluding) + self._reserved(currency)

    def reserve(self, amount: Decimal, currency: str, *, limit: Decimal | None) -> int | None:
        """Hold `amount` against today's `limit` (None: no limit applies) until record(...,
        reservation=) or release(); None when it does not fit. The check and the hold are
        one step, so two payments judged at the same moment cannot both take the last room."""
        with self._lock:
            if limit is not None and self.spent_today(currency) + self._reserved(currency) + amount > limit:
                return None
            self._reservations += 1
            self._pending[self._reservations] = (amount, currency)
            return self._reservations

    def release(self, reservation: int | None) -> None:
        """The payment was not taken (declined, failed, never sent): its room is free again."""
        if reservation is not None:
            with self._lock:
                self._pending.pop(reservation, None)

    def _reserved(self, currency: str) -> Decimal:
        return sum((a for a, c in self._pending.values() if c == currency), Decimal(0))

    def record(self, *, amount: Decimal, currency: str, merchant: str, summary_hash: str,
               reservation: int | None = None) -> int:
        """Count a purchase; its reservation, if it had one, is then done with."""
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
        self.release(reservation)  # after the row: for a moment counted twice, never not at all
        return entry

    def close(self) -> None:
        self._conn.close()
