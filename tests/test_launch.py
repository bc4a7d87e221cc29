"""Starting a browser: a persistent profile keeps logins, an existing browser is
attached over CDP (and left running), OPERATOR_CHROMIUM is honoured."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_agent.launch import BrowserOptions, find_chromium, open_browser
from operator_agent.protocols import ConfigError
from operator_agent.session import BrowserSession
from operator_bench.testing.chromium import debuggable_chromium


async def test_persistent_profile_keeps_cookies_between_runs(tmp_path: Path, pages_server) -> None:
    profile = tmp_path / "profile"
    url = pages_server.url("/agent/login.html")
    handle = await open_browser(BrowserOptions(profile_dir=profile))
    page = handle.context.pages[0] if handle.context.pages else await handle.context.new_page()
    await page.goto(url)
    await page.evaluate("document.cookie = 'session=signed-in; max-age=3600; path=/'")
    await handle.close()

    handle = await open_browser(BrowserOptions(profile_dir=profile))
    try:
        page = handle.context.pages[0] if handle.context.pages else await handle.context.new_page()
        await page.goto(url)
        assert "session=signed-in" in await page.evaluate("document.cookie")
    finally:
        await handle.close()


async def test_attach_over_cdp_and_leave_the_browser_running(tmp_path: Path, pages_server) -> None:
    proc, port = debuggable_chromium(tmp_path / "user")
    try:
        async with BrowserSession.open(BrowserOptions(cdp_url=f"http://127.0.0.1:{port}"),
                                       start_url=pages_server.url("/agent/login.html")) as env:
            obs = await env.observe()
            assert obs.title == "Sign in" and any(e.name == "Sign in" for e in obs.elements)
        assert proc.poll() is None  # someone else's browser: we detached, it still runs
    finally:
        proc.kill()
        proc.wait()


async def test_cdp_url_nobody_listens_on_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"cannot connect to a browser at http://127\.0\.0\.1:1"):
        await open_browser(BrowserOptions(cdp_url="http://127.0.0.1:1"))


def test_operator_chromium_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("OPERATOR_CHROMIUM", str(fake))
    assert find_chromium() == str(fake)
    monkeypatch.setenv("OPERATOR_CHROMIUM", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="OPERATOR_CHROMIUM"):
        find_chromium()


async def test_headed_without_a_display_says_how(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(ConfigError, match="xvfb-run"):
        await open_browser(BrowserOptions(headless=False))
