"""The accessibility tree of the desktop (AT-SPI 2 over D-Bus): what programs say their
windows hold, with real roles, names, states and boxes.

GTK, Qt, and Chromium or Electron with accessibility on publish their widgets on the
accessibility bus (at-spi2-core). This reads it with dbus-fast, a pure-Python D-Bus client,
on a private event-loop thread: the desktop's worker thread calls it blocking, and each
snapshot sends its hundreds of small calls at once instead of one round trip after another.

    tree = Accessibility.connect(display)      # AccessibilityUnavailable(reason) when off
    for top in tree.windows(): ...             # showing top-level windows and their nodes
    tree.act(node.ref)                         # invoke ("click", "press", "activate")
    tree.set_text(node.ref, "hello")           # EditableText
    tree.close()

Events (windows created, activated, destroyed; focus; states) are counted as they come, so
the executor can tell when a program has stopped reacting (see `quiet_since`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Coroutine, Iterable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .screen import Region

T = TypeVar("T")

A11Y = "org.a11y.atspi."
ROOT = "/org/a11y/atspi/accessible/root"
REGISTRY = "org.a11y.atspi.Registry"

# AT-SPI StateType numbers (atspi-constants.h), the ones read here.
STATE_NAMES = {
    1: "active", 4: "checked", 7: "editable", 8: "enabled", 10: "expanded", 12: "focused",
    16: "modal", 17: "multi-line", 20: "pressed", 23: "selected", 24: "sensitive",
    25: "showing", 30: "visible", 32: "indeterminate", 33: "required", 41: "checkable",
    42: "has-popup", 43: "read-only",
}
LABELLED_BY = 2  # AtspiRelationType
# Roles whose name, when they have none, is the label that points at them.
_LABELLED = frozenset({"text", "entry", "password text", "combo box", "spin button", "slider"})
MAX_NODES = 4000  # per snapshot: a window listing a huge table is cut, not waited for
MAX_CHILDREN = 400  # per node: rows beyond these are not on screen anyway
MAX_TEXT = 2000  # characters of a text's value read
_EVENTS = ("window:", "focus:", "object:state-changed:", "object:children-changed:",
           "object:property-change:accessible-name")


class AccessibilityUnavailable(Exception):
    """The tree cannot be read here; the message says why and what to do."""


@dataclass(frozen=True)
class Ref:
    """One accessible object: the application's bus name and the object's path."""

    bus: str
    path: str

    def __str__(self) -> str:
        return f"{self.bus}{self.path}"

    @classmethod
    def parse(cls, text: str) -> Ref:
        bus, slash, path = text.partition("/")
        if not (bus.startswith(":") and slash):
            raise ValueError(f"not an accessible reference: {text!r}")
        return cls(bus, "/" + path)


@dataclass
class Node:
    ref: Ref
    role: str  # AT-SPI's role name: "push button", "menu item", "text", ...
    name: str
    states: frozenset[str]
    box: Region | None  # screen pixels; None when it has no on-screen component
    interfaces: frozenset[str]
    value: str | None = None  # a text's content or a value's number (never a password's)
    length: int = 0  # characters in a text (for a password: whether it is filled)
    depth: int = 0


@dataclass
class TopLevel:
    """A showing top-level window of an application, with its showing descendants."""

    app: str
    ref: Ref
    role: str  # "frame", "dialog", "window" (a menu's popup, a tooltip), "alert", ...
    name: str
    box: Region | None
    states: frozenset[str]
    nodes: list[Node] = field(default_factory=list)


def _states(bits: Sequence[int]) -> frozenset[str]:
    word = (int(bits[0]) if bits else 0) | ((int(bits[1]) << 32) if len(bits) > 1 else 0)
    return frozenset(name for n, name in STATE_NAMES.items() if word >> n & 1)


def _box(extents: Sequence[int]) -> Region | None:
    x, y, w, h = (int(v) for v in extents)
    return Region(x, y, w, h) if w > 0 and h > 0 else None


class Accessibility:
    """A connection to the accessibility bus, with its own event-loop thread."""

    def __init__(self, bus: Any, loop: asyncio.AbstractEventLoop, thread: threading.Thread, *,
                 timeout: float) -> None:
        self._bus = bus
        self._loop = loop
        self._thread = thread
        self.timeout = timeout
        self.events = 0  # every accessibility event seen so far
        self.last_event = 0.0  # time.monotonic() of the latest one
        self.window_events: list[tuple[float, str, str]] = []  # (when, kind, window title)
        self._lock = threading.Lock()
        # Calls sent at once: enough to hide the round trips, few enough that the socket's
        # buffer never fills (dbus-fast does not wait for a full socket to drain).
        self._in_flight = asyncio.Semaphore(32)

    # --- connecting ----------------------------------------------------------------------------

    @classmethod
    def connect(cls, display: str | None = None, *, session_bus: str | None = None,
                timeout: float = 2.0) -> Accessibility:
        """Connect to the accessibility bus of this session: $AT_SPI_BUS_ADDRESS, else the one
        the session bus names (starting at-spi2-core's launcher), else the X display's."""
        try:
            from dbus_fast import BusType  # noqa: F401 - the import is the check
        except ImportError as exc:
            raise AccessibilityUnavailable(
                "the accessibility tree needs dbus-fast: pip install 'operator-agent[desktop]'") from exc
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="atspi", daemon=True)
        thread.start()
        try:
            bus = asyncio.run_coroutine_threadsafe(_open(display, session_bus, timeout), loop).result(
                timeout * 3)
        except BaseException as exc:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=2)
            loop.close()
            if isinstance(exc, AccessibilityUnavailable):
                raise
            raise AccessibilityUnavailable(f"cannot reach the accessibility bus ({exc})") from exc
        tree = cls(bus, loop, thread, timeout=timeout)
        tree._run(tree._listen())
        return tree

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout or self.timeout * 3)
        except FutureTimeout:
            future.cancel()
            raise

    async def _call(self, ref: Ref, iface: str, member: str, signature: str = "",
                    body: Sequence[Any] = ()) -> list[Any]:
        from dbus_fast import Message, MessageType

        async with self._in_flight:
            reply = await asyncio.wait_for(self._bus.call(Message(
                destination=ref.bus, path=ref.path, interface=iface, member=member, signature=signature,
                body=list(body))), self.timeout)
        if reply.message_type == MessageType.ERROR:
            raise _CallError(f"{reply.error_name}: {reply.body[0] if reply.body else ''}")
        return list(reply.body)

    # --- events ------------------------------------------------------------------------------

    async def _listen(self) -> None:
        from dbus_fast import MessageType

        def on_message(msg: Any) -> None:
            if msg.message_type != MessageType.SIGNAL or not (msg.interface or "").startswith(
                    A11Y + "Event."):
                return
            kind = msg.interface.rsplit(".", 1)[1]
            if kind == "Object" and msg.member == "StateChanged" and msg.body and msg.body[0] == "defunct":
                return  # objects being freed: not something happening on screen
            now = time.monotonic()
            with self._lock:
                self.events += 1
                self.last_event = now
                if kind == "Window":  # its body carries the window's title (atk-bridge, Qt)
                    title = msg.body[3] if len(msg.body) > 3 else ""
                    self.window_events.append((now, msg.member, str(getattr(title, "value", title) or "")))
                    del self.window_events[:-64]

        self._bus.add_message_handler(on_message)
        daemon = Ref("org.freedesktop.DBus", "/org/freedesktop/DBus")
        for kind in ("Window", "Object", "Focus"):
            await self._call(daemon, "org.freedesktop.DBus", "AddMatch", "s",
                             [f"type='signal',interface='{A11Y}Event.{kind}'"])
        registry = Ref(REGISTRY, "/org/a11y/atspi/registry")
        for event in _EVENTS:  # programs only send the events someone registered for
            try:
                await self._call(registry, A11Y + "Registry", "RegisterEvent", "sass", [event, [], ""])
            except _CallError:  # an older registry: RegisterEvent(s)
                with contextlib.suppress(_CallError):
                    await self._call(registry, A11Y + "Registry", "RegisterEvent", "s", [event])

    def quiet_since(self) -> float:
        """Seconds since the last accessibility event (a large number when none came)."""
        with self._lock:
            return time.monotonic() - self.last_event if self.last_event else 1e9

    def windows_announced(self, since: float) -> list[tuple[str, str]]:
        """(kind, title) of the window events after time.monotonic() `since`: "Create",
        "Destroy", "Activate", "Deactivate", ... and the window's title when it was sent."""
        with self._lock:
            return [(kind, title) for when, kind, title in self.window_events if when > since]

    # --- reading -----------------------------------------------------------------------------

    def windows(self) -> list[TopLevel]:
        """Every showing top-level window of every application, with its showing nodes."""
        return self._run(self._windows())

    async def _windows(self) -> list[TopLevel]:
        apps = await self._children(Ref(REGISTRY, ROOT))
        budget = [MAX_NODES]
        found = await asyncio.gather(*(self._app(app, budget) for app in apps), return_exceptions=True)
        return [top for tops in found if isinstance(tops, list) for top in tops]

    async def _children(self, ref: Ref) -> list[Ref]:
        kids = (await self._call(ref, A11Y + "Accessible", "GetChildren"))[0]
        return [Ref(str(bus), str(path)) for bus, path in kids[:MAX_CHILDREN]]

    async def _app(self, app: Ref, budget: list[int]) -> list[TopLevel]:
        # A program that does not answer (busy, stopped) costs its own timeout, not the others'.
        name = (await self._call(app, "org.freedesktop.DBus.Properties", "Get", "ss",
                                 [A11Y + "Accessible", "Name"]))[0].value
        tops: list[TopLevel] = []
        for ref in await self._children(app):
            try:
                node = await self._node(ref, 0)
            except (TimeoutError, _CallError):
                continue
            if node is None or "showing" not in node.states:
                continue
            top = TopLevel(app=str(name), ref=ref, role=node.role, name=node.name, box=node.box,
                           states=node.states)
            await self._walk(ref, top, 1, budget)
            tops.append(top)
        return tops

    async def _walk(self, ref: Ref, top: TopLevel, depth: int, budget: list[int]) -> None:
        try:
            kids = await self._children(ref)
        except (TimeoutError, _CallError):
            return
        kids = kids[:max(0, budget[0])]
        budget[0] -= len(kids)
        nodes = await asyncio.gather(*(self._node(k, depth) for k in kids), return_exceptions=True)
        deeper = []
        for kid, node in zip(kids, nodes, strict=True):
            if not isinstance(node, Node) or "showing" not in node.states:
                continue  # gone, or hidden (a closed menu's items, another tab's page)
            top.nodes.append(node)
            deeper.append(self._walk(kid, top, depth + 1, budget))
        await asyncio.gather(*deeper)

    async def _node(self, ref: Ref, depth: int) -> Node | None:
        acc = A11Y + "Accessible"
        # Properties.Get, not GetAll: Qt's adaptor does not implement GetAll.
        role, states, name, ifaces = await asyncio.gather(
            self._call(ref, acc, "GetRoleName"), self._call(ref, acc, "GetState"),
            self._call(ref, "org.freedesktop.DBus.Properties", "Get", "ss", [acc, "Name"]),
            self._call(ref, acc, "GetInterfaces"))
        interfaces = frozenset(i.removeprefix(A11Y) for i in ifaces[0])
        node = Node(ref=ref, role=str(role[0]), name=str(getattr(name[0], "value", name[0]) or ""),
                    states=_states(states[0]), box=None, interfaces=interfaces, depth=depth)
        if "showing" not in node.states:
            return node
        reads = []
        if "Component" in interfaces:
            reads.append(self._extents(node))
        readable = node.role != "password text" and (not node.name or "editable" in node.states)
        if "Text" in interfaces and readable:
            reads.append(self._text(node))
        elif "Text" in interfaces:
            reads.append(self._length(node))
        if "Value" in interfaces:
            reads.append(self._value(node))
        if not node.name and node.role in _LABELLED:
            reads.append(self._label(node))
        await asyncio.gather(*reads)
        return node

    async def _label(self, node: Node) -> None:
        """A field's name from the label that says it labels it (a GTK entry beside "Name:")."""
        relations = (await self._call(node.ref, A11Y + "Accessible", "GetRelationSet"))[0]
        for kind, targets in relations:
            if int(kind) == LABELLED_BY and targets:
                bus, path = targets[0]
                name = await self._call(Ref(str(bus), str(path)), "org.freedesktop.DBus.Properties", "Get",
                                        "ss", [A11Y + "Accessible", "Name"])
                node.name = str(name[0].value).strip().rstrip(":*").strip()
                return

    async def _extents(self, node: Node) -> None:
        node.box = _box((await self._call(node.ref, A11Y + "Component", "GetExtents", "u", [0]))[0])

    async def _length(self, node: Node) -> None:
        count = await self._call(node.ref, "org.freedesktop.DBus.Properties", "Get", "ss",
                                 [A11Y + "Text", "CharacterCount"])
        node.length = int(count[0].value)

    async def _text(self, node: Node) -> None:
        await self._length(node)
        if node.length:
            got = await self._call(node.ref, A11Y + "Text", "GetText", "ii", [0, min(node.length, MAX_TEXT)])
            node.value = str(got[0])
        else:
            node.value = ""

    async def _value(self, node: Node) -> None:
        got = await self._call(node.ref, "org.freedesktop.DBus.Properties", "Get", "ss",
                               [A11Y + "Value", "CurrentValue"])
        number = float(got[0].value)
        node.value = f"{number:g}"

    # --- acting ------------------------------------------------------------------------------

    def actions(self, ref: Ref) -> list[str]:
        """The names of what the object can do ("click", "press", "activate", "toggle"...)."""
        return self._run(self._actions(ref))

    async def _actions(self, ref: Ref) -> list[str]:
        got = await self._call(ref, A11Y + "Action", "GetActions")
        return [str(name) for name, *_ in got[0]]

    def act(self, ref: Ref, prefer: Iterable[str] = ("click", "press", "activate", "toggle", "jump",
                                                       "open")) -> str | None:
        """Invoke the object's first action among `prefer` (or its only one); the name of the
        action done, or None when it has none of them."""
        return self._run(self._act(ref, tuple(prefer)))

    async def _act(self, ref: Ref, prefer: tuple[str, ...]) -> str | None:
        try:
            names = await self._actions(ref)
        except _CallError:
            return None
        lowered = [n.lower() for n in names]
        pick = next((lowered.index(p) for p in prefer if p in lowered), 0 if len(names) == 1 else None)
        if pick is None:
            return None
        ok = (await self._call(ref, A11Y + "Action", "DoAction", "i", [pick]))[0]
        return names[pick] if ok else None

    def choose(self, ref: Ref, option: str) -> str | None:
        """Choose an option of a drop-down (a combo box) by its name, as the program's own
        selection: the name chosen, or None when it has no such option."""
        return self._run(self._choose(ref, option))

    async def _choose(self, ref: Ref, option: str) -> str | None:
        wanted = " ".join(option.split()).casefold()
        for menu in await self._children(ref):  # a combo box holds its list (shown or not)
            items = await self._children(menu)
            names = await asyncio.gather(*(self._call(i, "org.freedesktop.DBus.Properties", "Get", "ss",
                                                      [A11Y + "Accessible", "Name"]) for i in items))
            labels = [" ".join(str(n[0].value).split()) for n in names]
            exact = [k for k, label in enumerate(labels) if label.casefold() == wanted]
            near = [k for k, label in enumerate(labels) if wanted and wanted in label.casefold()]
            for k in (exact or near)[:1]:
                done = (await self._call(ref, A11Y + "Selection", "SelectChild", "i", [k]))[0]
                return labels[k] if done else None
        return None

    def set_text(self, ref: Ref, text: str) -> bool:
        """Replace an editable text's content (as typing would, without the keyboard)."""
        async def go() -> bool:
            return bool((await self._call(ref, A11Y + "EditableText", "SetTextContents", "s", [text]))[0])
        return self._run(go())

    def focus(self, ref: Ref) -> bool:
        async def go() -> bool:
            return bool((await self._call(ref, A11Y + "Component", "GrabFocus"))[0])
        return self._run(go())

    def close(self) -> None:
        async def shut() -> None:
            self._bus.disconnect()
        with contextlib.suppress(Exception):
            self._run(shut(), timeout=2)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=2)
        with contextlib.suppress(RuntimeError):
            self._loop.close()


