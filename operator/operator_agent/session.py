"""A browser as the agent's Environment: the perceiver and executor on one tab set."""

from __future__ import annotations

from collections.abc import Callable

from playwright.async_api import BrowserContext
from playwright.async_api import Error as PlaywrightError

from .executors.browser import BrowserExecutor, SettleOptions
from .launch import BrowserHandle, BrowserOptions, open_browser
from .netguard import NetworkGuard
from .perception.browser import DomPerceiver
from .permissions.vault import Vault
from .protocols import ConfigError
from .types import Action, ActionResult, Observation, Verdict


class BrowserSession:
    """Implements protocols.Environment for Chromium.

    `async with BrowserSession.open(options, start_url=...) as env:` launches (or
    attaches to) a browser, opens the start page, and closes what it started.
    """

    def __init__(self, context: BrowserContext, *, handle: BrowserHandle | None = None,
                 perceiver: DomPerceiver | None = None, settle: SettleOptions | None = None,
                 vault: Vault | None = None) -> None:
        self.handle = handle  # what close() releases; None when the caller owns the browser
        self.perceiver = perceiver or DomPerceiver()
        self.executor = BrowserExecutor(context, self.perceiver, settle=settle, vault=vault)
        self._guard: NetworkGuard | None = None

    @classmethod
    def open(cls, options: BrowserOptions | None = None, *, start_url: str | None = None,
             perceiver: DomPerceiver | None = None, vault: Vault | None = None) -> _Opener:
        return _Opener(cls, options or BrowserOptions(), start_url, perceiver, vault)

    async def guard_requests(self, check: Callable[[str], Verdict]) -> None:
        """Refuse, at the network, every request the check denies (once per session)."""
        if self._guard is None:
            self._guard = NetworkGuard(self.executor.context, check)
            await self._guard.install()

    async def goto(self, url: str) -> None:
        page = await self.executor.ensure_page()
        try:
            await page.goto(url, wait_until="domcontentloaded",
                            timeout=self.executor.settle_options.navigation_cap)
        except PlaywrightError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            reason = reason.removeprefix("Page.goto: ").split(f" at {url}")[0]
            raise ConfigError(f"cannot open {url}: {reason} (is the site up and the address right?)") from exc
        await self.executor.settle()

    async def observe(self, *, screenshot: bool = False) -> Observation:
        page = await self.executor.ensure_page()
        obs = await self.perceiver.observe(page, screenshot=screenshot)
        if self._guard is not None and self._guard.blocked:
            obs.errors.extend(f"the browser refused to contact {u[:200]} (denied by the policy)"
                              for u in self._guard.blocked)
            self._guard.blocked.clear()
        return obs

    async def perform(self, action: Action, observation: Observation) -> ActionResult:
        return await self.executor.perform(action, observation)

    async def close(self) -> None:
        if self.handle is not None:
            await self.handle.close()


class _Opener:
    def __init__(self, cls: type[BrowserSession], options: BrowserOptions, start_url: str | None,
                 perceiver: DomPerceiver | None, vault: Vault | None) -> None:
        self._args = (cls, options, start_url, perceiver, vault)
        self.session: BrowserSession | None = None

    async def __aenter__(self) -> BrowserSession:
        cls, options, start_url, perceiver, vault = self._args
        handle = await open_browser(options)
        self.session = cls(handle.context, handle=handle, perceiver=perceiver, vault=vault)
        try:
            if start_url:
                await self.session.goto(start_url)
        except BaseException:
            await self.session.close()
            raise
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()
