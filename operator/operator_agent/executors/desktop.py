"""Performs actions on an X display with the mouse and keyboard (pyautogui).

Elements are targeted at the centre of their box from the observation the
model saw. After every action the screen is left to settle (two equal
screenshots in a row, with a cap) so the next observation shows its effect.
pyautogui's fail-safe stays on: a person who throws the mouse into a screen
corner stops the run (FailSafeStop), and no action of ours moves there.

Besides the shared Action union, the desktop understands a few coordinate
actions by their `action` name (duck typing, so wiring them into types.py is
one edit): "move" (index or x, y), "click_at" (x, y, button, double) and
"drag" (from_index or from_x, from_y; to_index or to_x, to_y; button).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..actions import performed_in
from ..perception.atspi import Ref
from ..perception.screen import Window, app_windows, desktop_url, same_screen
from ..permissions.detectors import windows as targets
from ..permissions.placeholders import has_placeholder
from ..protocols import ActionError, PersonStopped
from ..types import (
    Action,
    ActionResult,
    Back,
    Click,
    CloseTab,
    Element,
    Navigate,
    Observation,
    OpenApp,
    Press,
    Screenshot,
    Scroll,
    Select,
    SwitchTab,
    Type,
    Upload,
    Wait,
    held_keys,
    held_note,
)
from .desktop_settle import Before, SettleOptions, Settler
from .launch import open_app

if TYPE_CHECKING:
    import numpy as np

T = TypeVar("T")


class FailSafeStop(PersonStopped):
    """The person moved the mouse into a screen corner: pyautogui's fail-safe. Stop the run."""


class Screen(Protocol):
    """What the executor needs from the perceiver."""

    display: str

    def grab(self) -> np.ndarray: ...

    def observe(self, *, screenshot: Screenshot = False) -> Observation: ...

    def windows(self) -> list[Window]: ...

    def activate(self, window: Window) -> None: ...

    def window_at(self, x: float, y: float) -> Window | None: ...

    def key_window(self) -> Window | None: ...


# Key names as the model writes them (browser-style) -> pyautogui's names.
_KEYS = {
    "control": "ctrl", "ctrl": "ctrl", "shift": "shift", "alt": "alt", "option": "alt",
    "meta": "win", "super": "win", "win": "win", "cmd": "win", "command": "win",
    "enter": "enter", "return": "enter", "escape": "esc", "esc": "esc", "space": " ",
    "arrowup": "up", "arrowdown": "down", "arrowleft": "left", "arrowright": "right",
    "pageup": "pageup", "pagedown": "pagedown", "backspace": "backspace", "delete": "delete",
    "del": "delete", "insert": "insert", "tab": "tab", "home": "home", "end": "end",
    "plus": "+", "minus": "-", "printscreen": "printscreen", "capslock": "capslock",
}
WHEEL_PER_PAGE = 5  # mouse-wheel clicks for one "page" of Scroll


def key_combo(combo: str) -> list[str]:
    """`Control+Shift+S` -> ["ctrl", "shift", "s"]; `Control++` -> ["ctrl", "+"]."""
    parts = combo.split("+")
    if combo.endswith("++"):
        parts = [*parts[:-2], "+"]
    keys = []
    for part in parts:
        name = part.strip()
        if not name:
            raise ActionError(f"cannot read the key combination {combo!r}")
        mapped = _KEYS.get(name.lower(), name if len(name) == 1 else name.lower())
        # In a combination a letter is the key, not a capital: Control+S is ctrl+s.
        keys.append(mapped.lower() if len(parts) > 1 and len(mapped) == 1 else mapped)
    return keys


