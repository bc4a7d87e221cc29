"""Every action the model may choose, by capability: one registry.

Each action type of the Action union (types.py) has one entry here that says
- what the model is told about it: the model's docstring, which is also the description
  its JSON schema carries, so the catalog and the schema cannot drift apart;
- how the permission gate treats it (GateClass below);
- who performs it: the environments whose executors do ("browser", "desktop"), or the
  agent loop itself (done, ask_user, hand_over), or the planner (use_skill, replayed as steps).

An environment declares the actions it performs (`performed_in(name)`), stamps them on
each Observation, and the planner's catalog lists only those plus the loop's and the
planner's own: a model is never offered what the executor in use would refuse.
tests/test_actions.py fails when an action of the union has no entry, no description,
no gate class, or nobody who performs it.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field, create_model

from .types import (
    Action,
    AskUser,
    Back,
    Click,
    ClickAt,
    CloseTab,
    Decision,
    Done,
    Drag,
    HandOver,
    MoveMouse,
    Navigate,
    OpenApp,
    Press,
    Scroll,
    Select,
    SwitchTab,
    Type,
    TypeAt,
    Upload,
    UseSkill,
    Wait,
)

# How the permission gate treats an action:
#   changes    acts on what the page or window holds: checked against the site (or the
#              window), payments and account changes
#   navigates  takes the tab elsewhere: checked on the URL before when it has one, and
#              where it lands afterwards
#   looks      changes nothing on a site (scroll, wait, hover, focus keys): only secrets
#   speaks     talks to the person (ask_user, done, hand_over): a secret placeholder is
#              shown as written, never filled in
#   delegates  runs other actions (use_skill): each replayed step passes the gate itself
#   launches   starts a program on the computer (open_app): allowed only for programs the policy
#              allows ([desktop] allow_apps), else asked; the file it opens is checked too
GateClass = Literal["changes", "navigates", "looks", "speaks", "delegates", "launches"]
GATE_CLASSES: tuple[GateClass, ...] = typing.get_args(GateClass)

Performer = Literal["browser", "desktop", "loop", "planner"]
ENVIRONMENTS: tuple[Performer, ...] = ("browser", "desktop")
_NOT_AN_ENVIRONMENT: frozenset[Performer] = frozenset({"loop", "planner"})

# Keys that only move the focus: pressing them changes nothing on a site. Arrows, Home, End
# and Page keys are not among them: on a focused slider, select, radio group or number
# field they change what the form will send.
MOVING_KEYS = frozenset({"tab", "shift+tab", "escape"})


def action_types() -> tuple[type[BaseModel], ...]:
    """The models of the Action union, in declaration order."""
    union = typing.get_args(Action)[0]  # Action is Annotated[Union[...], Field(...)]
    return typing.get_args(union)


def action_name(model: type[BaseModel]) -> str:
    return typing.cast(str, model.model_fields["action"].default)


def _press(action: BaseModel) -> GateClass:
    keys = typing.cast(Press, action).keys
    return "looks" if all(k.lower() in MOVING_KEYS for k in keys.split()) else "changes"


@dataclass(frozen=True, kw_only=True)
class Capability:
    model: type[BaseModel]
    gate: GateClass
    performed_by: frozenset[Performer]
    # The class of one action when it depends on its fields (a press of focus keys only looks).
    refine: Callable[[BaseModel], GateClass] | None = None

    @property
    def name(self) -> str:
        return action_name(self.model)

    @property
    def description(self) -> str:
        return " ".join((self.model.__doc__ or "").split())


def _entry(model: type[BaseModel], gate: GateClass, *performers: Performer,
           refine: Callable[[BaseModel], GateClass] | None = None) -> Capability:
    return Capability(model=model, gate=gate, performed_by=frozenset(performers), refine=refine)


_BOTH: tuple[Performer, ...] = ("browser", "desktop")

REGISTRY: dict[str, Capability] = {c.name: c for c in (
    _entry(Click, "changes", *_BOTH),
    _entry(Type, "changes", *_BOTH),
    _entry(Select, "changes", *_BOTH),
    _entry(Press, "changes", *_BOTH, refine=_press),
    _entry(Scroll, "looks", *_BOTH),
    # The desktop has no address bar, history or tabs to close: its executor refuses these.
    _entry(Navigate, "navigates", "browser"),
    _entry(Back, "navigates", "browser"),
    _entry(SwitchTab, "navigates", *_BOTH),  # desktop: another window
    _entry(CloseTab, "navigates", "browser"),
    _entry(Upload, "changes", "browser"),  # desktop: the program's own file dialog
    _entry(Wait, "looks", *_BOTH),
    _entry(AskUser, "speaks", "loop"),
    _entry(Done, "speaks", "loop"),
    # The person acts, not the agent: the loop waits for them (takeover.py), in either environment.
    _entry(HandOver, "speaks", "loop"),
    _entry(MoveMouse, "looks", *_BOTH),
    _entry(ClickAt, "changes", *_BOTH),
    _entry(Drag, "changes", *_BOTH),
    _entry(TypeAt, "changes", *_BOTH),
    _entry(OpenApp, "launches", "desktop"),  # a browser has no programs to start
    _entry(UseSkill, "delegates", "planner"),
)}


def capability(action: BaseModel | str) -> Capability:
    """The registry entry of an action (or an action name); KeyError for an unknown one."""
    return REGISTRY[action if isinstance(action, str) else getattr(action, "action", "")]


def gate_class(action: BaseModel) -> GateClass:
    entry = capability(action)
    return entry.refine(action) if entry.refine is not None else entry.gate


def performed_in(environment: Performer) -> frozenset[str]:
    """The names of the actions this environment's executor performs."""
    return frozenset(name for name, c in REGISTRY.items() if environment in c.performed_by)


def offered(actions: Iterable[str] = ()) -> tuple[type[BaseModel], ...]:
    """The action models to show a model in an environment that performs `actions` (empty:
    every action): those, and the ones the loop and the planner carry out themselves."""
    wanted = set(actions)
    return tuple(m for m in action_types() if not wanted or action_name(m) in wanted
                 or REGISTRY[action_name(m)].performed_by & _NOT_AN_ENVIRONMENT)


def decision_model(actions: Iterable[str] = ()) -> type[Decision]:
    """The Decision an environment that performs `actions` (empty: every action) accepts:
    its schema, sent to the model, holds only the actions offered there, so a strict server
    cannot even produce one the executor would refuse."""
    return _decision_model(frozenset(actions))


@cache  # one class per set of actions: its strict schema is then built once too
def _decision_model(actions: frozenset[str]) -> type[Decision]:
    models = offered(actions)
    if len(models) == len(action_types()):
        return Decision
    union = Annotated[Union[models], Field(discriminator="action")]  # noqa: UP007 (a runtime tuple)
    field = Decision.model_fields["actions"]
    return create_model("Decision", __base__=Decision, __doc__=Decision.__doc__,
                        actions=(list[union], Field(min_length=1, max_length=8,  # type: ignore[valid-type]
                                                    description=field.description)))
