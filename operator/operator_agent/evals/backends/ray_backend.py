"""The same tasks on a Ray cluster: one Ray task per task × seed, each starting its own
browser (and practice sites or MiniWoB server), results streamed back as they finish.

`address="local"` starts a private Ray instance on 127.0.0.1 for this run and stops it
afterwards; any other address (`HOST:PORT`, `ray://HOST:10001`, `auto`) joins a running
cluster. Each Ray task writes its trace into a temporary folder and sends the folder
back zipped, so reports work whichever node ran the task.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ...protocols import ConfigError
from ..episode import run_item
from ..results import TaskResult, result_for
from ..suites import WorkItem
from ..worker import RunSettings, Worker
from . import OnResult

LOCAL = "local"


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--backend ray needs Ray: pip install 'operator-agent[distributed]'") from None
    return ray


def _zip(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(folder).as_posix())
    return buf.getvalue()


def run_remote_item(item: WorkItem, settings: RunSettings) -> tuple[str, bytes, str]:
    """Body of one Ray task: (result JSON, zipped run folder, run folder name)."""
    with tempfile.TemporaryDirectory(prefix="operator-eval-") as tmp:
        local = replace(settings, runs_dir=Path(tmp))

        async def one() -> TaskResult:
            worker = Worker(local, f"ray:{socket.gethostname()}:{os.getpid()}")
            try:
                return await run_item(worker, item)
            finally:
                await worker.close()

        result = asyncio.run(one())
        folder = Path(result.run_dir) if result.run_dir else None
        if folder is None or not folder.is_dir():
            return result.model_dump_json(), b"", ""
        return result.model_dump_json(), _zip(folder), folder.name


def _unpack(payload: tuple[str, bytes, str], runs_dir: Path) -> TaskResult:
    text, blob, name = payload
    result = TaskResult.model_validate_json(text)
    if blob and name:
        target = runs_dir / name
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            z.extractall(target)
        result.run_dir = str(target)
    return result


def _failed(item: WorkItem, settings: RunSettings, exc: BaseException) -> TaskResult:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return result_for(item.task, item.seed, settings.planner.label, worker="ray",
                      error=f"the Ray task failed: {type(exc).__name__}: {first}")


def connect(address: str, *, num_cpus: int | None = None) -> bool:
    """Join (or, for "local", start) a cluster; True when this call started Ray."""
    ray = _ray()
    if ray.is_initialized():
        return False
    try:
        if address == LOCAL:
            # A private instance on loopback only: nothing listens beyond this machine.
            ray.init(address="local", include_dashboard=False, num_cpus=num_cpus,
                     _node_ip_address="127.0.0.1", log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"cannot reach a Ray cluster at {address}: {str(exc).splitlines()[0]} "
                          "(start one with `ray start --head --node-ip-address=127.0.0.1`, or use "
                          "--address local)") from None
    return True


def run_ray(items: Sequence[WorkItem], settings: RunSettings, *, address: str, max_in_flight: int | None,
            on_result: OnResult) -> None:
    ray = _ray()
    started = connect(address)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(run_remote_item)
        limit = max_in_flight or max(1, int(ray.cluster_resources().get("CPU", 1)))
        queue: Iterator[WorkItem] = iter(items)
        pending: dict[Any, WorkItem] = {}

        def submit() -> None:
            for item in queue:
                pending[remote.remote(item, settings)] = item
                if len(pending) >= limit:
                    return

        submit()
        while pending:
            # As tasks finish, not in submission order: each result is written at once.
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                item = pending.pop(ref)
                try:
                    result = _unpack(ray.get(ref), settings.runs_dir)
                except Exception as exc:  # the task's process died, or its result was lost
                    result = _failed(item, settings, exc)
                on_result(result)
            submit()
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()
