"""Takeover: the person takes control of the browser or desktop mid-run, acts, and hands back.

Two ways in: the model's hand_over action (a log-in, a CAPTCHA, a two-factor code), or the
person's own key at the terminal (`t` then Enter), served after the agent's current action,
never in the middle of one. While the person has control the loop waits: it neither acts,
observes nor calls the model. Afterwards the old observation is stale (as after a page
change) and the next step looks again. Each hand-over is a HandOverNote on the step.

What the person does meanwhile is theirs, but the browser's network guard and payment wire
stay on: a payment they make is held as one nobody approved and asked of them through the
approver, on the same terminal (its question is answered before the hand-back, see
TerminalLines). Page text never starts a takeover: only the model's action (gated, class
"speaks") or the person's key does.

    Handovers         the loop's side (agent.py keeps a few lines)
    TerminalLines     the terminal's input, shared by the approver, ask_user and the key
    TerminalTakeover  protocols.Takeover for the person at the terminal
"""

from __future__ import annotations

import asyncio
import codecs
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from .permissions.detectors.elements import clean_text
from .types import ActionResult, HandBack, HandOver, HandOverNote, HandOverRequest, TakeoverAsker

if TYPE_CHECKING:
    from .permissions.payment_wire import PaymentWire
    from .protocols import Environment, Takeover

NOBODY_HERE = "no person is at a terminal to hand over to (a non-interactive run)"
HEADLESS = ("the browser is headless, so the person cannot see it; a takeover needs "
            "`operator run --headed` (the person can still answer questions)")
KEY = "t"  # then Enter: the person asks for control
_DESKTOP = "desktop://"


class Handovers:
    """Who asked for control, giving it, and this step's notes (StepRecord.handovers holds the
    same list). `on_stop`: the person ended the run while they had control."""

    def __init__(self, *, on_stop: Callable[[], None]) -> None:
        self.on_stop = on_stop
        self.wanted: str | None = None  # the person asked: handed over after the current action
        self.notes: list[HandOverNote] = []
        self._waiting: asyncio.Future[HandBack] | None = None
        self._ended = False

    def request(self, reason: str = "the person asked for control") -> None:
        if self._waiting is None:  # asked again while they have it: nothing more to hand
            self.wanted = self.wanted or reason

    def end(self) -> bool:
        """Stop (Ctrl+C) while the person has control: the hand-over ends as "stop"."""
        if self._waiting is None or self._waiting.done():
            return False
        self._ended = True
        self._waiting.cancel()
        return True

    async def give(self, takeover: Takeover | None, action: HandOver, asked_by: TakeoverAsker,
                   env: Environment, *, last_url: str, payments: PaymentWire | None) -> ActionResult:
        """Control to the person until they hand back; the result tells the model what happened."""
        if asked_by == "person":
            self.wanted = None
        if takeover is None:
            return _nobody(NOBODY_HERE)
        before = await where(env) or last_url
        request = HandOverRequest(reason=action.reason, asked_by=asked_by, url=before,
                                  environment="desktop" if before.startswith(_DESKTOP) else "browser")
        if payments is not None:
            payments.expire()  # what the person pays is asked about, never taken as approved before
        started = time.monotonic()
        back = await self._wait(takeover, request)
        seconds = round(time.monotonic() - started, 3)
        self.wanted = None  # the key pressed while they had control asks for nothing more
        outcome = back.outcome
        if outcome == "unavailable":
            return _nobody(back.note or "the person cannot take over")
        await _resume(env)
        after = await where(env) or before
        self.notes.append(HandOverNote(reason=action.reason, asked_by=asked_by, outcome=outcome,
                                       note=back.note, seconds=seconds, url_before=before, url_after=after))
        if outcome == "stop":
            self.on_stop()
        return ActionResult(ok=True, detail=_told(outcome, seconds, after), extracted=back.note or None,
                            page_changed=True)  # the old observation's indexes are stale

    async def _wait(self, takeover: Takeover, request: HandOverRequest) -> HandBack:
        self._ended = False
        self._waiting = asyncio.ensure_future(takeover.take_over(request))
        try:
            return await self._waiting
        except asyncio.CancelledError:
            if not self._ended:  # the run itself is cancelled
                raise
            return HandBack(outcome="stop", note="stopped by the person")
        finally:
            self._waiting = None


def _nobody(why: str) -> ActionResult:
    return ActionResult(ok=False, error=f"nobody can take over in this run: {why}; find another way, "
                                        "or finish with done(success=false) saying what the person "
                                        "must do themselves")


def _told(outcome: str, seconds: float, after: str) -> str:
    if outcome == "gave_up":
        return f"the person handed control back after {seconds:.0f} s without doing it (now at {after})"
    if outcome == "stop":
        return "the person took control and ended the run"
    return (f"the person had control for {seconds:.0f} s and handed it back; the page may have changed "
            f"(now at {after}): look again before acting")


async def where(env: Environment) -> str:
    """Where the environment is now (a desktop: its focused window's desktop:// URL), without a
    whole observation; "" when it cannot say."""
    at = getattr(env, "where", None)
    if at is None:
        return ""
    try:
        return str(await at())
    except Exception:  # a tab or window gone: the next observation says where things are
        return ""


async def _resume(env: Environment) -> None:
    """Let what the person started settle (a browser also follows them to the tab they left in front)."""
    resume = getattr(env, "resume", None) or getattr(env, "settle", None)
    if resume is not None:
        await resume()


# --- the terminal ---------------------------------------------------------------------------


