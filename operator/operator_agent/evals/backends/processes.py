"""N workers in N processes, each with its own browser (and practice sites or MiniWoB server),
taking tasks one at a time from this process. In one process the workers' Python (observing,
gating, tracing, the sites' servers) shares one interpreter lock; in their own processes they
use every core.

A worker is `python -m operator_agent.evals.backends.processes` with this process's import
path (so task scripts named `module:function` resolve as here), not a multiprocessing child:
that would import the caller's main script again, which a script without an
`if __name__ == "__main__":` guard cannot survive. It speaks lines on its own stdout (what it
prints goes to stderr): "ready", then one "result" per task it is given, or "failed".

Results come back here as they finish, so the progress view and the results file stay here.
A worker that dies (killed, out of memory) costs only the task it held: that task gets a
result saying so, and the other workers take the rest.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import pickle
import sys
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, BinaryIO

from ...protocols import ConfigError
from ..episode import run_item
from ..results import TaskResult, result_for
from ..suites import WorkItem
from ..worker import RunSettings, Worker
from . import OnResult

_LINE_LIMIT = 64 * 1024 * 1024  # a result line carries a task's message and checks


def _encode(kind: str, data: Any = None) -> bytes:
    return base64.b64encode(pickle.dumps((kind, data))) + b"\n"


def _decode(line: bytes) -> tuple[str, Any]:
    # Only ever between this process and the workers it started (their own pipes).
    kind, data = pickle.loads(base64.b64decode(line))
    return str(kind), data


def _lost(item: WorkItem, name: str, settings: RunSettings, code: int | None) -> TaskResult:
    return result_for(item.task, item.seed, settings.planner.label, worker=name,
                      started=datetime.now(UTC).isoformat(timespec="seconds"),
                      error=f"the worker process {name} died while running it (exit code {code})")


async def run_processes(items: Sequence[WorkItem], settings: RunSettings, *, workers: int,
                        on_result: OnResult) -> None:
    todo = deque(items)
    reported = 0
    failures: list[str] = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}

    async def drive(name: str) -> None:
        nonlocal reported
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", __name__, name, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, env=env, limit=_LINE_LIMIT)
        assert proc.stdin is not None and proc.stdout is not None
        holding: WorkItem | None = None
        try:
            proc.stdin.write(_encode("settings", settings))
            while line := await proc.stdout.readline():
                kind, data = _decode(line)
                if kind == "result":
                    holding = None
                    on_result(TaskResult.model_validate_json(data))
                    reported += 1
                elif kind == "failed":
                    failures.append(data)
                if kind in ("ready", "result"):
                    holding = todo.popleft() if todo else None
                    proc.stdin.write(_encode("item", holding) if holding else _encode("stop"))
                    await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # it died: said below
        except BaseException:  # stopped (Ctrl+C) or broken here: the worker goes too
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            raise
        code = await proc.wait()
        if holding is not None:
            on_result(_lost(holding, name, settings, code))
            reported += 1

    n = max(1, min(workers, len(items)))
    tasks = [asyncio.create_task(drive(f"w{i + 1}")) for i in range(n)]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    if failures:
        raise ConfigError(f"a worker process stopped: {failures[0]}")
    if reported < len(items):  # every worker died: what was not run is not in the results file
        raise ConfigError(f"{len(items) - reported} of {len(items)} tasks were not run: every worker process "
                          "died; run the same command with --resume to run them")


# --- the worker process ---------------------------------------------------------------------


def _serve(name: str, inbox: BinaryIO, outbox: BinaryIO) -> None:
    def send(kind: str, data: Any = None) -> None:
        outbox.write(_encode(kind, data))
        outbox.flush()

    async def work(settings: RunSettings) -> None:
        worker = Worker(settings, name)
        try:
            send("ready")
            while True:
                # Read off the loop: the next task's context is being made meanwhile.
                line = await asyncio.to_thread(inbox.readline)
                if not line:  # the parent is gone
                    return
                kind, item = _decode(line)
                if kind != "item":
                    return
                result = await run_item(worker, item)
                send("result", result.model_dump_json())
        finally:
            await worker.close()

    _, settings = _decode(inbox.readline())
    try:
        asyncio.run(work(settings))
    except KeyboardInterrupt:
        pass  # the person stopped the run: the parent says so
    except Exception as exc:  # e.g. no browser: the parent raises it, with its words
        send("failed", f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    # The lines to the parent go on the real stdout; anything printed goes to stderr.
    _outbox = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.argv[1] if len(sys.argv) > 1 else "w", sys.stdin.buffer, _outbox)
