"""Starting a program on the desktop (the open_app action): a name -> an argv -> a process
-> its first window.

A name is resolved only to what is installed: a desktop entry (the .desktop files of
$XDG_DATA_HOME/applications and $XDG_DATA_DIRS/*/applications, as a menu lists them:
by file ID, Name= or command; GenericName= when only one program fits) or a program on
PATH by its exact name. Never a path, never a shell: the argv is built from the entry's
Exec= line (quoting and field codes as the Desktop Entry Specification says) and run
directly. A file to open is one more argument of its own, always an absolute path (so it
can never be read as an option), never one of the places keys and the agent's own files
live, and it must exist, or at least its folder must: a file that does not exist yet is
passed on as new (an editor opens an empty document that it creates when saved).

The permission gate resolves the same way (permissions/apps.py), so what a person is
asked about is the argv that runs.
"""

from __future__ import annotations

import difflib
import os
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..permissions import uploads
from ..permissions.vault_store import KEY_ENV
from ..types import OpenApp
from .desktop_entries import (
    DesktopEntry,
    LaunchError,
    desktop_entries,
    expand_exec,
    path_dirs,
    split_exec,
    which_program,
)

if TYPE_CHECKING:  # the permission gate resolves names too: no screen libraries for that
    from ..perception.screen import Window

OPEN_CAP = 20.0  # seconds a program has to show its first window (a cold start can be slow)
EXITED_GRACE = 3.0  # after a clean exit: a program handing over to a running copy of itself
POLL = 0.05
# The agent's own secrets never pass to a program it starts (the person could be shown them,
# and so could the model, in a terminal the agent opened).
_AGENT_SECRETS = frozenset({KEY_ENV, "OPENAI_API_KEY"})


class Screen(Protocol):
    """What starting a program needs from the perceiver: its display and its windows."""

    display: str

    def windows(self) -> list[Window]: ...


# --- resolution --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Program:
    """A program resolved to exactly what would run."""

    label: str  # what a person calls it: the entry's Name, or the command
    argv: tuple[str, ...]  # argv[0] is an absolute path
    entry: DesktopEntry | None = None
    file: Path | None = None
    new_file: bool = False  # the file does not exist yet: the program is to create it

    @property
    def executable(self) -> str:
        return self.argv[0]

    @property
    def command(self) -> str:
        return os.path.basename(self.executable)

    def names(self) -> frozenset[str]:
        """What a policy list may call it (case-insensitive): its command, the command the
        path really is (x-terminal-emulator -> xterm), its desktop entry's ID."""
        real = os.path.realpath(self.executable)
        names = {self.command, os.path.basename(real)} | ({self.entry.id} if self.entry else set())
        return frozenset(n.casefold() for n in names)

    def paths(self) -> frozenset[str]:
        return frozenset({self.executable, os.path.realpath(self.executable)})

    def describe(self) -> str:
        return f"{self.label} ({self.executable})"


def resolve(app: str, file: str | None = None) -> Program:
    """The installed program called `app`, with `file` to open; LaunchError saying why not
    (for an unknown name, with a few installed names close to it)."""
    key = _key(app)
    if not key:
        raise LaunchError("name the program to start")
    if "/" in app or "\0" in app:
        raise LaunchError(f"name a program as installed (its command or menu name), not a path: {app[:200]}")
    target, new = check_file(file) if file is not None and file.strip() else (None, False)
    arg = str(target) if target is not None else None
    entries = desktop_entries()
    for field in ("id", "name", "command"):
        hits = [e for e in entries if _key(getattr(e, field)) == key]
        if hits:  # by command: the entry that starts it plainly, not its "--preferences" sibling
            hits.sort(key=_options)
            return _from_entry(_windowed(hits, app), arg, target, new)
    path = which_program(app) if not any(c.isspace() for c in app) else None
    if path:
        return Program(label=os.path.basename(path), argv=(path, *([arg] if arg else [])), file=target,
                       new_file=new)
    kinds = [e for e in entries if e.generic and _key(e.generic) == key]
    windowed = [e for e in kinds if not e.terminal]
    if len(windowed) > 1:
        names = ", ".join(f"{e.name} ({e.command})" for e in windowed[:6])
        raise LaunchError(f"several programs are a {app.strip()!r}: {names}; name one of them")
    if kinds:
        return _from_entry(_windowed(kinds, app), arg, target, new)
    near = close_names(app, entries)
    hint = f"; installed programs with close names: {', '.join(near)}" if near else ""
    raise LaunchError(f"no program called {app.strip()[:100]!r} is installed{hint}")


