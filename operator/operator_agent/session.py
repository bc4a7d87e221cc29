"""A browser as the agent's Environment: the perceiver and executor on one tab set."""

from __future__ import annotations

from collections.abc import Callable

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from .executors.browser import BrowserExecutor, SettleOptions
from .launch import BrowserHandle, BrowserOptions, Launch, open_browser
from .netguard import Check, NetworkGuard
from .perception.browser import DomPerceiver
from .permissions.audit import AuditLog
from .permissions.egress import Leak, SecretScanner
from .permissions.payment_wire import PaymentWire
from .permissions.vault import Vault
from .protocols import ConfigError
from .types import Action, ActionResult, Observation, Screenshot, Verdict
from .wire import Wire


class BrowserSession:
    """Implements protocols.Environment for Chromium.

    `async with BrowserSession.open(options, start_url=..., guard=gate.check_request) as env:`
    launches (or attaches to) a browser, guards its network, then opens the start
    page, and closes what it started. With a vault, secrets leaving the browser for
    origins they are not bound to are refused whatever the policy (and audited when
    an audit log is given).
    """

    def __init__(self, context: BrowserContext, *, handle: BrowserHandle | None = None,
                 perceiver: DomPerceiver | None = None, settle: SettleOptions | None = None,
                 vault: Vault | None = None, service_workers_blocked: bool = False,
                 guard_secrets: bool = True) -> None:
        self.handle = handle  # what close() releases; None when the caller owns the browser
        self.perceiver = perceiver or DomPerceiver()
        self.executor = BrowserExecutor(context, self.perceiver, settle=settle, vault=vault)
        self.actions = self.executor.actions  # what the planner may offer the model here
        self.vault = vault
        # False when the context may run service workers (their requests pass no route).
        self._service_workers_blocked = service_workers_blocked
        self._guard_secrets = guard_secrets  # False only in tests showing the checks see a leak
        self._guard: NetworkGuard | None = None
        self._audit: AuditLog | None = None

    @classmethod
    def open(cls, options: BrowserOptions | Launch | None = None, *, start_url: str | None = None,
             perceiver: DomPerceiver | None = None, vault: Vault | None = None,
             guard: Check | None = None, audit: AuditLog | None = None,
             payments: PaymentWire | None = None) -> _Opener:
        """`options`: what to launch, or a Launch already under way (its browser is then the
        session's to close); `guard`: the gate's check_request (None when the policy denies
        no host); `payments`: the gate's payment wire."""
        return _Opener(cls, options or BrowserOptions(), start_url, perceiver, vault, guard, audit, payments)

    async def guard_requests(self, guard: Callable[[str], Verdict] | None = None, *,
                             audit: AuditLog | None = None, payments: PaymentWire | None = None) -> None:
        """Refuse, at the network, every request `guard` denies and every secret going
        where it is not bound, and hold each request that pays to the person's approval
        (`payments`, the gate's). Installed once per session; a later call can add the
        check, the audit log or the payments when the first had none, never replace them."""
        if self._guard is None:
            scanner = (SecretScanner.from_vault(self.vault)
                       if self.vault is not None and self._guard_secrets else None)
            self._guard = NetworkGuard(self.executor.context, guard, scanner=scanner,
                                       on_leak=self._audit_leak,
                                       block_service_workers=not self._service_workers_blocked)
            # The tab the start page opens in exists and is hooked before it loads: a page
            # made later is hooked as it appears, and its first redirect hops can race that.
            await self.executor.ensure_page()
            await self._guard.install()
        if self._guard.check is None:
            self._guard.check = guard
        if self._guard.payments is None and payments is not None:
            self._guard.hold_payments(payments)
        if self._audit is None:
            self._audit = audit

    def _audit_leak(self, leak: Leak) -> None:
        if self._audit is not None:  # the Leak names the secret, never its value
            self._audit.record(event="egress", decision="deny", reason=leak.reason, url=leak.origin)

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

    async def observe(self, *, screenshot: Screenshot = False) -> Observation:
        page = await self.executor.ensure_page()
        obs = await self.perceiver.observe(page, screenshot=screenshot)
        self.executor.warm()
        obs.actions = sorted(self.actions)
        if self._guard is not None and self._guard.blocked:
            obs.errors.extend(dict.fromkeys(self._guard.blocked))
            self._guard.blocked.clear()
        return obs

    async def picture(self) -> bytes | None:
        """A JPEG of the page as last observed, for people (the agent takes it for the trace
        while the model decides, before anything acts on the page)."""
        page = await self.executor.ensure_page()
        return await self.perceiver.picture(page)

    async def where(self) -> str:
        """The current tab's URL, without an observation (a takeover notes it before and after)."""
        return (await self.executor.ensure_page()).url

    async def resume(self) -> None:
        """After the person had the browser (takeover.py): the tab they left in front becomes the
        current one (a headed browser hides the others; headless, all show: then none is picked),
        and it settles before the agent looks again."""
        pages = [p for p in self.executor.context.pages if not p.is_closed()]
        shown = [p for p in pages if await _shown(p)]
        if len(shown) == 1:
            self.executor.page = shown[0]
        await self.executor.settle()

    async def perform(self, action: Action, observation: Observation) -> ActionResult:
        return await self.executor.perform(action, observation)

    async def close(self) -> None:
        if self.handle is not None:
            await self.handle.close()
        elif self._guard is not None:  # the caller's context outlives us: so must not our guard
            await self._guard.remove()
            self._guard = None


async def _shown(page: Page) -> bool:
    try:
        return bool(await page.evaluate("document.visibilityState === 'visible'"))
    except PlaywrightError:  # closing, or between documents: not the one left in front
        return False


class _Opener:
    def __init__(self, cls: type[BrowserSession], options: BrowserOptions | Launch, start_url: str | None,
                 perceiver: DomPerceiver | None, vault: Vault | None, guard: Check | None,
                 audit: AuditLog | None, payments: PaymentWire | None) -> None:
        self._args = (cls, options, start_url, perceiver, vault)
        self._guard, self._audit, self._payments = guard, audit, payments
        self.session: BrowserSession | None = None

    async def __aenter__(self) -> BrowserSession:
        cls, options, start_url, perceiver, vault = self._args
        handle = await (options.handle() if isinstance(options, Launch) else open_browser(options))
        # A context we made has service workers off already (launch.py); an attached one does not.
        self.session = cls(handle.context, handle=handle, perceiver=perceiver, vault=vault,
                           service_workers_blocked=handle.owns_browser)
        try:
            # Guarded before the first request: the start page and all it loads included.
            await self.session.guard_requests(self._guard, audit=self._audit, payments=self._payments)
            if start_url:
                await self.session.goto(start_url)
        except BaseException:
            await self.session.close()
            raise
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()


async def observe_page(url: str, options: BrowserOptions | None = None, *, screenshot: Screenshot = False,
                       wire: Wire | None = None) -> Observation:
    """What the model would be shown at `url` (`operator observe`, the MCP server's observe):
    a browser opened for the look and closed again. `wire`: a gate's network guard (wire_of)."""
    async with BrowserSession.open(options, start_url=url, **(wire or {})) as env:
        return await env.observe(screenshot=screenshot)
