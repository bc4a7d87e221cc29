"""Secrets at the wire: a password bound to login.test, typed there by the agent, must
not leave for collector.test (a host the policy does not deny) by the form, the
page's script, per key, or in any encoding. The collector's requests in the server
log are the judge."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from sec_harness import Scene, type_into

from operator_agent.agent import Agent, AgentConfig
from operator_agent.permissions.audit import AuditLog, list_entries
from operator_agent.permissions.egress import SecretScanner
from operator_agent.permissions.policy import Policy
from operator_agent.permissions.policy_gate import PolicyGate
from operator_agent.permissions.vault import Vault
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.session import BrowserSession

SECRET = "Tr0ub4dor&3-wire"


def spellings() -> list[str]:
    raw = SECRET.encode()
    return [SECRET, base64.b64encode(raw).decode()[:12], base64.b64encode(b"pw=" + raw).decode()[4:16]]


async def run_on(scene: Scene, page: str, steps: list[Any]) -> tuple[list[Any], Path]:
    port = scene.world.attacker.port
    vault = Vault()
    vault.add_password("login", SECRET, origins=[f"http://login.test:{port}"])
    audit = AuditLog(scene.tmp / "egress-audit.db", run_id="egress")
    gate = PolicyGate(Policy.default(), vault=vault, audit=audit, interactive=False)
    env = BrowserSession(scene.context, vault=vault)
    mark = len(scene.world.attacker.log)
    await env.executor.ensure_page()
    await env.guard_requests(None, audit=audit)
    await env.goto(f"http://login.test:{port}/{page}")
    agent = Agent(planner=ScriptedPlanner([s.decide for s in steps]), environment=env, gate=gate,
                  vault=vault, config=AgentConfig(max_steps=len(steps) + 1, verify=False, screenshots=False,
                                                  runs_dir=scene.tmp / "runs"))
    agent.config.max_failures = 100
    await agent.run("sign in")
    to_collector = [r for r in scene.world.attacker.log[mark:]
                    if (r.headers.get("Host") or "").startswith("collector.test")]
    return to_collector, audit.path


def carried(requests: list[Any]) -> list[str]:
    out = []
    for r in requests:
        blob = f"{r.path} {r.query} {r.body.decode('utf-8', 'replace')}"
        if any(s in blob for s in spellings()):
            out.append(f"{r.method} {r.path}")
    return out


@pytest.mark.attack
async def test_secret_into_a_form_that_posts_elsewhere(scene: Scene) -> None:
    sent, _ = await run_on(scene, "egress_form_elsewhere.html", [
        type_into("Password", "{{secret:login}}", expect="any"),
        type_into("Email address", "a@b.test", submit=True, expect="any")])
    assert carried(sent) == [], sent
    posted = [r.form() for r in sent if r.path == "/collect"]
    assert posted and all(p.get("password", "") == "" for p in posted), posted  # it ran, without the secret


@pytest.mark.attack
@pytest.mark.parametrize("clear", [True, False])
async def test_page_script_sends_the_typed_secret_elsewhere(scene: Scene, clear: bool) -> None:
    sent, audit_path = await run_on(scene, "egress_script.html", [
        type_into("Password", "{{secret:login}}", clear=clear, expect="ok")])
    assert carried(sent) == [], sent
    assert not any(r.path == "/key" for r in sent), "keys were sent one by one"
    entries = [e for e in list_entries(audit_path, run_id="egress", limit=1000) if e.event == "egress"]
    assert entries and all(e.decision == "deny" for e in entries)
    assert not any(s in str(e.__dict__) for e in entries for s in spellings())


def test_scanner_spellings_and_bindings() -> None:
    card = "4242424242424242"
    s = SecretScanner([("pw", SECRET, ["http://login.test:80"]), ("visa", card, ["https://pay.test:443"]),
                       ("visa", "737", ["https://pay.test:443"])])
    evil = "http://collector.test/x"
    assert s.scan(evil + "?p=" + SECRET) is not None
    assert s.scan(evil + "?d=" + base64.b64encode(b"xy" + SECRET.encode()).decode()) is not None
    assert s.scan(evil, {"X-D": base64.urlsafe_b64encode(SECRET.encode()).decode()}) is not None
    assert s.scan(evil, None, SECRET.encode().hex().encode()) is not None
    assert s.scan(evil + "?c=4242%20424242-42.4242") is not None
    assert s.scan("ws://collector.test/ws", None, f'{{"p":"{SECRET}"}}', kind="message") is not None
    assert s.scan(evil + "?last4=4242&cvc=737") is None  # the last four and a CVC are not scanned
    assert s.scan("http://LOGIN.test/signin", None, SECRET.encode()) is None  # its bound origin
    assert s.scan("https://pay.test/pay", None, card.encode()) is None
    leak = s.scan(evil, None, SECRET.encode())
    assert leak is not None and SECRET not in leak.reason
