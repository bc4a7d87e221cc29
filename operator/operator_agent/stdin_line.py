"""Reading a person's answer without holding the process open.

asyncio.to_thread reads in the default executor, whose threads the interpreter joins at
exit: a run that ends (Ctrl+C, a cap, an error) while a question is waiting would then
stay alive until someone presses Enter. A daemon thread does not hold the exit.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Protocol


class LineReader(Protocol):
    """Where answers are read from: sys.stdin, or a run's shared terminal input (takeover.py)."""

    def readline(self) -> str: ...


async def read_from(source: LineReader) -> str:
    """The next line from `source`. A run's shared terminal (takeover.TerminalLines) is asked
    directly: its reader is in place before this yields to the event loop, so an answer typed
    right after the prompt cannot be taken for a command. A file is read in a daemon thread."""
    direct = getattr(source, "next_line", None)
    if direct is not None:
        return str(await direct())
    return await read_line(source.readline)


async def read_line(read: Callable[[], str]) -> str:
    """`read()` (e.g. sys.stdin.readline) in a daemon thread; cancelling the await
    abandons the read."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[str] = loop.create_future()

    def settle(value: str | None, error: BaseException | None) -> None:
        if done.done():
            return  # cancelled meanwhile
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(value or "")

    def work() -> None:
        try:
            value = read()
        except BaseException as exc:  # handed to the awaiting task, not lost in the thread
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, value, None)

    threading.Thread(target=work, name="operator-stdin", daemon=True).start()
    return await done
