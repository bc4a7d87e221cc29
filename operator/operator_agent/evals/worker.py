"""What one worker holds between tasks: a browser, its own practice sites, and the
MiniWoB page server. Nothing mutable is shared between workers: each task gets a
fresh browser context, and the worker's sites are reset before each task. The next
task's context and its first page are made while a task runs (a page costs ~0.1 s).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.async_api import Browser, BrowserContext

from ..launch import BrowserHandle, BrowserOptions, open_browser
from .miniwob import MiniWobServer
from .planners import PlannerSpec

if TYPE_CHECKING:
    from operator_bench.sites.practice import PracticeSites


VIEWPORT = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class RunSettings:
    """How every task of a run is run; crosses to Ray workers as is."""

    planner: PlannerSpec = field(default_factory=PlannerSpec)
    runs_dir: Path = Path("runs")
    screenshots: bool = True  # one per step in each trace (and for vision models)
    headless: bool = True
    timeout_s: float = 900.0  # wall-clock cap per task
    max_steps: int | None = None  # overrides every task's step limit
    vault: bool = False  # every practice-site task gets the practice vault (as `vault: true`)


class Worker:
    """Started lazily: a worker that only runs MiniWoB tasks never starts the sites."""

    def __init__(self, settings: RunSettings, name: str = "w1") -> None:
        self.settings = settings
        self.name = name
        self._handle: BrowserHandle | None = None
        self._sites: PracticeSites | None = None
        self._miniwob: MiniWobServer | None = None
        self._spare: asyncio.Future[BrowserContext] | None = None

    async def fresh_context(self) -> BrowserContext:
        """A new context with its first page open, made while the previous task ran."""
        made, self._spare = self._spare, None
        context = None
        if made is not None:
            with contextlib.suppress(Exception):  # the browser died meanwhile: make one anew
                context = await made
        if context is None or context.browser is None or not context.browser.is_connected():
            context = await self._new_context()
        self._spare = asyncio.ensure_future(self._new_context())
        return context

    async def _new_context(self) -> BrowserContext:
        browser = await self.browser()
        context = await browser.new_context(viewport=VIEWPORT)
        await context.new_page()
        return context

    async def browser(self) -> Browser:
        handle = self._handle
        if handle is not None and handle.browser is not None and handle.browser.is_connected():
            return handle.browser
        if handle is not None:  # the browser died with a task: start another
            await _quietly_close(handle)
        self._handle = await open_browser(BrowserOptions(headless=self.settings.headless))
        assert self._handle.browser is not None  # launched, not a persistent profile
        return self._handle.browser

    async def sites(self, seed: int) -> PracticeSites:
        """This worker's practice sites generated from `seed` (one seed at a time)."""
        from operator_bench.sites import PracticeSites  # the bench: only tasks on the practice sites

        if self._sites is not None and self._sites.seed == seed:
            return self._sites
        if self._sites is not None:
            await asyncio.to_thread(self._sites.stop)
        sites = PracticeSites(seed=seed)
        # Generating the catalogue and starting three servers blocks: keep other workers going.
        self._sites = await asyncio.to_thread(sites.start)
        return self._sites

    def miniwob(self) -> MiniWobServer:
        if self._miniwob is None:
            server = MiniWobServer()
            server.start()
            self._miniwob = server
        return self._miniwob

    async def close(self) -> None:
        if self._spare is not None:
            spare, self._spare = self._spare, None
            with contextlib.suppress(Exception):
                await (await spare).close()
        if self._handle is not None:
            await _quietly_close(self._handle)
            self._handle = None
        if self._sites is not None:
            await asyncio.to_thread(self._sites.stop)
            self._sites = None
        if self._miniwob is not None:
            self._miniwob.stop()
            self._miniwob = None


async def _quietly_close(handle: BrowserHandle) -> None:
    with contextlib.suppress(Exception):  # a crashed browser cannot be closed cleanly
        await handle.close()
