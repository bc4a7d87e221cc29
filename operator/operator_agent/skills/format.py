"""The skill file: what a person taught the agent, as readable, editable YAML.

A skill has typed parameters (with examples), and steps. Each step says what it
does (`intent`), what to act on (`target`: several descriptions of one element,
most reliable first), optionally how to choose among similar items (`choose`),
and what the page should show afterwards (`expect`), so a replay knows whether
it is still on track. Empty fields are left out of the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from ..package_data import package_dir
from ..permissions.paths import data_dir
from ..protocols import ConfigError

SKILLS_ENV = "OPERATOR_SKILLS_DIR"
FORMAT_VERSION = 1

ParamType = Literal["text", "secret", "money", "number", "date", "choice"]
StepAction = Literal["click", "type", "select", "check", "press", "scroll", "navigate", "switch_tab",
                     "close_tab"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Param(_Model):
    """A value the skill is run with. Secrets have no example, only a default placeholder."""

    type: ParamType = "text"
    description: str = ""
    example: str | None = None
    default: str | None = None  # used when no value is given
    options: list[str] | None = None  # a choice's options as recorded


class Position(_Model):
    x: float
    y: float
    width: float = 0
    height: float = 0


class Target(_Model):
    """Ways to find one element again. Text fields may hold {param} slots."""

    role: str = ""
    name: str = ""  # accessible name
    name_like: str = ""  # the name with its varying parts as * ("Pay *")
    match: Literal["exact", "contains"] = "exact"  # contains: a filled {param} anywhere in the name
    label: str = ""
    text: str = ""
    placeholder: str = ""
    testid: str = ""
    id: str = ""
    field: str = ""  # the form field's name attribute
    tag: str = ""
    type: str = ""
    href: str = ""  # URL path of a link
    css: str = ""
    classes: list[str] = Field(default_factory=list)
    context: str = ""  # the nearest heading or labelled region around it
    item: str = ""  # the repeated item it sits in (e.g. article.card), when one of many
    frame: str = ""  # URL path pattern of its iframe; "" for the page itself
    frame_title: str = ""
    position: Position | None = None  # in the viewport when recorded (CSS pixels)
    image: str = ""  # a crop of it as recorded, relative to the skill file's folder (not read on replay)


class Choice(_Model):
    """How to choose among similar items (results, seats) when the exact one may differ."""

    pick: Literal["first", "cheapest", "nth"] = "first"
    nth: int = 0
    like: str = ""  # their names look like this (* for what varies)
    words: str = ""  # every word of this (a template) is in the item's name
    max_price: str = ""  # the item's price is at most this (a template)
    available: bool = True  # skip items that say they are out of stock, sold out or taken
    group: int = 0  # which group of such items on the page (0: the first seat map)


class Expect(_Model):
    """What the page shows after the step when all is well."""

    url: str = ""  # path pattern, * for ids
    text: str = ""  # text that should be on the page


class Step(_Model):
    id: int
    intent: str
    action: StepAction
    target: Target | None = None
    text: str | None = None  # type: a template
    submit: bool = False  # type: press Enter afterwards
    option: str | None = None  # select: a template
    checked: bool | None = None  # check: the state wanted
    keys: str | None = None  # press
    url: str | None = None  # navigate: a path on the skill's site, or a full URL
    direction: Literal["up", "down", "left", "right"] = "down"
    pages: float = 1.0
    tab: int | None = None
    optional: bool = False  # skipped when its element is not there (banners, pop-ups)
    repeat: bool = False  # done again until the next step's element shows ("Next month")
    choose: Choice | None = None
    expect: Expect | None = None


class Skill(_Model):
    name: str
    description: str = ""
    site: str = ""  # origin the skill was recorded on
    start_url: str = ""
    parameters: dict[str, Param] = Field(default_factory=dict)
    steps: list[Step] = Field(default_factory=list)
    recording: str = ""
    learned: str = ""  # when (ISO date)
    version: int = FORMAT_VERSION

    def required(self) -> list[str]:
        return [n for n, p in self.parameters.items() if p.default is None and p.example is None]

    def next_target(self, k: int) -> Step | None:
        """The first step after step index k that acts on an element and is not optional:
        what must show on the page for the skill to go on."""
        return next((s for s in self.steps[k + 1:] if not s.optional and s.target is not None), None)


# --- files ---------------------------------------------------------------------


def skills_dir() -> Path:
    """Where taught skills go: $OPERATOR_SKILLS_DIR, else skills/ in the user's data folder
    (~/.local/share/operator-agent/skills on Linux)."""
    env = os.environ.get(SKILLS_ENV)
    return Path(env).expanduser() if env else data_dir() / "skills"


def shipped_dir() -> Path:
    """The skills that come with the agent (package data, operator_agent/skills/shipped/):
    the defaults a taught skill of the same name overrides."""
    return package_dir(__package__, "shipped")


_HEADER = """\
# A skill taught by demonstration (operator learn). Edit freely: it is read again on
# every run. Steps find their element by `target` (most reliable fields first), check
# `expect` afterwards; {name} in a text is a parameter. Run: operator skill run {skill}
"""


def _clean(value: Any) -> Any:
    # Leave empty and default values out, so the file shows only what matters.
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def dump_skill(skill: Skill) -> str:
    data = _clean(skill.model_dump(mode="json", exclude_defaults=True))
    data = {"name": skill.name, **{k: v for k, v in data.items() if k != "name"}}
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
    return _HEADER.replace("{skill}", skill.name) + body


def save_skill(skill: Skill, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(dump_skill(skill), encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a file
    return path


def parse_skill(text: str, where: str = "skill") -> Skill:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{where} is not a skill file (expected a mapping with name and steps)")
    try:
        return Skill.model_validate(data)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise ConfigError(f"{where} is not a valid skill: {' '.join(first[:3])}") from exc


def load_skill(path: Path) -> Skill:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read skill {path}: {exc.strerror}") from exc
    return parse_skill(text, str(path))
