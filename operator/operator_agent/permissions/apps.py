"""Which programs the agent may start on the desktop (open_app).

Starting a program is consequential (it can do anything its user can), so only the
programs the person listed ([desktop] allow_apps, --allow-app) start without asking,
those in [desktop] deny_apps never, and any other one is asked about (refused in a run
nobody watches). The name is first resolved to what would really run (executors/launch.py,
the same resolution the executor uses), and the lists are matched against that: its
command, the command its path really is, its desktop entry ID, or its full path; never
against the name the model wrote or anything on the screen.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..executors.launch import LaunchError, Program, resolve
from ..types import OpenApp
from .policy import Policy


@dataclass(frozen=True)
class LaunchCheck:
    decision: Literal["allow", "ask", "deny"]
    reason: str
    program: Program | None = None  # what would run, when the name resolved


def listed(program: Program, names: Sequence[str]) -> str | None:
    """The first policy entry that names `program`, or None."""
    for name in names:
        if os.path.isabs(name):
            if name in program.paths():
                return name
        elif name.casefold() in program.names():
            return name
    return None


def check_launch(action: OpenApp, policy: Policy) -> LaunchCheck:
    """deny: it cannot be started (unknown, a refused file) or the policy denies it; allow:
    the policy allows it; ask: anything else."""
    try:
        program = resolve(action.app, action.file)
    except LaunchError as exc:
        return LaunchCheck("deny", str(exc))
    denied = listed(program, policy.deny_apps)
    if denied is not None:
        return LaunchCheck("deny", f"starting {program.describe()} is denied by the policy ([desktop] "
                                   f"deny_apps: {denied})", program)
    allowed = listed(program, policy.allow_apps)
    if allowed is not None:
        return LaunchCheck("allow", f"{program.describe()} may be started: the policy allows it ([desktop] "
                                    f"allow_apps: {allowed})", program)
    return LaunchCheck("ask", f"{program.describe()} is not among the programs the policy lets the agent "
                              "start ([desktop] allow_apps)", program)


def opening(program: Program) -> str:
    """What starting it does, in a person's words."""
    what = f"Start the program {program.describe()}"
    if program.file is None:
        return what
    return what + f" with the file {program.file}" + (" (a new file)" if program.new_file else "")