def _options(entry: DesktopEntry) -> int:
    """How many arguments besides field codes the entry starts its program with."""
    try:
        return sum(1 for arg, _ in split_exec(entry.exec)[1:] if not arg.startswith("%"))
    except ValueError:
        return 99


def _windowed(hits: list[DesktopEntry], app: str) -> DesktopEntry:
    """The first entry that opens a window of its own; a terminal-only program is refused:
    it would need a terminal the agent did not choose."""
    for entry in hits:
        if not entry.terminal:
            return entry
    entry = hits[0]
    raise LaunchError(f"{entry.name} ({entry.command or app}) runs inside a terminal (Terminal=true in "
                      f"{entry.path}): start a terminal program and run it there")


def _from_entry(entry: DesktopEntry, arg: str | None, target: Path | None, new: bool) -> Program:
    argv = expand_exec(entry, arg)
    exe = argv[0]
    path = which_program(exe)
    if not path:
        raise LaunchError(f"{entry.name}'s program {exe!r} is not installed (its desktop entry: "
                          f"{entry.path})")
    return Program(label=entry.name, argv=(path, *argv[1:]), entry=entry, file=target, new_file=new)


def check_file(file: str) -> tuple[Path, bool]:
    """The file to open as an absolute path (~ expanded; relative: from the home folder;
    symlinks resolved), and whether it is new. Refused: an option ("-x"), a URL, a place
    keys or the agent's own files are kept, anything but a file or folder, a missing folder."""
    if file.startswith("-"):
        raise LaunchError(f"a file to open cannot start with '-' (it would be read as an option): "
                          f"{file[:200]}")
    if "://" in file or file.startswith("file:"):
        raise LaunchError(f"open_app opens files on this computer, not URLs: {file[:200]}")
    if "\0" in file:
        raise LaunchError("a file name cannot hold a NUL character")
    path = Path(os.path.expanduser(file))
    if not path.is_absolute():
        path = Path.home() / path
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise LaunchError(f"cannot resolve the file {file[:200]}") from None
    refused = uploads.always_refused(real, doing="opening this file")
    if refused is not None:
        raise LaunchError(refused)
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        if real.parent.is_dir():
            return real, True
        raise LaunchError(f"no such file or folder: {real} (nor its folder {real.parent})") from None
    except OSError as exc:
        raise LaunchError(f"cannot read {real}: {exc.strerror}") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise LaunchError(f"not a file or folder: {real}")
    return real, False


def close_names(app: str, entries: list[DesktopEntry] | None = None, n: int = 5) -> list[str]:
    """A few installed programs whose names are close to `app` (menu names and commands)."""
    pool: dict[str, str] = {}
    for e in desktop_entries() if entries is None else entries:
        for name in (e.name, e.command):
            if name:
                pool.setdefault(_key(name), name)
    for name in path_commands():
        pool.setdefault(_key(name), name)
    key = _key(app)
    near = difflib.get_close_matches(key, list(pool), n=n, cutoff=0.7)
    near += sorted((k for k in pool if len(key) >= 3 and key in k and k not in near), key=len)
    return [pool[k] for k in near[:n]]


def path_commands() -> list[str]:
    out: list[str] = []
    for folder in path_dirs():
        try:
            with os.scandir(folder) as it:
                out += [e.name for e in it if e.is_file() and os.access(e.path, os.X_OK)]
        except OSError:
            continue
    return out


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


# --- starting it --------------------------------------------------------------------------

_CHILDREN: list[subprocess.Popen[bytes]] = []  # kept so that ended ones are reaped, not left as zombies


def children() -> list[subprocess.Popen[bytes]]:
    """The programs started by this process that still run (the ended ones are reaped)."""
    _CHILDREN[:] = [p for p in _CHILDREN if p.poll() is None]
    return list(_CHILDREN)