class _CallError(Exception):
    """A D-Bus error reply (the object is gone, the method is not there)."""


async def _open(display: str | None, session_bus: str | None, timeout: float) -> Any:
    from dbus_fast.aio import MessageBus

    address = os.environ.get("AT_SPI_BUS_ADDRESS", "")
    if not address:
        address = await _from_session(session_bus, timeout)
    if not address and display:
        address = _from_display(display)
    if not address:
        raise AccessibilityUnavailable(
            "no accessibility bus: start programs in a D-Bus session (dbus-run-session, or "
            "DBUS_SESSION_BUS_ADDRESS) with at-spi2-core installed (apt-get install at-spi2-core)")
    return await asyncio.wait_for(MessageBus(bus_address=address).connect(), timeout)


async def _from_session(session_bus: str | None, timeout: float) -> str:
    """The accessibility bus the session's launcher runs; also turns accessibility on, which
    Qt and Chromium wait for before they publish anything."""
    from dbus_fast import Message, MessageType, Variant
    from dbus_fast.aio import MessageBus

    address = session_bus or os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not address:
        return ""
    try:
        bus = await asyncio.wait_for(MessageBus(bus_address=address).connect(), timeout)
    except (TimeoutError, OSError, ValueError):
        return ""
    try:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(bus.call(Message(
                destination="org.a11y.Bus", path="/org/a11y/bus", interface="org.freedesktop.DBus.Properties",
                member="Set", signature="ssv", body=["org.a11y.Status", "IsEnabled", Variant("b", True)])),
                timeout)
        reply = await asyncio.wait_for(bus.call(Message(
            destination="org.a11y.Bus", path="/org/a11y/bus", interface="org.a11y.Bus",
            member="GetAddress")), timeout * 2)  # the first call starts the launcher
        if reply.message_type == MessageType.ERROR:
            return ""
        return str(reply.body[0])
    except TimeoutError:
        return ""
    finally:
        bus.disconnect()


def _from_display(display: str) -> str:
    """at-spi-bus-launcher also writes its address on the X root window (AT_SPI_BUS)."""
    try:
        from Xlib import X
        from Xlib import display as xdisplay

        d = xdisplay.Display(display)
        try:
            prop = d.screen().root.get_full_property(d.intern_atom("AT_SPI_BUS"), X.AnyPropertyType)
        finally:
            d.close()
    except Exception:
        return ""
    if prop is None or not prop.value:
        return ""
    v = prop.value
    return (v.decode() if isinstance(v, bytes) else str(v)).strip("\x00 ")
