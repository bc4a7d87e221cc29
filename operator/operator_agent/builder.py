"""Where concrete backends are wired: the only module that knows them all."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .agent import Agent, AgentConfig
from .launch import BrowserOptions
from .planner.config import ModelConfig
from .protocols import Environment, Planner, RunHook, UserChannel


def model_planner(*, model: str | None = None, base_url: str | None = None, api_key: str | None = None,
                  vision: bool | None = None) -> Planner:
    """The planner behind an OpenAI-compatible endpoint; ConfigError when none is configured."""
    from .planner.openai import OpenAIPlanner

    return OpenAIPlanner(ModelConfig.resolve(model=model, base_url=base_url, api_key=api_key,
                                             vision=vision))


def browser_options(*, headed: bool = False, profile: str | None = None,
                    cdp_url: str | None = None) -> BrowserOptions:
    return BrowserOptions(headless=not headed, profile_dir=Path(profile).expanduser() if profile else None,
                          cdp_url=cdp_url)


def build_agent(*, planner: Planner, start_url: str | None = None,
                browser: BrowserOptions | None = None, environment: Environment | None = None,
                max_steps: int = 30, verify: bool = True, runs_dir: str | None = None,
                user: UserChannel | None = None, hooks: Sequence[RunHook] = ()) -> Agent:
    config = AgentConfig(max_steps=max_steps, verify=verify,
                         runs_dir=Path(runs_dir) if runs_dir else None)
    return Agent(planner=planner, environment=environment, start_url=start_url,
                 browser=browser or BrowserOptions(), user=user, hooks=hooks, config=config)
