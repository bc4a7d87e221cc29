"""Where tasks run: on this machine (`local`: one worker in this process, local.py, or N
worker processes, processes.py) or on a Ray cluster (`ray`, one Ray task per task × seed:
ray_backend.py). All hand each finished TaskResult to a
callback as soon as it ends, which appends it to the results file."""

from __future__ import annotations

from collections.abc import Callable

from ..results import TaskResult

OnResult = Callable[[TaskResult], None]

__all__ = ["OnResult"]
