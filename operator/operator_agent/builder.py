"""Where concrete backends are wired: the only module that knows them all."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .agent import Agent, AgentConfig
from .launch import BrowserOptions
from .permissions.gate import DenyApprover
from .permissions.policy import Policy
from .permissions.vault import Vault
from .planner.config import ModelConfig
from .preferences import PreferenceStore
from .protocols import Approver, Environment, Gate, Planner, PreferenceSource, RunHook, UserChannel
from .types import ScreenshotMode

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.async_api import Browser

    from .manager import Manager
    from .permissions.ledger import SpendLedger


def model_planner(*, vault: Vault | None = None, computer_use: bool = False, approver: Approver | None = None,
                  environment: str = "browser", **settings: Any) -> Planner:
    """The planner behind an OpenAI-compatible endpoint; ConfigError when none is configured.
    `settings`: ModelConfig.resolve()'s (model, base_url, api_key, vision, timeout, ...).
    `computer_use`: a computer-use model acting in pixels (Responses API), whose safety
    checks go to `approver`; `environment` "browser" or "linux" (the desktop)."""
    from .planner.openai import OpenAIPlanner

    config = ModelConfig.resolve(**settings)
    secrets = vault.prompt_text() if vault else ""
    if computer_use:
        from .planner.computer_use import computer_use_planner

        return computer_use_planner(config, environment="linux" if environment != "browser" else "browser",
                                    secrets_prompt=secrets, approver=approver)
    # The model learns the names of the secrets it may type, never their values.
    return OpenAIPlanner(config, secrets_prompt=secrets)


def browser_options(*, headed: bool = False, profile: str | None = None,
                    cdp_url: str | None = None) -> BrowserOptions:
    return BrowserOptions(headless=not headed, profile_dir=Path(profile).expanduser() if profile else None,
                          cdp_url=cdp_url)


class _UserVault(Enum):
    """`permissions(vault=USER_VAULT)`: the person's own vault, if they have set one up."""

    USER = "user"


USER_VAULT = _UserVault.USER


@dataclass
class Permissions:
    gate: Gate
    approver: Approver
    vault: Vault | None

    def close(self) -> None:
        """The audit log's and the spending ledger's database connections."""
        for part in (getattr(self.gate, "ledger", None), getattr(self.gate, "audit", None)):
            if part is not None:
                part.close()


def permissions(*, run_id: str | None = None, policy_path: str | None = None,
                overrides: Mapping[str, Any] | None = None, interactive: bool | None = None,
                policy: Policy | None = None, audit_path: Path | None = None,
                vault: Vault | _UserVault | None = USER_VAULT,
                approver: Approver | None = None, ledger: SpendLedger | None = None) -> Permissions:
    """The one assembly of the permission layer for every entry point (`operator run`,
    skills, evals, the desktop, `Agent()`): the policy gate with its audit log, spend
    ledger and vault; the terminal approver when a person is at the terminal,
    deny-by-default otherwise.

    `policy` instead of a policy file (evals: the shipped defaults, never the person's
    file); `audit_path` instead of the person's audit log; `vault` a given vault or None
    instead of the person's; `approver` someone who answers (then the gate asks); `ledger`
    a spending ledger shared with other runs (a manager's workers: the limits hold for all
    of them together), else the gate's own on the audit database.
    """
    from .permissions.approvals import terminal_approver
    from .permissions.audit import AuditLog
    from .permissions.policy_gate import PolicyGate

    if interactive is None:
        interactive = True if approver is not None else sys.stdin.isatty()
    base = policy if policy is not None else Policy.load(Path(policy_path) if policy_path else None)
    rules = base.with_overrides(overrides or {})
    if vault is USER_VAULT:
        vault = Vault.open_if_set_up()
    gate = PolicyGate(rules, vault=vault, audit=AuditLog(audit_path, run_id=run_id), interactive=interactive,
                      ledger=ledger)
    if approver is None:
        approver = terminal_approver() if interactive else DenyApprover()
    return Permissions(gate=gate, approver=approver, vault=vault)


def gate_stack(perms: Permissions, prefs: PreferenceSource | None) -> Gate:
    """The permission gate, then the person's must/never preferences checked before each
    choice like a permission (a store's; other sources only inform the planner)."""
    from .preferences import PreferenceGuard, PreferenceStore, WithPreferences

    if isinstance(prefs, PreferenceStore):
        return WithPreferences(perms.gate, PreferenceGuard(prefs))
    return perms.gate


def agent_defaults(*, approver: Approver | None, vault: Vault | None, prefs: PreferenceSource | None,
                   run_id: str | None = None) -> tuple[Gate, Approver, Vault | None]:
    """What `Agent()` without a gate runs under: the default policy through permissions(),
    asking the given approver, else the terminal's person, else nobody (deny)."""
    perms = permissions(run_id=run_id, vault=vault if vault is not None else USER_VAULT, approver=approver)
    return gate_stack(perms, prefs), perms.approver, perms.vault