def spawn(program: Program, display: str, bus: str = "") -> subprocess.Popen[bytes]:
    """Start it on `display`, in a session of its own (it outlives the agent and gets no
    signal meant for it), with nothing to read and nowhere to write but /dev/null. `bus`:
    the D-Bus session its accessibility tree is read on (the desktop session's)."""
    env = {k: v for k, v in os.environ.items() if k not in _AGENT_SECRETS}
    env["DISPLAY"] = display
    if bus:
        env["DBUS_SESSION_BUS_ADDRESS"] = bus
    # Desktop mode works on X: a program must not open on the person's Wayland session instead.
    env.pop("WAYLAND_DISPLAY", None)
    for var in ("GDK_BACKEND", "QT_QPA_PLATFORM"):
        if "wayland" in env.get(var, ""):
            env.pop(var)
    home = Path.home()
    children()  # reap
    try:
        proc = subprocess.Popen(list(program.argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True, env=env,
                                cwd=home if home.is_dir() else None)
    except OSError as exc:
        raise LaunchError(f"could not start {program.describe()}: {exc.strerror or exc}") from None
    _CHILDREN.append(proc)
    return proc


def open_app(action: OpenApp, screen: Screen, *, cap: float = OPEN_CAP) -> str:
    """Start the program and wait for its first window: what happened, for the model."""
    program = resolve(action.app, action.file)
    before = {w.id for w in screen.windows()}
    proc = spawn(program, screen.display, getattr(screen, "session_bus", ""))
    window = wait_for_window(program, proc, screen, before, cap=cap)
    title = f'window "{window.title}"' if window.title else "a window without a title"
    opened = f" with {program.file}" + (" (a new file: it does not exist yet)" if program.new_file else "") \
        if program.file is not None else ""
    return f"opened {program.label}{opened} ({title})"


def wait_for_window(program: Program, proc: subprocess.Popen[bytes], screen: Screen, before: set[int], *,
                    cap: float = OPEN_CAP) -> Window:
    """The program's first window: one whose _NET_WM_PID is the child's (or a descendant's)
    as soon as it has a title; else a new titled window that names no other process. When
    the child exits cleanly at once (it handed the file to a copy of itself already running),
    a new titled window of anyone's, for a short while. LaunchError when it exits with an
    error, or shows nothing within `cap` seconds."""
    deadline = time.monotonic() + cap
    exited_at: float | None = None
    pids = _WindowPids(screen.display)
    try:
        while True:
            code = proc.poll()
            fresh = [w for w in screen.windows() if w.id not in before and not w.popup]
            ours = [w for w in fresh if _descends(pids.pid(w.id), proc.pid)]
            found = next((w for w in ours if w.title), None) or next(
                (w for w in fresh if w.title and (code == 0 or pids.pid(w.id) is None)), None)
            if found is not None:
                return found
            now = time.monotonic()
            if code is not None and code != 0:
                how = f"status {code}" if code > 0 else f"signal {-code}"
                raise LaunchError(f"{program.describe()} exited with {how} before showing a window")
            if code == 0:
                exited_at = exited_at or now
                if now - exited_at >= EXITED_GRACE:
                    raise LaunchError(f"{program.describe()} exited at once (status 0) without showing a "
                                      "window here (a copy of it already running elsewhere may have taken "
                                      "the request)")
            if now >= deadline:
                if ours:
                    return ours[0]
                raise LaunchError(f"{program.describe()} showed no window within {cap:g}s; it is still "
                                  f"running (pid {proc.pid}): wait and look again")
            time.sleep(POLL)
    finally:
        pids.close()


class _WindowPids:
    """_NET_WM_PID of windows, on a connection of its own (opened when first needed)."""

    def __init__(self, display: str) -> None:
        self.display = display
        self._d: Any = None
        self._failed = False

    def pid(self, window_id: int) -> int | None:
        from Xlib import X
        from Xlib.error import XError

        if self._d is None and not self._failed:
            try:
                from Xlib import display as xdisplay

                self._d = xdisplay.Display(self.display)
                self._atom = self._d.intern_atom("_NET_WM_PID")
            except Exception:  # no connection: pids are unknown, titles still tell
                self._failed = True
        if self._d is None:
            return None
        try:
            prop = self._d.create_resource_object("window", window_id).get_full_property(
                self._atom, X.AnyPropertyType)
        except XError:  # the window went away
            return None
        return int(prop.value[0]) if prop is not None and len(prop.value) else None

    def close(self) -> None:
        if self._d is not None:
            self._d.close()
            self._d = None


def _descends(pid: int | None, root: int) -> bool:
    """Whether process `pid` is `root` or one of its descendants (read from /proc)."""
    for _ in range(64):
        if pid is None or pid <= 1:
            return False
        if pid == root:
            return True
        try:
            stat_line = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat_line.rsplit(")", 1)[1].split()[1])  # "pid (comm) state ppid ..."
    return False
