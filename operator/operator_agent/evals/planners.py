"""Which planner decides during an evaluation: a small registry of factories.

`openai` is the model behind an OpenAI-compatible endpoint, `scripted` replays the
replies a suite ships for a task (its `script:`), `skills` replays the taught skill
that fits the task (operator_agent.planner.skills.offline_planner; refused with a
clear message when that module is missing). Others can be added with
`register_planner`.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..permissions.vault import Vault
from ..protocols import ConfigError, Planner
from .tasks import ScriptSpec, Task


@dataclass(frozen=True)
class PlannerSpec:
    """What the person chose on the command line; crosses to Ray workers as is."""

    name: str = "openai"
    model: str | None = None
    base_url: str | None = None
    vision: bool | None = None

    @property
    def label(self) -> str:
        return f"{self.name}:{self.model}" if self.model else self.name


@dataclass(frozen=True)
class PlannerRequest:
    """Everything a factory may need for one task: made once the task's page is open."""

    spec: PlannerSpec
    task: Task
    goal: str  # the task's words (MiniWoB: the instruction read from the page)
    site_url: str  # the root of the site the task runs on, e.g. http://127.0.0.1:41234/
    vault: Vault | None = None  # its secrets' names (never values) go into a model's prompt


Factory = Callable[[PlannerRequest], Planner]
_REGISTRY: dict[str, Factory] = {}
_CHECKS: dict[str, Callable[[PlannerSpec], None]] = {}


def register_planner(name: str, factory: Factory, *,
                     check: Callable[[PlannerSpec], None] | None = None) -> None:
    """Add a planner; `check` runs once before a run starts and raises ConfigError
    when the planner cannot work here (no model configured, module missing)."""
    _REGISTRY[name] = factory
    if check is not None:
        _CHECKS[name] = check


def names() -> list[str]:
    return sorted(_REGISTRY)


def check_planner(spec: PlannerSpec) -> None:
    if spec.name not in _REGISTRY:
        raise ConfigError(f"unknown planner {spec.name!r}; choose one of {', '.join(names())}")
    if spec.name in _CHECKS:
        _CHECKS[spec.name](spec)


def make_planner(request: PlannerRequest) -> Planner:
    """ConfigError when the planner cannot attempt this task (e.g. no taught skill fits)."""
    return _REGISTRY[request.spec.name](request)


def runnable(spec: PlannerSpec, task: Task) -> bool:
    """Whether this planner can attempt the task at all (scripted: only with a script)."""
    return spec.name != "scripted" or task.script is not None


# --- openai --------------------------------------------------------------------------


def _openai(request: PlannerRequest) -> Planner:
    from ..builder import model_planner

    spec = request.spec
    return model_planner(model=spec.model, base_url=spec.base_url, vision=spec.vision, vault=request.vault)


def _openai_check(spec: PlannerSpec) -> None:
    from ..planner.config import ModelConfig

    ModelConfig.resolve(model=spec.model, base_url=spec.base_url, vision=spec.vision)


# --- skills --------------------------------------------------------------------------

SKILLS_MODULE = "operator_agent.planner.skills"


def _skills_module() -> Any:
    try:
        return importlib.import_module(SKILLS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name not in (SKILLS_MODULE, "operator_agent.planner"):
            raise  # the module exists but something it needs is missing: our bug
        raise ConfigError(f"the skills planner is not available yet ({SKILLS_MODULE} does not exist); "
                          "use --planner openai or --planner scripted") from None


def _skills(request: PlannerRequest) -> Planner:
    # The skill recorded on one port replays on this run's site: base_url rebases it.
    planner, _choice = _skills_module().offline_planner(request.goal, base_url=request.site_url,
                                                        report=lambda _line: None)
    return planner  # type: ignore[no-any-return]


def _skills_check(spec: PlannerSpec) -> None:
    if not hasattr(_skills_module(), "offline_planner"):
        raise ConfigError(f"{SKILLS_MODULE} has no offline_planner(task, base_url=...): "
                          "the skills planner cannot be used for evaluations yet")


# --- scripted ------------------------------------------------------------------------


def resolve(ref: str) -> Callable[..., Any]:
    module_name, _, attr = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"script {ref}: no module {exc.name}") from None
    for part in attr.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise ConfigError(f"script {ref}: {module_name} has no {attr}")
    if not callable(obj):
        raise ConfigError(f"script {ref} is not callable")
    return obj  # type: ignore[no-any-return]


def scripted_planner(script: ScriptSpec, max_steps: int) -> Planner:
    """A ScriptedPlanner replaying the decisions, or calling the step function each step."""
    from ..planner.scripted import ScriptedPlanner

    if script.decisions is not None:
        return ScriptedPlanner(list(script.decisions))
    if script.call is None:
        raise ConfigError("a script needs `call: module:function` or `decisions: [...]`")
    target = resolve(script.call)
    extra: dict[str, Any] = {}
    if "memory" in inspect.signature(target).parameters:
        extra["memory"] = {}  # one per run: what this "model" remembers between its steps
    fn = functools.partial(target, **script.with_, **extra)
    if script.reads == "page":
        return ScriptedPlanner([fn] * max_steps)
    planner: ScriptedPlanner | None = None

    def from_prompt(_page: str) -> Any:
        assert planner is not None
        return fn(planner.prompts[-1])  # decide() records the step message before calling us

    planner = ScriptedPlanner([from_prompt] * max_steps)
    return planner


def _scripted(request: PlannerRequest) -> Planner:
    task = request.task
    if task.script is None:
        raise ConfigError(f"task {task.key} has no scripted replies (`script:`)")
    return scripted_planner(task.script, task.max_steps)


register_planner("openai", _openai, check=_openai_check)
register_planner("skills", _skills, check=_skills_check)
register_planner("scripted", _scripted)
