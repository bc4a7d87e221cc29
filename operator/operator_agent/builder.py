"""Where concrete backends are wired: the only module that knows them all."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .agent import Agent, AgentConfig
from .launch import BrowserOptions
from .permissions.gate import AllowAll, DenyApprover
from .permissions.vault import Vault
from .planner.config import ModelConfig
from .preferences import PreferenceStore
from .protocols import Approver, Environment, Gate, Planner, RunHook, UserChannel


def model_planner(*, model: str | None = None, base_url: str | None = None, api_key: str | None = None,
                  vision: bool | None = None, vault: Vault | None = None) -> Planner:
    """The planner behind an OpenAI-compatible endpoint; ConfigError when none is configured."""
    from .planner.openai import OpenAIPlanner

    config = ModelConfig.resolve(model=model, base_url=base_url, api_key=api_key, vision=vision)
    # The model learns the names of the secrets it may type, never their values.
    return OpenAIPlanner(config, secrets_prompt=vault.prompt_text() if vault else "")


def browser_options(*, headed: bool = False, profile: str | None = None,
                    cdp_url: str | None = None) -> BrowserOptions:
    return BrowserOptions(headless=not headed, profile_dir=Path(profile).expanduser() if profile else None,
                          cdp_url=cdp_url)


@dataclass
class Permissions:
    gate: Gate
    approver: Approver
    vault: Vault | None


def permissions(*, run_id: str, policy_path: str | None = None, overrides: Mapping[str, Any] | None = None,
                interactive: bool | None = None) -> Permissions:
    """The policy gate with its audit log, spend ledger and vault; the terminal approver
    when a person is at the terminal, deny-by-default otherwise."""
    from .permissions.approvals import terminal_approver
    from .permissions.audit import AuditLog
    from .permissions.policy import Policy
    from .permissions.policy_gate import PolicyGate
    from .permissions.vault import Vault

    interactive = sys.stdin.isatty() if interactive is None else interactive
    policy = Policy.load(Path(policy_path) if policy_path else None).with_overrides(overrides or {})
    vault = Vault.open_if_set_up()
    gate = PolicyGate(policy, vault=vault, audit=AuditLog(run_id=run_id), interactive=interactive)
    approver = terminal_approver() if interactive else DenyApprover()
    return Permissions(gate=gate, approver=approver, vault=vault)


def build_agent(*, planner: Planner, start_url: str | None = None,
                browser: BrowserOptions | None = None, environment: Environment | None = None,
                max_steps: int = 30, verify: bool = True, run_dir: Path | None = None,
                perms: Permissions | None = None, prefs: PreferenceStore | None = None,
                user: UserChannel | None = None, hooks: Sequence[RunHook] = ()) -> Agent:
    """The agent with its gate: the permission policy, and the person's must/never
    preferences checked before each choice like a permission."""
    from .preferences import Learner, LearningHook, PreferenceGuard, WithPreferences

    config = AgentConfig(max_steps=max_steps, verify=verify, run_dir=run_dir)
    gate: Gate | None = perms.gate if perms else None
    hooks = list(hooks)
    if prefs is not None:
        gate = WithPreferences(gate or AllowAll(), PreferenceGuard(prefs))
        hooks.append(LearningHook(Learner(prefs)))  # choices this run made, for `prefs review`
    return Agent(planner=planner, environment=environment, start_url=start_url,
                 browser=browser or BrowserOptions(), user=user, hooks=hooks, config=config,
                 gate=gate, approver=perms.approver if perms else None,
                 vault=perms.vault if perms else None, preferences=prefs)
