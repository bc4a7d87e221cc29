"""Shared fixtures: one real Chromium per session, a fresh context per test,
loopback servers, and no real model anywhere."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

pytest_plugins = ["operator_bench.testing.pytest_sites"]

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
if (SHARED / "tiktoken").is_dir():
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(SHARED / "tiktoken"))

PAGES = Path(__file__).parent / "pages"


@pytest.fixture(autouse=True)
def _no_real_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A test that needs a model starts the fake server and sets these itself.
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPERATOR_MODEL", "OPERATOR_VISION",
                 "OPERATOR_MODEL_API", "OPERATOR_MODEL_OUTPUT", "OPERATOR_MODEL_TIMEOUT",
                 "OPERATOR_MODEL_RETRIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPERATOR_RUNS_DIR", str(tmp_path / "runs"))
    # Policy, audit log, vault and preferences go to the test's own folders, never ~/.config.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in ("OPERATOR_POLICY", "OPERATOR_AUDIT_DB", "OPERATOR_VAULT", "OPERATOR_VAULT_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest_asyncio.fixture(scope="session")
async def browser_handle() -> AsyncIterator[object]:
    from operator_agent.launch import BrowserOptions, open_browser

    handle = await open_browser(BrowserOptions())
    yield handle
    await handle.close()


@pytest_asyncio.fixture
async def context(browser_handle: object) -> AsyncIterator[object]:
    """A fresh browser context (own cookies, own pages) per test."""
    browser = browser_handle.browser  # type: ignore[attr-defined]
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    await ctx.close()


@pytest_asyncio.fixture
async def page(context: object) -> AsyncIterator[object]:
    yield await context.new_page()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def pages_server() -> Iterator[object]:
    """tests/pages served on 127.0.0.1 (one origin)."""
    from operator_agent.localserver import LocalServer

    with LocalServer(PAGES) as server:
        yield server


@pytest.fixture(scope="session")
def other_origin_server() -> Iterator[object]:
    """tests/pages again on `localhost`: another site, so its iframes are cross-origin
    (and out-of-process in Chromium)."""
    from operator_agent.localserver import LocalServer

    with LocalServer(PAGES, host="localhost") as server:
        yield server
