"""Running a skill through the normal agent loop: a SkillPlanner, a browser session
whose perceiver also describes elements the way the recorder did (and only glances
where a step's element shows at once: glance.py), and the permission layer exactly
as for a model's actions (builder.permissions())."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext

from ..agent import Agent
from ..builder import Permissions, build_agent, permissions
from ..launch import BrowserOptions
from ..protocols import Planner, RunHook
from ..session import BrowserSession
from ..types import RunResult
from ..wire import wire_of
from . import datepicker
from .format import Skill
from .glance import GlancingPerceiver, GlancingPlanner
from .heal import ModelHealer
from .replay import SkillPlanner
from .templates import fill


@dataclass
class SkillRun:
    result: RunResult
    planner: SkillPlanner


def skill_task(skill: Skill, planner: SkillPlanner) -> str:
    shown = {k: v for k, v in planner.values.items() if skill.parameters[k].type != "secret"}
    return f"Run the skill {skill.name}: {fill(skill.description, shown) or skill.name}"


def max_steps_for(skill: Skill, values: Mapping[str, str] | None = None) -> int:
    # Room for waits, scrolls and a pop-up or two besides the steps themselves, and for
    # moving calendars to the dates given.
    return max(30, 3 * len(skill.steps) + 10) + datepicker.steps_needed(skill, values or {})


@contextlib.asynccontextmanager
async def skill_session(start_url: str, *, browser: BrowserOptions | None = None,
                        context: BrowserContext | None = None, perms: Permissions | None = None,
                        planner: SkillPlanner | None = None) -> AsyncIterator[BrowserSession]:
    """A browser session (own browser, or on `context`) at `start_url`, for replays; it
    glances for `planner`'s steps when that is a GlancingPlanner (see replay_agent)."""
    vault = perms.vault if perms else None
    perceiver = GlancingPerceiver()
    perceiver.planner = planner if isinstance(planner, GlancingPlanner) else None
    # The network is guarded before the start page loads, as for the agent's own runs.
    wire = wire_of(perms.gate if perms else None)
    if context is not None:
        session = BrowserSession(context, perceiver=perceiver, vault=vault)
        try:
            await session.guard_requests(**wire)
            await session.goto(start_url)
            yield session
        finally:
            await session.close()  # takes its guard off the caller's context
        return
    async with BrowserSession.open(browser, start_url=start_url, perceiver=perceiver,
                                   vault=vault, **wire) as session:
        yield session


def replay_agent(planner: SkillPlanner, session: BrowserSession, *, hooks: Sequence[RunHook] = (),
                 **options: Any) -> Agent:
    """The agent that replays: build_agent's, with a GlancingPlanner hearing each finished
    step (it must know where it is before the next observation to glance)."""
    heard = [*hooks, planner] if isinstance(planner, GlancingPlanner) else list(hooks)
    return build_agent(planner=planner, environment=session, hooks=heard, **options)


async def run_skill(skill: Skill, values: Mapping[str, str], *, url: str | None = None,
                    browser: BrowserOptions | None = None, context: BrowserContext | None = None,
                    perms: Permissions | None = None, healer: Planner | None = None,
                    hooks: Sequence[RunHook] = (), runs_dir: Path | None = None, run_dir: Path | None = None,
                    report: Callable[[str], None] | None = None, max_steps: int | None = None,
                    **planner_options: Any) -> SkillRun:
    """Replay `skill` with resolved `values` (values.resolve); returns the run and the planner
    (its heals and notes). `healer`: a model planner asked about steps that cannot be found."""
    start = url or skill.start_url
    if perms is None:  # the same permissions as `operator skill run`, shared by gate and executor
        perms = permissions(run_id=run_dir.name if run_dir else None)
    planner = GlancingPlanner(skill, values, base_url=start, healer=ModelHealer(healer) if healer else None,
                              report=report, **planner_options)
    async with skill_session(start, browser=browser, context=context, perms=perms,
                             planner=planner) as session:
        agent = replay_agent(planner, session, start_url=start, perms=perms, run_dir=run_dir, hooks=hooks,
                             max_steps=max_steps or max_steps_for(skill, values))
        if runs_dir is not None and run_dir is None:
            agent.config.runs_dir = runs_dir
        result = await agent.run(skill_task(skill, planner))
    return SkillRun(result, planner)
