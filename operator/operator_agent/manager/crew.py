"""The workers: each sub-task's Agent, in its own browser context of one shared browser.

A worker is assembled as every agent is, by builder.build_agent, under its own gate from
builder.permissions() (its own approvals, payment authorizations and audit run id,
`<manager run id>/w<N>`), with the person's preferences. What the workers share is the
browser process, the person (through the manager's PersonDesk: one question at a time,
named) and the spending ledger: the limits hold for all of them together, a payment on
its way reserved until its server answers (permissions/ledger.py).

A worker keeps its context, page and gate across its attempts: one sent back carries on
from where it stopped, with the manager's reason in its task, as a person handed their
work back would.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from playwright.async_api import Error as PlaywrightError

from ..launch import BrowserHandle, BrowserOptions, open_browser
from ..permissions import paths
from ..permissions.audit import AuditLog, list_entries
from ..permissions.ledger import SpendLedger
from ..permissions.policy import Policy
from ..permissions.vault import Vault
from ..protocols import ConfigError, Planner, RunHook
from ..types import RunResult, ScreenshotMode
from ..wire import wire_of
from .desk import PersonDesk
from .records import SubTask

if TYPE_CHECKING:
    from playwright.async_api import Browser

    from ..agent import Agent
    from ..builder import Permissions
    from ..preferences import PreferenceStore
    from ..session import BrowserSession

# Audit events that mean the permission layer or the person refused something the worker did.
_REFUSALS = ("check", "payment-request", "answer")


@dataclass(frozen=True)
class TeamRun:
    """What one manager run gives its workers."""

    run_id: str  # the manager's run id; workers' audit ids are `<run_id>/w<N>`
    desk: PersonDesk
    start_url: str | None = None  # the person's own start page (one the model plans is checked first)


@dataclass(frozen=True)
class Attempted:
    result: RunResult
    refused: str | None  # the first refusal of the permission layer or the person, if any


class Worker(Protocol):
    async def attempt(self, task: str, run_dir: Path) -> Attempted: ...

    def stop(self) -> None:
        """Stop the attempt under way after its current action."""
        ...


class Team(Protocol):
    def worker(self, number: int, label: str, subtask: SubTask) -> AbstractAsyncContextManager[Worker]: ...


class Crew(Protocol):
    """Where workers come from: the Manager knows sub-tasks, attempts and results, not browsers."""

    def team(self, run: TeamRun) -> AbstractAsyncContextManager[Team]: ...


@dataclass(kw_only=True)
class WorkerSettings:
    """Each worker's run settings (build_agent's); the model budget is per worker run."""

    max_steps: int = 30
    verify: bool = True
    screenshots: bool | ScreenshotMode = "steps"
    learn: bool = True
    max_tokens: int | None = None
    max_cost: float | None = None


class BrowserCrew:
    """Crew of browser workers: `browser` is what to launch (BrowserOptions; attaching with
    cdp_url opens the workers' contexts in that browser) or a running playwright Browser
    (the caller's to close). `make_planner()` gives each attempt its planner."""

    def __init__(self, *, make_planner: Callable[[], Planner], policy: Policy, vault: Vault | None,
                 audit_path: Path | None = None, prefs: PreferenceStore | None = None,
                 browser: BrowserOptions | Browser | None = None, settings: WorkerSettings | None = None,
                 hooks: Callable[[str], Sequence[RunHook]] | None = None) -> None:
        self.make_planner = make_planner
        self.policy = policy
        self.vault = vault
        self.audit_path = audit_path
        self.prefs = prefs
        self.browser = browser
        self.settings = settings or WorkerSettings()
        self.hooks = hooks  # per worker label, e.g. progress lines at the terminal
        options = browser if isinstance(browser, BrowserOptions) else None
        if options is not None and options.profile_dir and not options.cdp_url:
            # A persistent profile is one context; workers each need their own.
            raise ConfigError("workers each open a browser context of their own, which a persistent "
                              "profile (--profile) cannot give: leave out --profile, or run without workers")
        self.viewport = (options or BrowserOptions()).viewport

    @asynccontextmanager
    async def team(self, run: TeamRun) -> AsyncIterator[BrowserTeam]:
        # One ledger for every worker of the run: the limits count all their spending together.
        ledger = SpendLedger(self.audit_path or paths.audit_path(), run_id=run.run_id)
        handle: BrowserHandle | None = None
        try:
            if self.browser is None or isinstance(self.browser, BrowserOptions):
                handle = await open_browser(self.browser or BrowserOptions())
                assert handle.browser is not None  # no profile: checked in __init__
                browser = handle.browser
            else:
                browser = self.browser
            yield BrowserTeam(self, run, browser, ledger)
        finally:
            try:
                if handle is not None:
                    await handle.close()
            finally:
                ledger.close()


class BrowserTeam:
    def __init__(self, crew: BrowserCrew, run: TeamRun, browser: Browser, ledger: SpendLedger) -> None:
        self.crew, self.run, self.browser, self.ledger = crew, run, browser, ledger

    @asynccontextmanager
    async def worker(self, number: int, label: str, subtask: SubTask) -> AsyncIterator[BrowserWorker]:
        from ..builder import permissions  # the one assembly (the builder imports the agent)
        from ..session import BrowserSession

        crew, run = self.crew, self.run
        perms = permissions(run_id=f"{run.run_id}/w{number}", policy=crew.policy, vault=crew.vault,
                            audit_path=crew.audit_path, approver=run.desk.approver(label),
                            interactive=run.desk.interactive, ledger=self.ledger)
        width, height = crew.viewport
        context = None
        try:
            context = await self.browser.new_context(viewport={"width": width, "height": height},
                                                     service_workers="block")
            session = BrowserSession(context, vault=perms.vault, service_workers_blocked=True)
            # Guarded before the start page's first request, as a single run's browser is.
            await session.guard_requests(**wire_of(perms.gate))
            start = self._start_page(subtask, perms)
            if start is not None:
                try:
                    await session.goto(start)
                except ConfigError:
                    start = None  # the worker's task names the page: it finds out and says so
            yield BrowserWorker(self, perms, session, label, start)
        finally:
            try:
                if context is not None:
                    with contextlib.suppress(PlaywrightError):
                        await context.close()
            finally:
                audit = getattr(perms.gate, "audit", None)  # not perms.close(): the ledger is the team's
                if audit is not None:
                    audit.close()

    def _start_page(self, subtask: SubTask, perms: Permissions) -> str | None:
        """The person's start page opens as in any run; one the model planned only if the
        policy would let the browser arrive there unasked (else the worker navigates to it,
        and the gate checks that step and asks when it must)."""
        url = subtask.start_url
        if not url or not url.startswith(("http://", "https://")):
            return self.run.start_url
        if url == self.run.start_url:
            return url
        return url if perms.gate.check_arrival(url).decision == "allow" else None


class BrowserWorker:
    def __init__(self, team: BrowserTeam, perms: Permissions, session: BrowserSession, label: str,
                 start_url: str | None) -> None:
        self.team, self.perms, self.session = team, perms, session
        self.label, self.start_url = label, start_url
        self._agent: Agent | None = None
        self._stopped = False

    def stop(self) -> None:
        self._stopped = True
        if self._agent is not None:
            self._agent.stop()

    async def attempt(self, task: str, run_dir: Path) -> Attempted:
        from ..builder import build_agent

        crew, run, s = self.team.crew, self.team.run, self.team.crew.settings
        self._questions_to_next_agent()
        hooks = crew.hooks(self.label) if crew.hooks else ()
        agent = self._agent = build_agent(
            planner=crew.make_planner(), start_url=self.start_url, environment=self.session, perms=self.perms,
            prefs=crew.prefs, user=run.desk.user(self.label), hooks=hooks,
            max_steps=s.max_steps, verify=s.verify, run_dir=run_dir, screenshots=s.screenshots, learn=s.learn,
            max_tokens=s.max_tokens, max_cost=s.max_cost)
        if self._stopped:
            agent.stop()
        mark = self._last_audit_id()
        try:
            result = await agent.run(task)
        finally:
            self._agent = None
        return Attempted(result=result, refused=self._refusal(since=mark))

    def _questions_to_next_agent(self) -> None:
        """The page's dialogs and the payment wire's questions are answered by (and recorded
        in) the agent under way; each agent takes them only when nobody has them yet."""
        dialogs = getattr(self.session.executor, "dialogs", None)
        if dialogs is not None:
            dialogs.answer = None
        payments = wire_of(self.perms.gate)["payments"]
        if payments is not None:
            payments.ask = None

    def _audit(self) -> AuditLog | None:
        audit = getattr(self.perms.gate, "audit", None)
        return audit if isinstance(audit, AuditLog) else None

    def _last_audit_id(self) -> int:
        audit = self._audit()
        if audit is None:
            return 0
        entries = list_entries(audit.path, run_id=audit.run_id, limit=1)
        return entries[-1].id if entries else 0

    def _refusal(self, *, since: int) -> str | None:
        """The first refusal in this attempt, from the worker's audit log: the gate's and the
        wire's denials and the person's no, whichever said it."""
        audit = self._audit()
        if audit is None:
            return None
        for entry in list_entries(audit.path, run_id=audit.run_id, decision="deny", limit=500):
            if entry.id > since and entry.event in _REFUSALS:
                said = "the person said no: " if entry.event == "answer" else ""
                return said + (entry.reason or "refused")
        return None
