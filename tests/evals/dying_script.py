"""A scripted planner step that kills its own process: a worker process dying mid-task."""

from __future__ import annotations

import os
import signal
from typing import Any


def die(text: str) -> dict[str, Any]:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")
