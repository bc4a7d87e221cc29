"""What the MCP server's tools do, without MCP: each is the same assembly as its command
(`operator run`, `observe`, `skill list|run`, `prefs list|add`), through builder.py.

What a caller can and cannot do: it gives a task, a start page (http or https), a step
count up to the server's own --max-steps, a skill's parameters, a preference. It cannot
grant anything: the policy is the person's (their policy file and the flags they started
the server with), and every approval goes to the person (service/person.py), never back
to the caller. A start page the caller names is checked like a page the agent arrives
at: a denied host is refused, an ask-first one is put to the person.

Bad input is a ConfigError (one line), which the MCP layer returns as the tool's error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..events import ApprovalAnswered, ApprovalAsked, RunEvent, RunFinished
from ..protocols import ConfigError
from .person import PersonTerminal

if TYPE_CHECKING:
    from ..agent import Agent
    from ..builder import Permissions
    from ..types import RunResult

Report = Callable[[RunEvent], Awaitable[None]]


class RunOutcome(BaseModel):
    """How a run ended, for the caller."""

    success: bool
    answer: str | None = None
    stop_reason: str
    message: str  # one line: why it stopped
    steps: int
    run_dir: str | None = None  # the trace and its report: `operator report RUN_DIR`
    approvals_asked: int = 0  # questions put to the person (on their terminal)
    approvals_given: int = 0  # of which they said yes


class PageView(BaseModel):
    """A page as the model is shown it (`operator observe`)."""

    url: str
    title: str
    text: str  # the serialization the model reads: [index] role "name" lines and the page's text
    elements: int
    tokens: int
    tokens_estimated: bool


class SkillParameter(BaseModel):
    name: str
    type: str
    description: str = ""
    example: str | None = None  # never for a secret


class SkillInfo(BaseModel):
    name: str
    description: str
    start_url: str
    parameters: list[SkillParameter]


class PreferenceInfo(BaseModel):
    id: str
    text: str
    source: str


def start_url(url: str | None) -> str | None:
    """The caller's start page: http(s) only (a file or a browser-internal page is not
    theirs to open); a bare host is https."""
    if url is None or not url.strip():
        return None
    text = url.strip()
    if "://" not in text and not text.startswith(("about:", "data:", "file:", "javascript:", "chrome:")):
        text = "https://" + text
    if text.split(":", 1)[0].lower() not in ("http", "https"):
        raise ConfigError(f"url {url[:200]!r}: only http and https pages can be opened through MCP")
    return text


class Service:
    """The tools' work, for one server: `args` are `operator mcp`'s flags (the model,
    browser, policy and run flags of `operator run`), `person` who approves (None: nobody,
    so what needs an approval is denied)."""

    def __init__(self, args: argparse.Namespace, person: PersonTerminal | None) -> None:
        self.args = args
        self.person = person
        # A persistent profile can be open in one browser at a time: runs then take turns.
        self._browser_turn = asyncio.Lock() if getattr(args, "profile", None) else None

    # --- run_task ---------------------------------------------------------------------

    async def run_task(self, task: str, url: str | None = None, max_steps: int | None = None,
                       report: Report | None = None) -> RunOutcome:
        from ..agent import check_task
        from ..builder import build_agent, model_planner
        from ..planner.config import ModelConfig, model_settings
        from ..preferences import PreferenceStore
        from ..session import BrowserSession
        from ..skills.use import SkillAwarePlanner
        from ..traces import reserved_run_dir
        from ..wire import wire_of

        check_task(task)
        steps = self._max_steps(max_steps)
        start = start_url(url)
        settings = model_settings(self.args)
        ModelConfig.resolve(**settings)  # no model configured: one line, before any browser
        computer_use = bool(getattr(self.args, "computer_use", False))
        with reserved_run_dir(self._runs_dir(), task) as run_dir, \
                self._permissions(run_dir.name, task) as perms:
            if start is not None:
                await self._may_open(perms, start)
            planner = SkillAwarePlanner(model_planner(**settings, vault=perms.vault,
                                                      computer_use=computer_use, approver=perms.approver))
            prefs = PreferenceStore(getattr(self.args, "prefs_db", None))
            try:
                async with self._turn(), BrowserSession.open(
                        self._browser(), start_url=start, vault=perms.vault, **wire_of(perms.gate)) as env:
                    agent = build_agent(planner=planner, start_url=start, perms=perms, prefs=prefs,
                                        environment=env, max_steps=steps, verify=not self.args.no_verify,
                                        run_dir=run_dir, user=self.person.user(task) if self.person else None,
                                        screenshots=self.args.screenshots, max_tokens=self.args.max_tokens,
                                        max_cost=self.args.max_cost)
                    return await follow_run(agent, task, report)
            finally:
                prefs.close()
                await planner.aclose()

    # --- observe ----------------------------------------------------------------------

    async def observe(self, url: str) -> PageView:
        from ..session import observe_page
        from ..wire import wire_of

        start = start_url(url)
        if start is None:
            raise ConfigError("observe needs a url, e.g. https://example.com")
        with self._permissions(None, f"look at {start}") as perms:
            await self._may_open(perms, start)
            async with self._turn():
                obs = await observe_page(start, self._browser(), wire=wire_of(perms.gate))
        return PageView(url=obs.url, title=obs.title, text=obs.text, elements=len(obs.elements),
                        tokens=obs.tokens, tokens_estimated=obs.tokens_estimated)

    # --- skills -----------------------------------------------------------------------

    async def list_skills(self) -> list[SkillInfo]:
        from ..skills.library import SkillLibrary

        return [SkillInfo(name=e.skill.name, description=e.skill.description, start_url=e.skill.start_url,
                          parameters=[SkillParameter(name=n, type=p.type, description=p.description,
                                                     example=None if p.type == "secret" else p.example)
                                      for n, p in e.skill.parameters.items()])
                for e in SkillLibrary().entries()]

    async def run_skill(self, name: str, parameters: Mapping[str, str] | None = None, url: str | None = None,
                        report: Report | None = None) -> RunOutcome:
        from ..builder import model_planner
        from ..planner.config import model_settings
        from ..skills.glance import GlancingPlanner
        from ..skills.heal import ModelHealer
        from ..skills.library import SkillLibrary
        from ..skills.run import max_steps_for, replay_agent, skill_session, skill_task
        from ..skills.values import resolve
        from ..traces import reserved_run_dir

        entry = SkillLibrary().get(name)
        skill = entry.skill
        values = resolve(skill, {str(k): str(v) for k, v in (parameters or {}).items()})
        given = start_url(url)
        start = given or skill.start_url
        with reserved_run_dir(self._runs_dir(), f"skill {skill.name}") as run_dir, \
                self._permissions(run_dir.name, f"the skill {skill.name}") as perms:
            if given is not None:  # the skill's own start page is the person's; the caller's is checked
                await self._may_open(perms, given)
            healer = None
            with contextlib.suppress(ConfigError):  # no model: steps not found are reported, not healed
                healer = model_planner(**model_settings(self.args), vault=perms.vault)
            planner = GlancingPlanner(skill, values, base_url=start,
                                      healer=ModelHealer(healer) if healer else None)
            try:
                async with self._turn(), skill_session(start, browser=self._browser(), perms=perms,
                                                       planner=planner) as session:
                    # Heals are never written back from here: the person accepts them at the terminal.
                    agent = replay_agent(planner, session, start_url=start, perms=perms, run_dir=run_dir,
                                         max_steps=max_steps_for(skill, values))
                    return await follow_run(agent, skill_task(skill, planner), report)
            finally:
                closer = getattr(healer, "aclose", None)
                if closer is not None:
                    await closer()

    # --- preferences ------------------------------------------------------------------

    async def get_preferences(self) -> list[PreferenceInfo]:
        from ..preferences.commands import open_store

        with open_store(self.args) as store:
            return [PreferenceInfo(id=p.id, text=p.text, source=p.source) for p in store.preferences()]

    async def add_preference(self, text: str) -> list[PreferenceInfo]:
        from ..preferences.commands import open_store
        from ..preferences.model_parser import parse_sentence, resolve_model

        sentence = " ".join(text.split())
        if not sentence:
            raise ConfigError('say the preference in plain words, e.g. "I prefer aisle seats"')
        config = resolve_model(self.args.model, self.args.base_url, self.args.api_key)
        with open_store(self.args) as store:
            drafts, _ = await parse_sentence(sentence, config, store.names())
            # Told by the person's MCP client: a preference can only add questions, never allow anything.
            added = [store.add(d, source="told", evidence=[f"told through MCP: {sentence}"]) for d in drafts]
            return [PreferenceInfo(id=p.id, text=p.text, source=p.source) for p in added]

    # --- the parts ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _permissions(self, run_id: str | None, task: str) -> Iterator[Permissions]:
        """The person's policy and flags; the person's terminal answers, or nobody (never stdin:
        over stdio it is the client's)."""
        from ..builder import permissions
        from ..permissions.commands import policy_overrides

        overrides = {k: v for k, v in policy_overrides(self.args).items() if v is not None}
        approver = self.person.approver(task) if self.person is not None else None
        perms = permissions(run_id=run_id, policy_path=self.args.policy, overrides=overrides,
                            approver=approver, interactive=approver is not None)
        try:
            yield perms
        finally:
            perms.close()

    async def _may_open(self, perms: Permissions, url: str) -> None:
        """The caller's start page, judged as a page the agent arrives at."""
        from ..types import Navigate

        verdict = perms.gate.check_arrival(url)
        if verdict.decision == "allow":
            return
        if verdict.decision == "ask":
            approved = await perms.approver.approve(verdict, Navigate(url=url))
            perms.gate.record_answer(verdict, approved)
            if approved:
                return
            raise ConfigError(f"not opened: {url[:200]} needs the person's approval, which they did not "
                              f"give ({verdict.reason})")
        raise ConfigError(f"not allowed: {verdict.reason}")

    def _max_steps(self, asked: int | None) -> int:
        cap = self.args.max_steps
        if asked is None:
            return cap
        if not 1 <= asked <= cap:
            raise ConfigError(f"max_steps must be between 1 and {cap} (the server's --max-steps)")
        return asked

    def _runs_dir(self) -> Path | None:
        return Path(self.args.runs_dir) if self.args.runs_dir else None

    def _browser(self) -> Any:
        from ..builder import browser_options

        return browser_options(headed=self.args.headed, profile=self.args.profile, cdp_url=self.args.cdp_url)

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        if self._browser_turn is None:
            yield
            return
        async with self._browser_turn:
            yield


async def follow_run(agent: Agent, task: str, report: Report | None = None) -> RunOutcome:
    """Run `task` on `agent` through its event stream, telling `report` each event."""
    result: RunResult | None = None
    asked = given = 0
    async with contextlib.aclosing(agent.stream(task)) as events:
        async for event in events:
            if isinstance(event, ApprovalAsked):
                asked += 1
            elif isinstance(event, ApprovalAnswered):
                given += event.approved
            elif isinstance(event, RunFinished):
                result = event.result
            if report is not None:
                await report(event)
    if result is None:
        raise RuntimeError("the run's stream ended without its result")
    return RunOutcome(success=result.success, answer=result.answer, stop_reason=result.stop_reason,
                      message=result.message, steps=result.steps, run_dir=result.run_dir,
                      approvals_asked=asked, approvals_given=given)
