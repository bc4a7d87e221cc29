"""One worker in this process, with its own browser and practice sites, taking the tasks in
order. (Several workers run in their own processes: processes.py.)"""

from __future__ import annotations

from collections.abc import Sequence

from ..episode import run_item
from ..suites import WorkItem
from ..worker import RunSettings, Worker
from . import OnResult


async def run_local(items: Sequence[WorkItem], settings: RunSettings, *, on_result: OnResult) -> None:
    worker = Worker(settings, "w1")
    try:
        for item in items:
            on_result(await run_item(worker, item))
    finally:
        await worker.close()
