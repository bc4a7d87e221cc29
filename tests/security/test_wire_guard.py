"""The network guard at the wire: a page that, on its own and before any action,
reaches for a denied host by every vector it has (subresources, their redirects,
fetch, XHR, WebSockets, EventSource, beacons, prefetch, workers of every kind,
popups, a cross-site frame). The denied host's own server log is the judge: it
must receive nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sec_harness import HOST_RULES, POLICY, Scene, World

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


def arrived(world: World, mark: int) -> list[str]:
    return sorted({r.path.split("?")[0] for r in world.denied.log[mark:]})


async def test_control_an_unguarded_page_reaches_the_denied_host(scene: Scene) -> None:
    """Without the guard the vectors do reach evil.test: the attacks below test something."""
    mark = len(scene.world.denied.log)
    env = BrowserSession(scene.context)
    await env.goto(scene.world.att + PAGE)
    await settled(env.executor.page)
    got = arrived(scene.world, mark)
    for path in ("/v/img", "/v/img-302", "/v/fetch-302", "/v/script-302", "/v/ws", "/v/worker-302",
                 "/v/worker-ws"):
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
async def test_websocket_from_a_worker(scene: Scene) -> None:
    """A worker's WebSocket passes Playwright's WebSocket routing (done by script in
    pages) and CDP Fetch (which does not see handshakes): workers get none at all."""
    mark = len(scene.world.denied.log)
    env = BrowserSession(scene.context)
    await env.guard_requests(policy_gate(scene.tmp).check_request)
    await env.goto(scene.world.att + PAGE)
    await settled(env.executor.page)
    assert "/v/worker-ws" not in arrived(scene.world, mark)


POPUPS = 5


async def popups_opened_by(env: BrowserSession, context: Any, url: str) -> list[Any]:
    """Open `url` (a page that opens POPUPS popups by itself) and return the popups once
    each has left about:blank and loaded (its page or an error page)."""
    popups: list[Any] = []
    all_open = asyncio.Event()

    def opened(page: Any) -> None:
        popups.append(page)
        if len(popups) == POPUPS:
            all_open.set()

    context.on("page", opened)
    try:
        await env.goto(url)
        await asyncio.wait_for(all_open.wait(), timeout=20)
    finally:
        context.remove_listener("page", opened)
    for popup in popups:
        await popup.wait_for_url(lambda u: u != "about:blank", timeout=20_000)
        await popup.wait_for_load_state("load", timeout=20_000)
    return popups


@pytest.mark.attack
async def test_popups_redirected_to_the_denied_host(scene: Scene) -> None:
    """Popups opened on an allowed host that redirects them to evil.test: their first
    hops happen before the context reports the popup, and must still be checked."""
    world = scene.world
    mark, att_mark = len(world.denied.log), len(world.attacker.log)
    env = BrowserSession(scene.context)
    await env.guard_requests(policy_gate(scene.tmp).check_request)
    await popups_opened_by(env, scene.context, world.att + "/popups.html")
    hops = [r for r in world.attacker.log[att_mark:]
            if r.path == "/redirect" and "/v/popup-" in r.query.get("to", [""])[0]]
    assert len(hops) == POPUPS, "the popups never asked for their first hop"
    assert arrived(world, mark) == []


async def test_popups_on_allowed_hosts_still_work(scene: Scene) -> None:
    """With the guard on, a popup redirected to an allowed page loads it, and the workers
    it starts (one nested) fetch from the host and answer."""
    world = scene.world
    env = BrowserSession(scene.context)
    await env.guard_requests(policy_gate(scene.tmp).check_request)
    popups = await popups_opened_by(env, scene.context, world.att + "/popups.html?allowed")
    assert sorted(p.url for p in popups) == [f"{world.att}/popup_landing.html?n={i}" for i in range(POPUPS)]
    for popup in popups:
        await popup.wait_for_function("document.title.startsWith('Landing [')", timeout=20_000)
        assert await popup.title() == "Landing [200,200]"


@pytest.mark.attack
async def test_a_cross_site_frame_redirects_to_the_denied_host(scene: Scene) -> None:
    """A frame from another site runs in its own process (its own CDP target): the
    redirects of what it loads are checked too."""
    mark = len(scene.world.denied.log)
    env = BrowserSession(scene.context)
    await env.guard_requests(policy_gate(scene.tmp).check_request)
    await env.goto(scene.world.att + "/framed.html")
    await env.executor.page.wait_for_function("document.title === 'settled'", timeout=20_000)
    assert len(env.executor.page.frames) == 2
    assert arrived(scene.world, mark) == []


@pytest.mark.attack
async def test_shared_worker(scene: Scene) -> None:
    """A shared worker runs before any hook of ours can hold it: guarded pages have none."""
    mark = len(scene.world.denied.log)
    page = scene.page
    await page.goto(scene.world.att + "/shared_worker.html")
    await page.wait_for_function("document.title.startsWith('settled')", timeout=20_000)
    assert await page.title() == "settled: shared worker done"  # unguarded, it runs and reaches out
    assert {"/v/shared-302", "/v/shared-ws"} <= set(arrived(scene.world, mark))
    mark = len(scene.world.denied.log)
    env = BrowserSession(scene.context)
    await env.guard_requests(policy_gate(scene.tmp).check_request)
    await env.goto(scene.world.att + "/shared_worker.html")
    await env.executor.page.wait_for_function("document.title.startsWith('settled')", timeout=20_000)
    assert await env.executor.page.title() == "settled: no shared workers"
    assert arrived(scene.world, mark) == []


@pytest.mark.attack
async def test_websockets_from_workers_of_every_kind(scene: Scene) -> None:
    """Nested, module and data: workers, and WebSocketStream: refused in each."""
    world, page = scene.world, scene.page
    names = ("data", "module", "nested")
    mark = len(world.denied.log)
    await page.goto(world.att + "/worker_sockets.html")
    await page.wait_for_function("document.title.startsWith('settled')", timeout=20_000)
    assert {f"/v/{n}-{k}" for n in names for k in ("ws", "stream")} <= set(arrived(world, mark)), "unguarded"
    mark = len(world.denied.log)
    env = BrowserSession(scene.context)
    await env.guard_requests(policy_gate(scene.tmp).check_request)
    await env.goto(world.att + "/worker_sockets.html")
    await env.executor.page.wait_for_function("document.title.startsWith('settled')", timeout=20_000)
    title = await env.executor.page.title()
    assert all(f"{n}:SecurityError," in title for n in names) and "closed" not in title, title
    assert arrived(world, mark) == []