def load_pyautogui(display: str) -> ModuleType:
    """pyautogui bound to `display`, with its fail-safe on.

    pyautogui opens the X display named by $DISPLAY when its X11 module is
    imported, so that module is (re)loaded with DISPLAY set to ours; the
    process environment is restored afterwards. pyautogui is one per process:
    sessions on two displays may alternate, not act at the same time.
    """
    x11 = sys.modules.get("pyautogui._pyautogui_x11")
    if x11 is not None and x11._display.get_display_name() == display and _alive(x11._display):
        return sys.modules["pyautogui"]
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        import pyautogui

        x11 = sys.modules.get("pyautogui._pyautogui_x11")
        if x11 is not None and (x11._display.get_display_name() != display or not _alive(x11._display)):
            importlib.reload(x11)  # new connection and keymap, same module object pyautogui holds
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
    w, h = pyautogui.size()
    pyautogui.FAILSAFE = True
    pyautogui.FAILSAFE_POINTS[:] = [(0, 0), (0, h - 1), (w - 1, 0), (w - 1, h - 1)]
    return pyautogui


def _alive(connection: Any) -> bool:
    """The X connection still reaches a server (a display number is reused when a virtual
    display is stopped and another started)."""
    try:
        connection.get_input_focus()
        return True
    except Exception:
        return False


_MODIFIER_KEYS = {"Shift": "shift", "Control": "ctrl", "Alt": "alt", "Meta": "win"}  # -> pyautogui



def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().strip(".:…").casefold()


