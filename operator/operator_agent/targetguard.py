"""CDP hooks on every target of one browser context (pages, popups, cross-site
frames, workers), in place before the target runs. Used by netguard.NetworkGuard.

Why not Playwright's CDP sessions: Playwright reports a popup only after its first
navigation went out, so a session made from the Page comes too late for the
popup's first redirect hops, and workers get no session at all. Chromium holds a
new target for each auto-attached session that asked it to wait, until that session
sends Runtime.runIfWaitingForDebugger or detaches; for a worker we found this true
of flat sessions only, and Playwright's API cannot address the flat children of a
session it made. So from a browser-level Playwright session we attach, non-flat, to
the browser target, and under that session ask for flat auto-attach: every target
below is a flat session we address through Target.sendMessageToTarget, held until
we resume it. Each target of our context is hooked before we resume it:
- a page or frame target gets Fetch at the request stage (every hop of every
  request it and its dedicated workers make is paused for the guard) and
  auto-attach for its own children (workers, cross-site frames);
- a worker gets a script run in it before its own, and auto-attach for the
  workers it starts.
Two kinds of target are let go on the first resume of any client, Playwright's
included, so our hooks on them can come late: shared workers, and a popup opened
by script with an opener (the renderer holds it, not the browser). For popups,
navigations are therefore also paused at the browser level (Fetch on the browser
target, document requests only, which sees every hop of every navigation from its
first); one in a target of ours waits until that target is hooked, then is checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import BrowserContext, CDPSession
from playwright.async_api import Error as PlaywrightError

Reply = Callable[[str, dict[str, Any]], Awaitable[Any]]  # a command about a paused request
OnPaused = Callable[[Reply, dict[str, Any]], Awaitable[None]]  # decides a Fetch.requestPaused
WorkerScript = Callable[[], str | None]  # what to run in a new worker first (None: nothing)

_REQUEST_STAGE = {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]}
_DOCUMENTS = {"patterns": [{"urlPattern": "*", "resourceType": "Document", "requestStage": "Request"}]}
_AUTO_ATTACH = {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True}
_FRAMES = ("page", "iframe")
_WORKERS = ("worker", "shared_worker", "service_worker")
# Chromium answers at once; a command left unanswered this long fails, and the
# target it was for stays held (never runs unguarded) instead of hanging install().
_ANSWER_TIMEOUT = 30.0


class TargetError(Exception):
    """A command to a target failed (or the target went away before answering)."""


class TargetHooks:
    """Hooks the targets of `context` as they appear; `install()` returns once the
    targets that exist already are hooked."""

    def __init__(self, context: BrowserContext, on_paused: OnPaused, worker_script: WorkerScript) -> None:
        self.context = context
        self.on_paused = on_paused
        self.worker_script = worker_script
        self._cdp: CDPSession | None = None
        self._root = ""  # our non-flat session to the browser target; its flat descendants are hooked
        self._context_id = ""
        self._ids = itertools.count(1)
        self._answers: dict[int, tuple[str, asyncio.Future[dict[str, Any]]]] = {}  # id -> (session, answer)
        self._ours: set[str] = set()  # target ids of this context's pages, frames and workers
        self._theirs: set[str] = set()  # target ids of other contexts' (no lookup for their navigations)
        self._hooks: dict[str, asyncio.Task[bool]] = {}  # target id -> its hook (True: hooked)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    async def install(self) -> None:
        browser = self.context.browser
        if browser is None:
            raise RuntimeError("the network guard needs the context's browser (Chromium) for its CDP hooks")
        self._context_id = await self._own_context_id()
        self._cdp = cdp = await browser.new_browser_cdp_session()
        try:
            me = (await cdp.send("Target.getTargetInfo"))["targetInfo"]["targetId"]
            attached = await cdp.send("Target.attachToTarget", {"targetId": me, "flatten": False})
            self._root = attached["sessionId"]
            cdp.on("Target.receivedMessageFromTarget", self._received)
            cdp.on("Fetch.requestPaused", lambda event: self._spawn(self._navigation(event)))
            await cdp.send("Fetch.enable", _DOCUMENTS)
            # Targets that exist already are reported before this answers; their hooks are awaited.
            await self._command("Target.setAutoAttach", _AUTO_ATTACH)
            while pending := [t for t in self._hooks.values() if not t.done()]:
                await asyncio.wait(pending)
        except BaseException:
            await self.close()
            raise
        self.context.on("close", lambda _context: self._spawn(self.close()))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for _, answer in self._answers.values():
            if not answer.done():
                answer.set_exception(TargetError("closed"))
        self._answers.clear()
        if self._cdp is not None:
            with contextlib.suppress(PlaywrightError):
                await self._cdp.detach()  # ends our sessions: nothing stays held by us

    async def _own_context_id(self) -> str:
        """The CDP id of our context, read off one of its pages (a blank one made for it
        and closed again when the context has none)."""
        pages = self.context.pages
        page = pages[0] if pages else await self.context.new_page()
        try:
            cdp = await self.context.new_cdp_session(page)
            try:
                info = (await cdp.send("Target.getTargetInfo"))["targetInfo"]
            finally:
                with contextlib.suppress(PlaywrightError):
                    await cdp.detach()
        finally:
            if not pages:
                await page.close()
        return str(info["browserContextId"])

    # --- messages -------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _post(self, method: str, params: dict[str, Any], session: str = "") -> int:
        """Send a command to one of our sessions (the root when ""); its id."""
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        assert self._cdp is not None
        await self._cdp.send("Target.sendMessageToTarget",
                             {"sessionId": self._root, "message": json.dumps(message)})
        return number

    async def _command(self, method: str, params: dict[str, Any], session: str = "") -> dict[str, Any]:
        """Send a command to one of our sessions and return its answer."""
        if self._closed:
            raise TargetError("closed")
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        number = next(self._ids)
        self._answers[number] = (session, answer)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        try:
            assert self._cdp is not None
            await self._cdp.send("Target.sendMessageToTarget",
                                 {"sessionId": self._root, "message": json.dumps(message)})
        except PlaywrightError as exc:
            self._answers.pop(number, None)
            raise TargetError(str(exc)) from exc
        try:
            return await asyncio.wait_for(answer, _ANSWER_TIMEOUT)
        except TimeoutError as exc:
            self._answers.pop(number, None)
            raise TargetError(f"{method} was not answered") from exc

    def _reply_on(self, session: str) -> Reply:
        async def reply(method: str, params: dict[str, Any]) -> None:
            await self._post(method, params, session)  # the answer is not waited for

        return reply

    def _received(self, event: dict[str, Any]) -> None:
        if event.get("sessionId") != self._root:
            return
        try:
            message = json.loads(event["message"])
        except (KeyError, ValueError):
            return
        session = message.get("sessionId", "")
        if "id" in message:
            entry = self._answers.pop(message["id"], None)
            if entry is not None and not entry[1].done():
                if "error" in message:
                    entry[1].set_exception(TargetError(str(message["error"])))
                else:
                    entry[1].set_result(message.get("result") or {})
            return
        method, params = message.get("method"), message.get("params") or {}
        if method == "Fetch.requestPaused":
            self._spawn(self.on_paused(self._reply_on(session), params))
        elif method == "Target.attachedToTarget":
            self._attached(params)
        elif method == "Target.detachedFromTarget":
            self._detached(params.get("sessionId", ""), params.get("targetId", ""))

    # --- targets --------------------------------------------------------------------

    def _attached(self, params: dict[str, Any]) -> None:
        info = params.get("targetInfo") or {}
        target, session = info.get("targetId", ""), params.get("sessionId", "")
        waiting = bool(params.get("waitingForDebugger"))
        if info.get("browserContextId") != self._context_id or info.get("type") not in _FRAMES + _WORKERS:
            if info.get("browserContextId") != self._context_id:
                self._theirs.add(target)
            if waiting:  # not ours to guard (another context, the browser's own UI): let it run
                self._spawn(self._post("Runtime.runIfWaitingForDebugger", {}, session))
            return
        self._ours.add(target)
        # Registered before the next message is read: a navigation of this target paused
        # at the browser level finds the hook to wait for.
        self._hooks[target] = self._spawn(self._hook(info["type"], target, session, waiting))

    def _detached(self, session: str, target: str) -> None:
        self._ours.discard(target)
        self._theirs.discard(target)
        self._hooks.pop(target, None)
        for number, (owner, answer) in list(self._answers.items()):
            if owner == session and session:
                self._answers.pop(number, None)
                if not answer.done():
                    answer.set_exception(TargetError("the target went away"))

    async def _hook(self, kind: str, target: str, session: str, waiting: bool) -> bool:
        """Hook one target, then let it run; whether it is hooked. When a step fails we
        do not resume it (where Chromium holds it for us, it never runs unguarded), its
        navigations are failed, and a page is closed rather than left hanging; a target
        that went away needs nothing."""
        hooked = await self._hook_steps(kind, session)
        if not hooked:
            if kind == "page" and not self._closed:
                with contextlib.suppress(PlaywrightError):
                    await self._post("Target.closeTarget", {"targetId": target})
            return False
        if waiting:
            with contextlib.suppress(PlaywrightError):
                await self._post("Runtime.runIfWaitingForDebugger", {}, session)
        return True

    async def _hook_steps(self, kind: str, session: str) -> bool:
        """Set the hooks of one target, in order; whether all were set."""
        try:
            if kind in _WORKERS:
                script = self.worker_script()
                if script is not None:
                    result = await self._command("Runtime.evaluate", {"expression": script, "silent": True},
                                                 session)
                    if "exceptionDetails" in result:
                        return False
            if kind != "worker":  # a dedicated worker's requests pass its frame's Fetch hook
                await self._command("Fetch.enable", _REQUEST_STAGE, session)
            await self._command("Target.setAutoAttach", _AUTO_ATTACH, session)
        except TargetError:
            return False
        return True

    async def _navigation(self, event: dict[str, Any]) -> None:
        """A navigation hop paused at the browser level: checked when its frame is a
        target of ours (after that target's hook is in place), let go otherwise."""
        assert self._cdp is not None
        cdp = self._cdp

        async def reply(method: str, params: dict[str, Any]) -> None:
            await cdp.send(method, params)

        request_id = event["requestId"]
        try:
            frame = event.get("frameId", "")
            if await self._is_ours(frame):
                hook = self._hooks.get(frame)
                if hook is not None and not await asyncio.shield(hook):
                    raise TargetError(f"target {frame} could not be hooked")
                await self.on_paused(reply, event)
                return
        except Exception:  # a bug of ours fails the navigation rather than letting it through
            with contextlib.suppress(PlaywrightError):
                await cdp.send("Fetch.failRequest",
                               {"requestId": request_id, "errorReason": "BlockedByClient"})
            return
        with contextlib.suppress(PlaywrightError):
            await cdp.send("Fetch.continueRequest", {"requestId": request_id})

    async def _is_ours(self, frame: str) -> bool:
        """Whether a frame id is a target of our context. Frames that are no target of
        their own (same-site frames) are left to their page's Fetch hook."""
        if not frame or frame in self._theirs:
            return False
        if frame in self._ours:
            return True
        assert self._cdp is not None
        try:
            info = (await self._cdp.send("Target.getTargetInfo", {"targetId": frame}))["targetInfo"]
        except PlaywrightError:
            return False
        return bool(info.get("browserContextId") == self._context_id and info.get("type") in _FRAMES)
