"""N workers in this process, each with its own browser and practice sites, taking
tasks from one queue. Browsers do the heavy work in their own processes, so the
loop's Python is not the bottleneck at a few workers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ..episode import run_item
from ..suites import WorkItem
from ..worker import RunSettings, Worker
from . import OnResult


async def run_local(items: Sequence[WorkItem], settings: RunSettings, *, workers: int,
                    on_result: OnResult) -> None:
    queue: asyncio.Queue[WorkItem] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def work(name: str) -> None:
        worker = Worker(settings, name)
        try:
            while not queue.empty():
                item = queue.get_nowait()
                on_result(await run_item(worker, item))
        finally:
            await worker.close()

    n = max(1, min(workers, len(items)))
    async with asyncio.TaskGroup() as group:  # a worker's crash stops the others too
        for i in range(n):
            group.create_task(work(f"w{i + 1}"))
