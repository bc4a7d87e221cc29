"""The person behind an MCP server, asked on their own terminal.

Over stdio the server's stdin and stdout belong to the MCP client, and the client (a
model, often) must never be the one that approves a purchase. So questions go to a
terminal device: the controlling terminal (/dev/tty) of whoever started the server, or
the one named with `--ask-on`. With no terminal nobody can answer, and what needs an
approval is denied (the policy's "non-interactive" rules apply).

Input typed before a question is shown is thrown away, so a stray "y" can never answer
a question the person has not read; no answer within the timeout is a no.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import termios
from typing import TYPE_CHECKING

from ..permissions.detectors.elements import clean_text

if TYPE_CHECKING:
    from ..types import Action, Verdict

DEFAULT_DEVICE = "/dev/tty"
NOBODY = "none"


class PersonTerminal:
    """Questions to the person on a terminal device, one at a time (several runs may
    ask at once over HTTP)."""

    def __init__(self, fd: int, device: str, *, timeout: float) -> None:
        self.fd = fd
        self.device = device
        self.timeout = timeout
        self._lock = asyncio.Lock()

    @classmethod
    def open(cls, device: str = DEFAULT_DEVICE, *, timeout: float = 300.0) -> PersonTerminal | None:
        """The terminal at `device`, or None when there is none (no controlling terminal,
        `none`, or a device that does not open as a terminal)."""
        if device == NOBODY:
            return None
        try:
            # O_NOCTTY: a server without a controlling terminal must not take this one.
            fd = os.open(device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return None
        if not os.isatty(fd):
            os.close(fd)
            return None
        return cls(fd, device, timeout=timeout)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def approver(self, task: str) -> TaskApprover:
        """The approver of one run: its questions say which task asks."""
        return TaskApprover(self, task)

    def user(self, task: str) -> TaskUser:
        """The agent's ask_user questions for one run."""
        return TaskUser(self, task)

    async def question(self, lines: list[str], prompt: str) -> str | None:
        """Show `lines` and `prompt`, and read one line; None when nobody answers in time."""
        async with self._lock:
            with contextlib.suppress(termios.error):
                termios.tcflush(self.fd, termios.TCIFLUSH)  # typed ahead: not an answer to this
            try:
                await self._write("\n" + "\n".join(lines) + "\n" + prompt)
                answer = await self._read_line()
                if answer is None:
                    await self._write(f"\n(no answer in {self.timeout:g}s: taken as no)\n")
            except (OSError, TimeoutError):  # a terminal that takes no output: nobody is reading it
                return None
            return answer

    async def _write(self, text: str) -> None:
        data = text.encode("utf-8", errors="replace")
        loop = asyncio.get_running_loop()
        while data:
            try:
                data = data[os.write(self.fd, data):]
            except BlockingIOError:  # the terminal is not reading yet: wait until it can take more
                ready: asyncio.Future[None] = loop.create_future()
                loop.add_writer(self.fd, _settle, ready)
                try:
                    await asyncio.wait_for(ready, self.timeout)
                finally:
                    loop.remove_writer(self.fd)

    async def _read_line(self) -> str | None:
        loop = asyncio.get_running_loop()
        line: asyncio.Future[str | None] = loop.create_future()
        buffer = bytearray()

        def readable() -> None:
            try:
                chunk = os.read(self.fd, 1024)
            except BlockingIOError:
                return
            except OSError as exc:  # the terminal went away (hung up): nobody answers
                if exc.errno != errno.EINTR and not line.done():
                    line.set_result(None)
                return
            if not chunk:
                if not line.done():
                    line.set_result(None)
                return
            buffer.extend(chunk)
            if b"\n" in buffer and not line.done():
                line.set_result(buffer.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip())

        loop.add_reader(self.fd, readable)
        try:
            return await asyncio.wait_for(line, self.timeout)
        except TimeoutError:
            return None
        finally:
            loop.remove_reader(self.fd)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _task_line(task: str) -> str:
    return f"  (for a task an MCP client gave: {clean_text(task, 160)})"


class TaskApprover:
    """An Approver: the gate's question, as the terminal approver shows it, and y/N."""

    def __init__(self, person: PersonTerminal, task: str) -> None:
        self.person = person
        self.task = task

    async def approve(self, verdict: Verdict, action: Action) -> bool:
        lines = ["--- the agent needs your approval ---", _task_line(self.task)]
        for line in (verdict.summary or verdict.reason).splitlines():
            indent = " " * (len(line) - len(line.lstrip(" ")))
            lines.append(indent + clean_text(line, 300))  # page text cannot draw on the terminal
        answer = await self.person.question(lines, "Allow this? [y/N] ")
        return answer is not None and answer.lower() in ("y", "yes")


class TaskUser:
    """A UserChannel: the agent's question to the person; no answer is None."""

    def __init__(self, person: PersonTerminal, task: str) -> None:
        self.person = person
        self.task = task

    async def ask(self, question: str) -> str | None:
        lines = ["--- the agent asks you ---", _task_line(self.task), clean_text(question, 500)]
        answer = await self.person.question(lines, "> ")
        return answer or None
