"""The network guard at the wire: a page that, on its own and before any action,
reaches for a denied host by every vector it has (subresources, their redirects,
fetch, XHR, WebSockets, EventSource, beacons, prefetch, a worker). The denied
host's own server log is the judge: it must receive nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sec_harness import HOST_RULES, POLICY, Breach, Scene, World

from operator_agent.launch import BrowserOptions
from operator_agent.permissions.policy import Policy
from operator_agent.permissions.policy_gate import PolicyGate
from operator_agent.session import BrowserSession

PAGE = "/wire_vectors.html"


def policy_gate(tmp: Path) -> PolicyGate:
    path = tmp / "wire-policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    return PolicyGate(Policy.load(path), interactive=False)


async def settled(page: Any) -> None:
    """Every vector on the page answered or failed (the page sets its title)."""
    try:
        await page.wait_for_function("document.title === 'settled'", timeout=20_000)
    except Exception as exc:
        missing = await page.evaluate("expected.filter(n => !settled.has(n))")
        raise AssertionError(f"these vectors never settled: {missing}") from exc


# A dedicated worker's WebSocket passes Playwright's WebSocket routing (it is done by
# script in pages, not workers) and CDP Fetch (which does not see handshakes).
WORKER_WS = "/v/worker-ws"


def arrived(world: World, mark: int, *, known_holes: bool = False) -> list[str]:
    got = sorted({r.path.split("?")[0] for r in world.denied.log[mark:]})
    return got if known_holes else [p for p in got if p != WORKER_WS]


async def test_control_an_unguarded_page_reaches_the_denied_host(scene: Scene) -> None:
    """Without the guard the vectors do reach evil.test: the attacks below test something."""
    mark = len(scene.world.denied.log)
    env = BrowserSession(scene.context)
    await env.goto(scene.world.att + PAGE)
    await settled(env.executor.page)
    got = arrived(scene.world, mark)
    for path in ("/v/img", "/v/img-302", "/v/fetch-302", "/v/script-302", "/v/ws", "/v/worker-302"):
        assert path in got, got


@pytest.mark.attack
async def test_start_page_vectors_with_the_guard_set_at_open(world: World, tmp_path: Path) -> None:
    """The session this agent opens (as `operator run URL` does) guards the context
    before the start page's first request."""
    gate = policy_gate(tmp_path)
    mark, att_mark = len(world.denied.log), len(world.attacker.log)
    async with BrowserSession.open(BrowserOptions(extra_args=[HOST_RULES]), start_url=world.att + PAGE,
                                   guard=gate.check_request) as env:
        await settled(env.executor.page)
        obs = await env.observe()
    assert arrived(world, mark) == []
    hops = [r for r in world.attacker.log[att_mark:] if r.path == "/redirect"]
    assert len(hops) >= 6, "the redirecting vectors never ran"
    assert any("evil.test" in e and "denied by the policy" in e for e in obs.errors), obs.errors


@pytest.mark.attack
async def test_start_page_vectors_on_a_context_the_caller_owns(scene: Scene) -> None:
    """A context we did not make (an attached browser's): guarded before the page loads."""
    mark = len(scene.world.denied.log)
    env = BrowserSession(scene.context)
    await env.guard_requests(policy_gate(scene.tmp).check_request)
    await env.goto(scene.world.att + PAGE)
    await settled(env.executor.page)
    assert arrived(scene.world, mark) == []


@pytest.mark.attack
@pytest.mark.xfail(strict=True, raises=Breach, reason="HOLE: a worker's WebSocket is not routed")
async def test_websocket_from_a_worker(scene: Scene) -> None:
    mark = len(scene.world.denied.log)
    env = BrowserSession(scene.context)
    await env.guard_requests(policy_gate(scene.tmp).check_request)
    await env.goto(scene.world.att + PAGE)
    await settled(env.executor.page)
    if WORKER_WS in arrived(scene.world, mark, known_holes=True):
        raise Breach("a worker's WebSocket reached the denied host")
