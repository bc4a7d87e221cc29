"""The attack suite's stage: a Chromium whose resolver maps every *.test name to
127.0.0.1 (so shop.test, attacker.test, evil.test and look-alikes are separate
sites on loopback), the practice sites, our attacker and denied-host servers,
and a tally of attacks printed at the end of the session."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sec_harness import HOST_RULES, VAULT_KEY, Scene, World

ATTACKS: dict[str, str] = {}  # test id -> "stopped" | "hole" | "not stopped" | "skipped"
REASONS: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "attack: one attack of the security suite (counted in the tally)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if item.get_closest_marker("attack") is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if hasattr(report, "wasxfail"):
            state = "hole" if report.skipped else "stopped" if report.passed else "not stopped"
            ATTACKS[item.nodeid] = state
            REASONS[item.nodeid] = str(report.wasxfail)
        elif report.passed:
            ATTACKS[item.nodeid] = "stopped"
        elif "XPASS(strict)" in str(report.longrepr):
            ATTACKS[item.nodeid] = "stopped"  # a known hole was fixed: drop its xfail mark
            REASONS[item.nodeid] = "fixed"
        elif report.skipped:
            ATTACKS[item.nodeid] = "skipped"
            text = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
            REASONS[item.nodeid] = text.removeprefix("Skipped: ")
        else:
            ATTACKS[item.nodeid] = "not stopped"
            REASONS[item.nodeid] = (report.longreprtext.strip().splitlines() or ["failed"])[-1][:300]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not ATTACKS:
        return
    ran = {k: v for k, v in ATTACKS.items() if v != "skipped"}
    stopped = sum(1 for v in ran.values() if v == "stopped")
    write = terminalreporter.write_line
    terminalreporter.section("security")
    write(f"security: {len(ran)} attacks, {stopped} stopped")
    for nodeid, state in ATTACKS.items():
        if state != "stopped":
            reason = REASONS.get(nodeid, "").removeprefix("HOLE: ").split(":")[0]
            write(f"  {state}: {nodeid.split('::', 1)[-1]} ({reason})")


@pytest_asyncio.fixture(scope="session")
async def sec_browser() -> AsyncIterator[Any]:
    from operator_agent.launch import BrowserOptions, open_browser

    handle = await open_browser(BrowserOptions(extra_args=[HOST_RULES]))
    yield handle.browser
    await handle.close()


@pytest.fixture(scope="session")
def world(practice_sites: Any, sec_browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(practice_sites, sec_browser, tmp_path_factory.mktemp("security")).start()
    yield w
    w.stop()


@pytest_asyncio.fixture
async def scene(world: World, sites: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                caplog: pytest.LogCaptureFixture) -> AsyncIterator[Scene]:
    """A clean shop (state reset, no cookie banner or pop-up), a fresh browser
    context, and the person's vault, policy and audit log in the test's folder."""
    sites.configure(newsletter_delay_ms=-1, cookie_banner=False)
    monkeypatch.setenv("OPERATOR_VAULT_BACKEND", "file")
    monkeypatch.setenv("OPERATOR_VAULT", str(tmp_path / "vault.json"))
    monkeypatch.setenv("OPERATOR_VAULT_KEY", VAULT_KEY)
    monkeypatch.setenv("OPERATOR_AUDIT_DB", str(tmp_path / "audit.db"))
    caplog.set_level(logging.DEBUG, logger="operator_agent")
    context = await world.browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    try:
        yield Scene(world, context, page, tmp_path, caplog)
    finally:
        await context.close()
