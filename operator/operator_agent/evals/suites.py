"""Finding suites and turning them into work: (task, seed) pairs.

A suite is named (`shop`, `flights`, `miniwob`: the bench's suites, operator_bench/suites/,
or the files in $OPERATOR_SUITES_DIR) or given as a path to a YAML file. Several can be
joined with commas: `shop,flights`.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..package_data import package_dir
from ..protocols import ConfigError
from . import miniwob
from .tasks import Suite, Task, load_suite_file, merge_defaults

SUITES_ENV = "OPERATOR_SUITES_DIR"


def suites_dir() -> Path:
    """$OPERATOR_SUITES_DIR, else the suites shipped as package data of the bench
    (operator_bench/suites/: read as files, never imported)."""
    env = os.environ.get(SUITES_ENV)
    return Path(env) if env else package_dir("operator_bench", "suites")


def available() -> list[str]:
    d = suites_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def _path(ref: str) -> Path:
    p = Path(ref)
    if p.suffix in (".yaml", ".yml") or p.is_file():
        if not p.is_file():
            raise ConfigError(f"no suite file {ref}")
        return p
    candidate = suites_dir() / f"{ref}.yaml"
    if candidate.is_file():
        return candidate
    names = ", ".join(available()) or f"none in {suites_dir()}"
    raise ConfigError(f"unknown suite {ref!r}: name one of {names}, or give a path to a .yaml file")


def load_suite(ref: str) -> Suite:
    """One suite by name or path; a MiniWoB suite with `miniwob: {all: true}` gets every
    task in the package (those it does not list take the suite's defaults)."""
    suite, defaults = load_suite_file(_path(ref))
    if not any(t.site == "miniwob" for t in suite.tasks) and not suite.miniwob_all:
        return suite
    return _with_miniwob(suite, defaults)


def _with_miniwob(suite: Suite, defaults: dict[str, Any]) -> Suite:
    package = miniwob.list_tasks()
    listed = {t.id for t in suite.tasks}
    tasks: list[Task] = []
    for t in suite.tasks:
        if t.site != "miniwob" or t.start != "/":
            tasks.append(t)
        elif t.id in package:
            tasks.append(t.model_copy(update={"start": package[t.id]}))
        else:
            raise ConfigError(f"{suite.path}: task {t.id!r} is not in the miniwob package "
                              f"(see `operator eval list {suite.name}`)")
    if suite.miniwob_all:
        for name, page in package.items():
            if name in listed:
                continue
            try:
                tasks.append(Task.model_validate({**merge_defaults(defaults, {"id": name, "start": page}),
                                                  "site": "miniwob", "suite": suite.name}))
            except ValidationError as exc:
                raise ConfigError(f"{suite.path}: defaults do not make a MiniWoB task: {exc}") from None
    return suite.model_copy(update={"tasks": tasks})


def load_suites(refs: str) -> list[Suite]:
    suites = [load_suite(r.strip()) for r in refs.split(",") if r.strip()]
    if not suites:
        raise ConfigError("name a suite, e.g. `operator eval run shop`")
    names = [s.name for s in suites]
    if len(set(names)) != len(names):
        raise ConfigError(f"the same suite twice: {', '.join(names)}")
    return suites


@dataclass(frozen=True)
class WorkItem:
    """One task at one seed: the unit that is run, recorded and resumed."""

    task: Task
    seed: int

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.task.suite, self.task.id, self.seed)

    @property
    def label(self) -> str:
        return f"{self.task.suite}/{self.task.id}#{self.seed}"


def select(tasks: Sequence[Task], patterns: str | None) -> list[Task]:
    """Tasks whose id (or suite/id) matches any comma-separated glob; all without patterns."""
    if not patterns:
        return list(tasks)
    pats = [p.strip() for p in patterns.split(",") if p.strip()]
    return [t for t in tasks if any(fnmatch.fnmatchcase(t.id, p) or fnmatch.fnmatchcase(t.key, p)
                                    for p in pats)]


def parse_seeds(values: Sequence[str] | None, *, trials: int | None = None) -> list[int]:
    """`--seeds 0 1 2`, `--seeds 0,1,2` or `--seeds 0-4`; `--trials N`: seeds 0..N-1;
    default: seed 0."""
    if trials is not None:
        if values:
            raise ConfigError("give --seeds or --trials, not both (--trials N runs seeds 0..N-1)")
        if trials < 1:
            raise ConfigError("--trials must be at least 1")
        return list(range(trials))
    if not values:
        return [0]
    seeds: list[int] = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if not part:
                continue
            try:
                if "-" in part[1:]:
                    lo, hi = part.split("-", 1) if not part.startswith("-") else part.rsplit("-", 1)
                    seeds.extend(range(int(lo), int(hi) + 1))
                else:
                    seeds.append(int(part))
            except ValueError:
                raise ConfigError(f"--seeds: {part!r} is not a seed (use e.g. 0 1 2, 0,1,2 or 0-4)") from None
    return list(dict.fromkeys(seeds))


def work_items(tasks: Sequence[Task], seeds: Sequence[int]) -> list[WorkItem]:
    """Seed-major order: every task once before any task twice, so a partial run
    still covers the suite."""
    return [WorkItem(t, s) for s in seeds for t in tasks]
