"""The task format: one evaluation task, as written in a suite file (YAML).

A suite file has `suite` (its name), optional `defaults` merged into every task, and
`tasks`. Strings may hold date placeholders, expanded when the task runs:
`{date+N}` is the ISO date N days from today (`{date-N}` before it), `{date+N:long}`
the same date as the flights site writes it ("Tuesday, 24 November 2026").
See operator_bench/suites/README.md.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from ..protocols import ConfigError
from .checks import Check, parse_checks

SITES = ("shop", "flights", "miniwob")
Answer = Literal["yes", "no", "nobody"]
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_DATE = re.compile(r"\{date([+-]\d+)(?::(iso|long))?\}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScriptSpec(_Model):
    """Scripted replies for the `scripted` planner: a step function `module:function`
    called each step with the observation text (`reads: page`) or the whole step
    message a model would read, errors of the last step included (`reads: prompt`),
    and `with` as keyword arguments (plus `memory`, a dict kept for the run, if the
    function takes one); or fixed decisions replayed in order."""

    call: str | None = None
    reads: Literal["page", "prompt"] = "page"
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    decisions: list[dict[str, Any]] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("call")
    @classmethod
    def _call(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[\w.]+:[\w.]+", v):
            raise ValueError(f"script call {v!r} must look like package.module:function")
        return v


class Task(_Model):
    id: str
    suite: str = ""
    site: Literal["shop", "flights", "miniwob"]
    start: str = "/"  # relative to the site (MiniWoB: to the package's html folder)
    goal: str | None = None  # MiniWoB: read from the page when None
    group: str = "general"
    difficulty: int = Field(default=1, ge=1, le=5)
    preferences: list[str | dict[str, Any]] = Field(default_factory=list)
    policy: dict[str, Any] = Field(default_factory=dict)  # Policy.with_overrides keys
    approve: Answer = "yes"  # what the simulated person answers when the gate asks
    max_steps: int = Field(default=30, ge=1)
    knobs: dict[str, Any] = Field(default_factory=dict)  # practice-site hazard knobs
    dismiss_banners: bool = False  # answer cookie banners and pop-ups before the run
    vault: bool = False  # the person's vault holds the demo password and a test card (placeholders)
    verify: bool = True  # the planner's final check of the page before "done"
    episode_ms: int = Field(default=600_000, ge=1000)  # MiniWoB episode time limit
    checks: list[Check] = Field(default_factory=list)
    script: ScriptSpec | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"task id {v!r}: letters, digits and . _ + - only")
        return v

    @field_validator("approve", mode="before")
    @classmethod
    def _approve(cls, v: object) -> object:
        # YAML reads a bare yes/no as a boolean.
        return {True: "yes", False: "no"}.get(v, v) if isinstance(v, bool) else v

    @field_validator("checks", mode="before")
    @classmethod
    def _checks(cls, v: object) -> object:
        return parse_checks(v) if isinstance(v, list) else v

    @field_serializer("checks")
    def _dump_checks(self, checks: list[Check]) -> list[dict[str, Any]]:
        # As written in a suite file, so a dumped task loads again (and crosses to Ray).
        return [{c.kind: c.model_dump(mode="json", exclude_defaults=True)} for c in checks]

    @model_validator(mode="after")
    def _needs_goal(self) -> Task:
        if self.site != "miniwob" and not self.goal:
            raise ValueError("a practice-site task needs a goal")
        return self

    @property
    def key(self) -> str:
        return f"{self.suite}/{self.id}"

    def expanded(self, today: dt.date | None = None) -> Task:
        """This task with its date placeholders filled in for `today`."""
        data = expand(self.model_dump(by_alias=True), today or dt.date.today())
        return Task.model_validate(data)


class Suite(_Model):
    name: str
    description: str = ""
    path: str = ""
    tasks: list[Task]
    miniwob_all: bool = False  # the suite lists every task in the miniwob package

    def task(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(task_id)


def expand(value: Any, today: dt.date) -> Any:
    """Fill `{date+N}` / `{date-N}` placeholders in every string of a JSON-like value."""
    if isinstance(value, str):
        def fill(m: re.Match[str]) -> str:
            day = today + dt.timedelta(days=int(m.group(1)))
            return long_date(day) if m.group(2) == "long" else day.isoformat()

        return _DATE.sub(fill, value)
    if isinstance(value, dict):
        return {k: expand(v, today) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, today) for v in value]
    return value


def long_date(day: dt.date) -> str:
    return f"{day:%A}, {day.day} {day:%B %Y}"


def merge_defaults(defaults: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in task.items():
        if key in ("policy", "knobs") and isinstance(value, dict):
            merged[key] = {**defaults.get(key, {}), **value}  # a task adds to the suite's
        else:
            merged[key] = value
    return merged


def parse_suite(data: Any, *, source: str = "<suite>") -> Suite:
    """A Suite from the parsed YAML of a suite file; ConfigError names what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("suite"), str):
        raise ConfigError(f"{source}: a suite file is a mapping with `suite: NAME` and `tasks: [...]`")
    name = data["suite"]
    unknown = set(data) - {"suite", "description", "defaults", "tasks", "miniwob"}
    if unknown:
        raise ConfigError(f"{source}: unknown top-level keys {sorted(unknown)}")
    defaults = data.get("defaults") or {}
    raw = data.get("tasks") or []
    if not isinstance(defaults, dict) or not isinstance(raw, list):
        raise ConfigError(f"{source}: `defaults` must be a mapping and `tasks` a list")
    tasks: list[Task] = []
    seen: set[str] = set()
    for n, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise ConfigError(f"{source}: task {n} is not a mapping")
        try:
            task = Task.model_validate({**merge_defaults(defaults, item), "suite": name})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{source}: task {item.get('id', n)}: {where}: {first['msg']}") from None
        if task.id in seen:
            raise ConfigError(f"{source}: task id {task.id!r} appears twice")
        seen.add(task.id)
        tasks.append(task)
    miniwob = data.get("miniwob") or {}
    if not isinstance(miniwob, dict):
        raise ConfigError(f"{source}: `miniwob` must be a mapping, e.g. {{all: true}}")
    return Suite(name=name, description=str(data.get("description") or ""), path=source, tasks=tasks,
                 miniwob_all=bool(miniwob.get("all")))


def load_suite_file(path: Path) -> tuple[Suite, dict[str, Any]]:
    """The suite in a YAML file, and the raw defaults (for tasks added from elsewhere)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read suite file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    suite = parse_suite(data, source=str(path))
    return suite, dict((data or {}).get("defaults") or {})
