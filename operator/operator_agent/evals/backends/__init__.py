"""Where tasks run: in this process (`local`, N asyncio workers: local.py) or on a Ray cluster
(`ray`, one Ray task per task × seed: ray_backend.py). Both hand each finished TaskResult to a
callback as soon as it ends, which appends it to the results file."""

from __future__ import annotations

from collections.abc import Callable

from ..results import TaskResult

OnResult = Callable[[TaskResult], None]

__all__ = ["OnResult"]
