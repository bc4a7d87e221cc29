"""The audit log: append-only, durable across a crash, readable as text."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from operator_agent.permissions import paths
from operator_agent.permissions.audit import AuditLog, format_entries, list_entries
from operator_agent.permissions.ledger import SpendLedger

CRASHING_RUN = """
import os, signal, sys
from operator_agent.permissions.audit import AuditLog
log = AuditLog(sys.argv[1], run_id="crashrun")
for i in range(3):
    log.record(event="check", decision="deny", reason=f"step {i}", action={"action": "navigate",
               "url": f"https://evil.test/{i}"}, url="https://shop.test/")
os.kill(os.getpid(), signal.SIGKILL)  # no close, no atexit: as if the run were killed
"""


def test_entries_survive_a_killed_run(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    proc = subprocess.run([sys.executable, "-c", CRASHING_RUN, str(db)], capture_output=True, timeout=60)
    assert proc.returncode != 0  # it really died
    entries = list_entries(db, run_id="crashrun")  # a new connection
    assert [e.reason for e in entries] == ["step 0", "step 1", "step 2"]
    assert all(e.decision == "deny" and e.event == "check" for e in entries)


def test_append_only(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    with AuditLog(db, run_id="r1") as log:
        log.record(event="check", decision="allow", action={"action": "scroll"})
        assert not hasattr(log, "update") and not hasattr(log, "delete")
    conn = sqlite3.connect(db)
    for sql in ("UPDATE decisions SET decision = 'allow'", "DELETE FROM decisions"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    with pytest.raises(sqlite3.IntegrityError):  # only the three decisions exist
        conn.execute("INSERT INTO decisions (time, run_id, event, decision) VALUES ('t', 'r', 'e', 'maybe')")
    conn.close()
    assert len(list_entries(db)) == 1


def test_list_filter_and_format(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    times = iter(["2025-01-02T10:00:00.000+00:00", "2025-01-02T10:00:01.000+00:00",
                  "2025-01-02T10:00:02.000+00:00"])
    log = AuditLog(db, run_id="run1", clock=lambda: next(times))
    log.record(event="check", decision="allow", action={"action": "click", "index": 3})
    log.record(event="check", decision="ask", reason="a purchase needs your approval", summary="Purchase...",
               summary_hash="ab" * 32, action={"action": "click", "index": 7})
    log.record(event="answer", decision="allow", answer="yes", summary_hash="ab" * 32)
    log.close()
    assert [e.event for e in list_entries(db, decision="allow")] == ["check", "answer"]
    assert len(list_entries(db, since="2025-01-02T10:00:01")) == 2
    assert [e.id for e in list_entries(db, limit=1)] == [3]
    lines = format_entries(list_entries(db))
    assert lines[0] == "2025-01-02 10:00:00 run1 check allow click [3]"
    assert lines[1] == ("2025-01-02 10:00:01 run1 check ask click [7] - a purchase needs your approval"
                        " #abababababab")
    assert lines[2] == "2025-01-02 10:00:02 run1 answer allow (approved) #abababababab"
    assert list_entries(tmp_path / "none.db") == []


def test_default_location_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_AUDIT_DB", str(tmp_path / "x" / "a.db"))
    with AuditLog() as log:
        log.record(event="check", decision="deny")
    assert paths.audit_path().exists() and len(list_entries()) == 1


def test_spending_ledger_counts_today_only(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    now = [1_700_000_000.0]
    ledger = SpendLedger(db, run_id="r", clock=lambda: now[0])
    first = ledger.record(amount=Decimal("20.00"), currency="USD", merchant="shop.test", summary_hash="h1")
    ledger.record(amount=Decimal("5"), currency="EUR", merchant="shop.test", summary_hash="h2")
    assert ledger.spent_today("USD") == Decimal("20.00")
    assert ledger.spent_today("USD", excluding=first) == 0
    # Another run on the same day sees it; the next day starts at zero.
    assert SpendLedger(db, clock=lambda: now[0]).spent_today("USD") == Decimal("20.00")
    now[0] += 86_400
    assert ledger.spent_today("USD") == 0
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM purchases")
    conn.close()