class DesktopExecutor:
    """Acts on the screen the perceiver looks at. Blocking: call from one worker thread."""

    actions = performed_in("desktop")  # what _dispatch performs (actions.py)

    def __init__(self, screen: Screen, *, settle: SettleOptions | None = None, vault: Any = None) -> None:
        self.screen = screen
        self.options = settle or SettleOptions()
        self.settler = Settler(screen, self.options)
        self.vault = vault  # {{secret:NAME}} becomes a value only here, for windows it is bound to
        self._handed_over = False  # this action went through the accessibility tree

    @property
    def gui(self) -> ModuleType:
        gui = load_pyautogui(self.screen.display)  # re-bound if another session moved it
        gui.PAUSE = self.options.pause
        return gui

    # --- the entry point ------------------------------------------------------------

    def perform(self, action: Action | Any, observation: Observation) -> ActionResult:
        index = getattr(action, "index", None)
        target = observation.element(index) if isinstance(index, int) else None
        before = self.before()
        self._handed_over = False
        try:
            detail = self._dispatch(action, observation)
        except ActionError as exc:
            return ActionResult(ok=False, error=str(exc), target=target)
        except Exception as exc:
            if type(exc).__name__ == "FailSafeException":
                raise FailSafeStop("the mouse was moved into a screen corner: pyautogui's fail-safe "
                                   "stopped the run") from exc
            raise
        before.deferred = self._handed_over
        self.settle(before)
        return ActionResult(ok=True, detail=detail, target=target)

    def before(self) -> Before:
        """The screen now, to settle against after an action."""
        return self.settler.before()

    def settle(self, before: Before | None = None) -> bool:
        """Wait until the action's effects are on the screen (desktop_settle.py); False at the cap."""
        return self.settler.settle(before)

    # --- dispatch ---------------------------------------------------------------------

    def _dispatch(self, action: Action | Any, obs: Observation) -> str:
        g = self.gui
        match action:
            case Click():
                x, y = self._point(obs, action.index)
                self._aim(obs, x, y, index=action.index)
                # The element's own action (press, open a menu): nothing drawn over it takes it.
                plain = not action.double and action.button == "left"
                done = plain and self._through_tree(obs, action.index, lambda tree, ref: tree.act(ref))
                if done:
                    return f"clicked [{action.index}] ({done}, through the accessibility tree)"
                g.click(x, y, clicks=2 if action.double else 1, interval=0.05, button=action.button)
                return f"{'double-' if action.double else ''}clicked [{action.index}]"
            case Type():
                return self._type(action, obs)
            case Select():
                return self._select(action, obs)
            case Press():
                for combo in action.keys.split():
                    keys = key_combo(combo)
                    bad = [k for k in keys if not g.isValidKey(k)]
                    if bad:
                        raise ActionError(f"unknown key {bad[0]!r} in {combo!r}")
                    g.hotkey(*keys)
                return f"pressed {action.keys}"
            case Scroll():
                return self._scroll(action, obs)
            case Wait():
                return self._wait(action.seconds)
            case SwitchTab():
                return self._switch(action.tab)
            case OpenApp():
                return open_app(action, self.screen)
            case Navigate() | Back():
                raise ActionError("there is no address bar on the desktop: start a program (or open a "
                                  "file with one) with open_app, or use the windows' own menus")
            case CloseTab():
                raise ActionError("closing windows directly is not supported: use the window's own "
                                  "close button or menu")
            case Upload():
                raise ActionError("on the desktop, choose files in the program's file dialog")
        return self._coordinate_action(action, obs)

    def _coordinate_action(self, action: Any, obs: Observation) -> str:
        name = getattr(action, "action", "")
        g = self.gui
        if name == "move":
            x, y = self._where(obs, action, "")
            g.moveTo(x, y)
            return f"moved the mouse to ({x}, {y})"
        if name == "click_at":
            x, y = self._xy(action.x, action.y)
            self._aim(obs, x, y)
            double = bool(getattr(action, "double", False))
            with self._holding(action.hold):
                g.click(x, y, clicks=2 if double else 1, interval=0.05, button=action.button)
            return f"clicked at ({x}, {y}){held_note(action.hold)}"
        if name == "type_at":
            x, y = self._xy(action.x, action.y)
            if has_placeholder(action.text):  # the gate refuses it too: only a Type by index fills them
                raise ActionError("secret placeholders are only filled in by type with the field's index")
            window = self._aim(obs, x, y)
            self._type_into(x, y, window, action.text, clear=action.clear, submit=action.submit)
            return f"typed {len(action.text)} characters at ({x}, {y})"
        if name == "drag":
            x0, y0 = self._where(obs, action, "from_")
            x1, y1 = self._where(obs, action, "to_")
            self._aim(obs, x0, y0, index=getattr(action, "from_index", None))
            self._aim(obs, x1, y1, index=getattr(action, "to_index", None))
            with self._holding(action.hold):
                g.moveTo(x0, y0)
                g.dragTo(x1, y1, duration=0.3, button=action.button)
            return f"dragged from ({x0}, {y0}) to ({x1}, {y1}){held_note(action.hold)}"
        raise ActionError(f"the desktop cannot perform {name!r}")

    # --- targets ------------------------------------------------------------------------

    def _element(self, obs: Observation, index: int) -> Element:
        el = obs.element(index)
        if el is None or el.bbox is None:
            raise ActionError(f"there is no element [{index}] on the screen; look again")
        return el

    def _point(self, obs: Observation, index: int) -> tuple[int, int]:
        cx, cy = self._element(obs, index).bbox.center  # type: ignore[union-attr]
        return self._xy(cx, cy)

    def _xy(self, x: float, y: float) -> tuple[int, int]:
        w, h = self.gui.size()
        xi, yi = round(x), round(y)
        if not (0 <= xi < w and 0 <= yi < h):
            raise ActionError(f"({xi}, {yi}) is outside the {w}x{h} screen")
        if (xi, yi) in self.gui.FAILSAFE_POINTS:
            raise ActionError("the screen corners are the fail-safe: choose a point inside the screen")
        return xi, yi

    def _where(self, obs: Observation, action: Any, prefix: str) -> tuple[int, int]:
        index = getattr(action, f"{prefix}index", None)
        if index is not None:
            return self._point(obs, int(index))
        x, y = getattr(action, f"{prefix}x", None), getattr(action, f"{prefix}y", None)
        if x is None or y is None:
            raise ActionError(f"give {prefix}index or both {prefix}x and {prefix}y")
        return self._xy(float(x), float(y))

    # --- which window is hit --------------------------------------------------------------

    def _aim(self, obs: Observation, x: int, y: int, *, index: int | None = None) -> Window | None:
        """The window a click at (x, y) lands in now. It must be the one the gate checked,
        read from the observation: a window raised, moved or opened since is refused,
        never clicked (that window was not asked about, nor bound to a secret)."""
        expected = targets.element_window(obs, index) if index is not None else targets.window_at(obs, x, y)
        el = obs.element(index) if index is not None else None
        wid = el.attributes.get("window", "") if el is not None else ""
        live = self.screen.window_at(x, y)
        now = live.title if live is not None else ""
        same = (live.id if live else 0) == int(wid) if wid.isdigit() else now == targets.title_of(expected)
        if not same:
            raise ActionError(f"({x}, {y}) is now in the window {now or 'of the bare desktop'!r}, not in "
                              f"{targets.title_of(expected)!r} as on the screen read before; look again")
        return live

    def _keys_to(self, window: Window | None, *, secret: bool) -> None:
        """After the click, the keys must go to the window clicked: wait (bounded) for the
        program to take the focus; refuse when another window keeps it."""
        if window is None:
            raise ActionError("the field is on the bare desktop, in no window: nothing was typed")
        deadline = time.monotonic() + self.options.cap
        while True:
            got = self.screen.key_window()
            if got is not None and got.id == window.id:
                return
            if got is None and not secret:
                return  # where keys go cannot be read: plain text goes as before
            if time.monotonic() >= deadline:
                where = f"the window {got.title!r}" if got is not None else "no window"
                raise ActionError(f"the keys would go to {where}, not to {window.title!r} that was "
                                  "clicked; nothing was typed")
            time.sleep(self.options.interval)

    # --- typing, choosing, scrolling ----------------------------------------------------

    def _type(self, action: Type, obs: Observation) -> str:
        x, y = self._point(obs, action.index)
        window = self._aim(obs, x, y, index=action.index)  # the field's window, not the focused one
        text = self._substitute(action.text, obs, action.index, window)
        secret = has_placeholder(action.text)
        el = obs.element(action.index)
        editable = el is not None and el.attributes.get("editable") == "text"
        if action.clear and editable and self._through_tree(
                obs, action.index, lambda tree, ref: tree.set_text(ref, text)):
            if action.submit:  # Enter is a key: it goes where the focus is, so to this field
                self._through_tree(obs, action.index, lambda tree, ref: tree.focus(ref))
                self._keys_to(window, secret=secret)
                self.gui.press("enter")
            return f"typed {len(action.text)} characters into [{action.index}] (the accessibility tree)"
        self._type_into(x, y, window, text, clear=action.clear, submit=action.submit, secret=secret)
        return f"typed {len(action.text)} characters into [{action.index}]"

    # --- through the accessibility tree --------------------------------------------------

    def _through_tree(self, obs: Observation, index: int, act: Callable[[Any, Ref], T]) -> T | None:
        """act(tree, object) for an element that came from the accessibility tree; None for
        any other, or when the tree fails (the object is gone, the program does not answer):
        the mouse and the keys still can."""
        tree = getattr(self.screen, "tree", None)
        el = obs.element(index)
        text = el.attributes.get("ref", "") if el is not None else ""
        if tree is None or not text:
            return None
        try:
            done = act(tree, Ref.parse(text))
        except Exception:
            return None
        self._handed_over = self._handed_over or bool(done)
        return done

    def _type_into(self, x: int, y: int, window: Window | None, text: str, *, clear: bool, submit: bool,
                   secret: bool = False) -> None:
        """Click the field at (x, y), wait for its window to take the keys, then type."""
        g = self.gui
        mapping = getattr(sys.modules.get("pyautogui._pyautogui_x11"), "keyboardMapping", None)
        if mapping is not None:
            bad = sorted({c for c in text if mapping.get(c) is None and c not in "\n\t"})
            if bad:
                raise ActionError("cannot type " + ", ".join(repr(c) for c in bad[:5])
                                  + " with this keyboard layout (only what the keys have)")
        g.click(x, y)
        self._keys_to(window, secret=secret)
        if clear:
            # To the end, select to the start, delete: works in Tk, GTK and Qt fields alike
            # (Control+A is "start of line" in Tk and Emacs-style bindings).
            g.press("end")
            g.hotkey("shift", "home")
            g.press("backspace")
        g.write(text)
        if submit:
            g.press("enter")

    @contextmanager
    def _holding(self, hold: str) -> Iterator[None]:
        """Modifier keys down for the block, released whatever happens in it."""
        keys = [_MODIFIER_KEYS[k] for k in held_keys(hold)]
        pressed: list[str] = []
        try:
            for key in keys:
                self.gui.keyDown(key)
                pressed.append(key)
            yield
        finally:
            for key in reversed(pressed):
                self.gui.keyUp(key)

    def _substitute(self, text: str, obs: Observation, index: int, window: Window | None) -> str:
        """Placeholders filled in only when the field's window is bound to the secret, both
        as the gate saw it and as it is titled now."""
        if not has_placeholder(text):
            return text
        if self.vault is None:
            raise ActionError("no secrets are set up: the person adds them with `operator vault add-...`")
        now = desktop_url(self.screen.display, window.title if window is not None else "")
        try:
            self.vault.check(text, targets.element_window(obs, index))
            return str(self.vault.resolve(text, now))  # bound to desktop:TITLE-GLOB
        except Exception as exc:  # VaultError: not allowed here, unknown name
            raise ActionError(str(exc)) from exc

    def _select(self, action: Select, obs: Observation) -> str:
        """A drop-down: the program's own selection when it came from the tree; else click it,
        read what opened, click the option by its text."""
        target = self._element(obs, action.index)
        x, y = self._point(obs, action.index)
        self._aim(obs, x, y, index=action.index)
        if target.role == "combobox":
            chosen = self._through_tree(obs, action.index, lambda tree, ref: tree.choose(ref, action.option))
            if chosen:
                return f'chose "{chosen}" in [{action.index}] (the accessibility tree)'
        self.gui.click(x, y)
        self.settle()
        after = self.screen.observe()
        before = {(e.name, e.bbox.x if e.bbox else 0, e.bbox.y if e.bbox else 0) for e in obs.elements}
        wanted = _norm(action.option)
        def label(e: Element) -> str:
            return e.name or e.value or ""

        # What the click opened (a menu, a list) comes first; the rest of the screen after.
        shown = [e for e in after.elements if label(e) and e.bbox is not None and e.bbox != target.bbox]
        fresh = [e for e in shown if (e.name, e.bbox.x, e.bbox.y) not in before]  # type: ignore[union-attr]
        pool = fresh or shown
        exact = [e for e in pool if _norm(label(e)) == wanted]
        near = [e for e in pool if wanted and wanted in _norm(label(e))]
        choice = (exact or near or [None])[0]
        if choice is None or choice.bbox is None:
            self.gui.press("esc")
            seen = ", ".join(f'"{label(e)}"' for e in fresh[:12]) or "nothing new"
            raise ActionError(f'no option "{action.option}" appeared after clicking [{action.index}] '
                              f"(it showed: {seen})")
        cx, cy = self._xy(*choice.bbox.center)
        self.gui.click(cx, cy)
        return f'chose "{label(choice)}" in [{action.index}]'

    def _scroll(self, action: Scroll, obs: Observation) -> str:
        g = self.gui
        if action.index is not None:
            x, y = self._point(obs, action.index)
        elif action.x is not None and action.y is not None:  # Scroll at a point (types.py)
            x, y = self._xy(action.x, action.y)
        else:
            focused = next((w for w in self.screen.windows() if w.focused), None)
            if focused is not None:
                x, y = self._xy(*focused.region.center)
            else:
                w, h = g.size()
                x, y = w // 2, h // 2
        clicks = max(1, round(action.pages * WHEEL_PER_PAGE))
        if action.direction in ("up", "down"):
            g.scroll(clicks if action.direction == "up" else -clicks, x=x, y=y)
        else:
            g.hscroll(clicks if action.direction == "right" else -clicks, x=x, y=y)
        return f"scrolled {action.direction} {action.pages:g} page(s)"

    def _wait(self, seconds: float) -> str:
        start = self.screen.grab()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
            if not same_screen(start, self.screen.grab(), tolerance=self.options.tolerance):
                return "the screen changed"
        return f"waited {seconds:g}s, nothing changed"

    def _switch(self, tab: int) -> str:
        wins = app_windows(self.screen.windows())
        if not 0 <= tab < len(wins):
            raise ActionError(f"there is no window {tab}; windows: 0-{len(wins) - 1}")
        self.screen.activate(wins[tab])
        return f'switched to the window "{wins[tab].title}"'