def build_agent(*, planner: Planner, start_url: str | None = None,
                browser: BrowserOptions | None = None, environment: Environment | None = None,
                max_steps: int = 30, verify: bool = True, run_dir: Path | None = None,
                perms: Permissions | None = None, prefs: PreferenceStore | None = None,
                user: UserChannel | None = None, hooks: Sequence[RunHook] = (),
                screenshots: bool | ScreenshotMode = "steps", learn: bool = True,
                max_tokens: int | None = None, max_cost: float | None = None) -> Agent:
    """The agent with its gate: the permission policy (permissions(), unless given), and
    the person's must/never preferences checked before each choice like a permission.
    `screenshots`: pictures in the trace ("steps", "failures", "off"; a planner that sees
    screenshots gets them anyway). `learn`: log this run's choices into `prefs` for
    `prefs review`. `max_tokens`, `max_cost` (USD): the run's budget, checked before each
    model call."""
    from .preferences import Learner, LearningHook

    config = AgentConfig(max_steps=max_steps, verify=verify, run_dir=run_dir, screenshots=screenshots,
                         max_tokens=max_tokens, max_cost=max_cost)
    if perms is None:
        perms = permissions(run_id=run_dir.name if run_dir else None)
    hooks = list(hooks)
    if prefs is not None and learn:
        hooks.append(LearningHook(Learner(prefs)))  # choices this run made, for `prefs review`
    return Agent(planner=planner, environment=environment, start_url=start_url,
                 browser=browser or BrowserOptions(), user=user, hooks=hooks, config=config,
                 gate=gate_stack(perms, prefs), approver=perms.approver, vault=perms.vault,
                 preferences=prefs)


def build_manager(*, start_url: str | None = None, browser: BrowserOptions | Browser | None = None,
                  workers: int = 2, max_retries: int = 1, approver: Approver | None = None,
                  user: UserChannel | None = None, prefs: PreferenceStore | None = None,
                  policy_path: str | None = None, overrides: Mapping[str, Any] | None = None,
                  policy: Policy | None = None, audit_path: Path | None = None,
                  vault: Vault | _UserVault | None = USER_VAULT,
                  worker_planner: Callable[[Planner], Planner] | None = None,
                  worker_hooks: Callable[[str], Sequence[RunHook]] | None = None,
                  runs_dir: Path | None = None, run_dir: Path | None = None, max_steps: int = 30,
                  verify: bool = True, screenshots: bool | ScreenshotMode = "steps", learn: bool = True,
                  max_tokens: int | None = None, max_cost: float | None = None, **settings: Any) -> Manager:
    """A manager (manager/): the model splits one request into sub-tasks, a worker agent per
    sub-task runs in its own context of one shared browser (`browser`: what to launch, or a
    running playwright Browser), at most `workers` at once, each result is checked against
    its spec and sent back with the reason up to `max_retries` times, and the model answers.

    Each worker is build_agent()'s, under its own gate from permissions() (this policy, vault
    and audit log), with the person's preferences; all of them share one spending ledger (the
    limits hold for them together) and the person: `approver` and `user`, asked one question
    at a time, each naming its worker (the terminal's person by default, else nobody).
    `settings`: the model's (ModelConfig.resolve's), for the manager and the workers alike;
    `worker_planner` wraps each worker's planner (e.g. with taught skills). `max_tokens`,
    `max_cost` hold for each worker's run. `await manager.run(task)`, then `aclose()`."""
    from .manager import BrowserCrew, Manager, ManagerConfig, ModelBrain, WorkerSettings
    from .permissions.approvals import terminal_approver
    from .planner.client import ModelClient

    model = ModelConfig.resolve(**settings)  # no model: one line, before anything starts
    config = ManagerConfig(workers=workers, max_retries=max_retries, start_url=start_url, runs_dir=runs_dir,
                           run_dir=run_dir)
    if vault is USER_VAULT:
        vault = Vault.open_if_set_up()
    rules = (policy if policy is not None else Policy.load(Path(policy_path) if policy_path else None))
    if approver is None:
        approver = terminal_approver() if sys.stdin.isatty() else DenyApprover()
    shared = model_planner(vault=vault, **settings)  # stateless per step: one for every worker
    crew = BrowserCrew(make_planner=(lambda: worker_planner(shared)) if worker_planner else (lambda: shared),
                       policy=rules.with_overrides(overrides or {}), vault=vault, audit_path=audit_path,
                       prefs=prefs, browser=browser, hooks=worker_hooks,
                       settings=WorkerSettings(max_steps=max_steps, verify=verify, screenshots=screenshots,
                                               learn=learn, max_tokens=max_tokens, max_cost=max_cost))
    brain = ModelBrain(ModelClient(model))
    closers = [brain.aclose] + ([shared.aclose] if hasattr(shared, "aclose") else [])
    return Manager(brain=brain, crew=crew, approver=approver, user=user, config=config, vault=vault,
                   closers=closers)
