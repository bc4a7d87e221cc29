"""Reading a person's answer without holding the process open.

asyncio.to_thread reads in the default executor, whose threads the interpreter joins at
exit: a run that ends (Ctrl+C, a cap, an error) while a question is waiting would then
stay alive until someone presses Enter. A daemon thread does not hold the exit.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


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