class TerminalLines:
    """The terminal's input during a run, shared: each line goes to whoever waits for one, the
    latest first (a question put while the person has control is answered before they hand
    back); a line nobody waits for is a command for `on_command` (the takeover key). A line
    typed before a question is shown never answers it.

    One reader, the event loop's, on the file descriptor: a thread blocked in
    sys.stdin.readline() could not be taken back and would swallow the next answer.
    TerminalApprover and TerminalUser are given this object as their stdin and ask it with
    next_line() (stdin_line.read_from), so their reader waits before their prompt can be
    answered; readline() serves readers that read from a thread.
    """

    def __init__(self, fd: int | None = None, *, on_command: Callable[[str], None] | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.on_command = on_command
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""
        self._waiters: list[Callable[[str], None]] = []
        self._lock = threading.Lock()  # readline() registers from another thread
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Future[None] | None = None

    def start(self) -> TerminalLines:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.fd, self._readable)
        return self

    @classmethod
    def for_stdin(cls) -> TerminalLines | None:
        """Started on stdin when a person is at it (a terminal), else None; None too where the
        event loop cannot watch it (Windows): the approver then reads stdin as before."""
        try:
            return cls().start() if sys.stdin.isatty() else None
        except (NotImplementedError, ValueError, OSError):
            return None

    def close(self) -> None:
        """Stop reading; whoever still waits gets "" (the end of input)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            waiters, self._waiters = self._waiters, []
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self.fd)
        for waiter in waiters:
            waiter("")

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiters)

    async def until_waiting(self, count: int = 1) -> None:
        """Until `count` readers wait for a line (for a front end, or a test, typing as the person)."""
        loop = asyncio.get_running_loop()
        while self.waiting < count:
            self._wake = loop.create_future()
            await self._wake

    # --- readers ---

    def isatty(self) -> bool:
        return True  # it stands for the terminal

    def readline(self) -> str:
        """The next line with its newline, "" at the end of input. Blocks: call it from another
        thread (stdin_line.read_line does), never on the event loop."""
        box: queue.SimpleQueue[str] = queue.SimpleQueue()
        if not self._add(box.put):
            return ""
        return box.get()

    async def next_line(self) -> str:
        """The next line without its newline; "" at the end of input."""
        line: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def deliver(text: str) -> None:  # on the loop: _readable and close() run there
            if not line.done():
                line.set_result(text)

        if not self._add(deliver):
            return ""
        try:
            return (await line).rstrip("\n")
        finally:
            with self._lock:
                if deliver in self._waiters:
                    self._waiters.remove(deliver)

    def _add(self, waiter: Callable[[str], None]) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._waiters.append(waiter)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._poke)
        return True

    def _poke(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    # --- the terminal side ---

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        *lines, self._partial = (self._partial + self._decoder.decode(data)).split("\n")
        for line in lines:
            self._dispatch(line.rstrip("\r"))

    def _dispatch(self, line: str) -> None:
        with self._lock:
            waiter = self._waiters.pop() if self._waiters else None
        if waiter is not None:
            waiter(line + "\n")  # as a file's readline gives it
        elif self.on_command is not None:
            self.on_command(line.strip())


class TerminalTakeover:
    """protocols.Takeover for the person at the terminal, and their key: `t` then Enter asks
    for control (handed over after the agent's current action). Only where they can see what
    they take: a headed browser or a desktop; with a headless browser a takeover is
    "unavailable" and the key says why."""

    def __init__(self, lines: TerminalLines, *, visible: bool, console: Console | None = None) -> None:
        self.lines = lines
        self.visible = visible
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.ask_for_control: Callable[[], None] | None = None  # Agent.take_over
        lines.on_command = self.command

    def hint(self) -> str:
        if self.visible:
            return (f"Press {KEY} then Enter to take control yourself (after the agent's current action); "
                    "Ctrl+C to stop.")
        return f"Taking control yourself ({KEY} then Enter) needs --headed: {HEADLESS}."

    def command(self, line: str) -> None:
        """A line typed while nobody asked anything."""
        if not line:
            return
        if line.lower() != KEY:
            self.console.print(f"[dim]({KEY} then Enter: take control; Ctrl+C: stop)[/]")
        elif not self.visible:
            self.console.print(f"[yellow]Cannot hand you control: {escape(HEADLESS)}.[/]")
        elif self.ask_for_control is not None:
            self.ask_for_control()
            self.console.print("[yellow]You will get control after the agent's current action…[/]")

    async def take_over(self, request: HandOverRequest) -> HandBack:
        if not self.visible:
            return HandBack(outcome="unavailable", note=HEADLESS)
        thing = "the desktop" if request.environment == "desktop" else "the browser"
        if request.asked_by == "model":  # the model's words: plain text, never markup
            self.console.print(f"\n[bold]The agent asks you to take over:[/] "
                               f"{escape(clean_text(request.reason, 300))}")
        self.console.print(f"[bold]You have {thing}.[/] Do what you need, then press Enter here "
                           "to hand back.")
        self.console.print("[dim]Type a note for the agent first if you like; 'skip' if you did not do it; "
                           "'stop' ends the run. Questions asked meanwhile (a payment, a page's question) "
                           "show here: answer them first.[/]")
        back = hand_back(await self.lines.next_line())
        self.console.print("[dim]The agent has control again.[/]" if back.outcome != "stop"
                           else "[yellow]Stopping the run.[/]")
        return back


def hand_back(line: str) -> HandBack:
    """What the person typed to hand back: Enter, a note, 'skip' or 'stop'."""
    text = line.strip()
    word = text.lower()
    if word == "stop":
        return HandBack(outcome="stop")
    if word == "skip":
        return HandBack(outcome="gave_up")
    return HandBack(note="" if word == KEY else text)  # the key pressed again is no note
