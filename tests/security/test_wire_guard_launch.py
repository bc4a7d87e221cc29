"""The network guard when the browser was launched early (launch.Launch, as `operator run`
starts it while the rest of start-up runs): the launch's browser and first tab exist
before the guard does, and the start page's first request must still meet it. The
denied host's own server log is the judge, as in test_wire_guard.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from sec_harness import HOST_RULES, World
from test_wire_guard import PAGE, arrived, policy_gate, settled

from operator_agent.launch import BrowserOptions, Launch
from operator_agent.session import BrowserSession


@pytest.mark.attack
@pytest.mark.parametrize("up_first", [False, True], ids=["launch-in-flight", "launch-finished"])
async def test_start_page_vectors_with_the_browser_launched_early(world: World, tmp_path: Path,
                                                                  up_first: bool) -> None:
    gate = policy_gate(tmp_path)
    mark = len(world.denied.log)
    started = Launch(BrowserOptions(extra_args=[HOST_RULES]))
    try:
        if up_first:  # the browser and its blank first tab are up, unguarded, before the session
            handle = await started.handle()
            assert len(handle.context.pages) == 1
        async with BrowserSession.open(started, start_url=world.att + PAGE, guard=gate.check_request) as env:
            assert env.executor.page is env.handle.context.pages[0]  # type: ignore[union-attr]
            await settled(env.executor.page)
            obs = await env.observe()
    finally:
        await started.discard()
    assert arrived(world, mark) == []
    assert any("evil.test" in e and "denied by the policy" in e for e in obs.errors), obs.errors
