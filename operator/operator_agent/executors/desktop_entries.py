"""Desktop entries (the .desktop files a menu lists programs from): reading them, and
building an argv from an entry's Exec= line, with quoting and field codes as the Desktop
Entry Specification says. Used by launch.py to start programs, never through a shell."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..protocols import ActionError

MAX_ENTRY_BYTES = 256_000
MAX_ENTRIES = 5000  # desktop files read per scan: a huge folder must not stall the agent
_FILE_CODES = frozenset("fFuU")
_DEPRECATED_CODES = frozenset("dDnNvm")


class LaunchError(ActionError):
    """The program cannot be started; the message is for the model (and the person)."""


@dataclass(frozen=True, kw_only=True)
class DesktopEntry:
    id: str  # the desktop file ID: "org.xfce.mousepad"
    name: str  # Name=
    generic: str  # GenericName=, e.g. "Text Editor"
    exec: str  # Exec=, as written
    icon: str
    terminal: bool
    path: Path

    @property
    def command(self) -> str:
        """The program's command name ("mousepad"), "" when the Exec line cannot be read."""
        try:
            args = split_exec(self.exec)
        except ValueError:
            return ""
        return os.path.basename(args[0][0]) if args else ""


def entry_dirs() -> list[Path]:
    """Where desktop entries live, the person's own first (they shadow the system's)."""
    home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    system = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    dirs = [Path(d) / "applications" for d in (home, *system.split(":")) if os.path.isabs(d)]
    return list(dict.fromkeys(dirs))


def desktop_entries() -> list[DesktopEntry]:
    """The programs a menu would list: Hidden, NoDisplay and non-application entries are
    left out, and so is an entry whose TryExec program is missing. The first entry of a
    file ID wins, as the spec says (a Hidden one there hides the system's)."""
    seen: set[str] = set()
    out: list[DesktopEntry] = []
    read = 0
    for base in entry_dirs():
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.desktop")):
            read += 1
            if read > MAX_ENTRIES:
                return out
            entry_id = path.relative_to(base).with_suffix("").as_posix().replace("/", "-")
            if entry_id in seen:
                continue
            seen.add(entry_id)
            entry = read_entry(path, entry_id)
            if entry is not None:
                out.append(entry)
    return out


def read_entry(path: Path, entry_id: str) -> DesktopEntry | None:
    try:
        if path.stat().st_size > MAX_ENTRY_BYTES:
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    keys = _entry_group(text)
    if keys is None or keys.get("Type") != "Application" or not keys.get("Exec"):
        return None
    if keys.get("Hidden") == "true" or keys.get("NoDisplay") == "true":
        return None
    try_exec = keys.get("TryExec", "")
    if try_exec and not is_installed(try_exec):
        return None  # the entry says its program is not installed
    return DesktopEntry(id=entry_id, name=keys.get("Name", entry_id), generic=keys.get("GenericName", ""),
                        exec=keys["Exec"], icon=keys.get("Icon", ""), terminal=keys.get("Terminal") == "true",
                        path=path)


def _entry_group(text: str) -> dict[str, str] | None:
    """The keys of the [Desktop Entry] group (localized ones such as Name[de] included as
    written), or None when there is no such group."""
    keys: dict[str, str] | None = None
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            if group == "Desktop Entry" and keys is None:
                keys = {}
            continue
        if group == "Desktop Entry" and keys is not None and "=" in line:
            key, _, value = line.partition("=")
            keys.setdefault(key.strip(), value.strip())
    return keys


def split_exec(line: str) -> list[tuple[str, bool]]:
    """An Exec= value -> its arguments, each with whether it was quoted. First the string
    escapes (\\s \\n \\t \\r \\\\), then the command line's: double quotes group, and in them
    a backslash escapes " ` $ and itself. ValueError for an unclosed quote."""
    text = re.sub(r"\\([sntr\\])", lambda m: {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}[m[1]],
                  line)
    args: list[tuple[str, bool]] = []
    cur: list[str] = []
    started = quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            started = quoted = True
            i += 1
            while True:
                if i >= len(text):
                    raise ValueError("an unclosed quote")
                c = text[i]
                if c == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
                    cur.append(text[i + 1])
                    i += 2
                    continue
                i += 1
                if c == '"':
                    break
                cur.append(c)
            continue
        if c in " \t\n":
            if started:
                args.append(("".join(cur), quoted))
            cur, started, quoted = [], False, False
        else:
            cur.append(c)
            started = True
        i += 1
    if started:
        args.append(("".join(cur), quoted))
    return args


def expand_exec(entry: DesktopEntry, file: str | None) -> list[str]:
    """The entry's argv with its field codes filled in: the file goes only where a file code
    (%f %F %u %U) stands as a whole, unquoted argument, else at the end when the line has
    none. A file code inside another argument (`sh -c "edit %f"`) would let a file's name
    be read by a shell or as an option, so such an entry opens no file."""
    try:
        args = split_exec(entry.exec)
    except ValueError as exc:
        raise LaunchError(f"{entry.name}'s desktop entry has an Exec line that cannot be read ({exc}): "
                          f"{entry.path}") from None
    out: list[str] = []
    placed = False
    for arg, quoted in args:
        if not quoted and len(arg) == 2 and arg[0] == "%" and arg[1] in _FILE_CODES:
            out += [file] if file is not None else []
            placed = True
        elif not quoted and arg == "%i":
            out += ["--icon", entry.icon] if entry.icon else []
        else:
            text = _expand_codes(arg, entry, file)
            out += [text] if text else []
    if file is not None and not placed:
        out.append(file)
    if not out:
        raise LaunchError(f"{entry.name}'s desktop entry names no program: {entry.path}")
    return out


def _expand_codes(arg: str, entry: DesktopEntry, file: str | None) -> str:
    out: list[str] = []
    i = 0
    while i < len(arg):
        c = arg[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        code = arg[i + 1:i + 2]
        i += 2
        if code == "%":
            out.append("%")
        elif code == "c":
            out.append(entry.name)
        elif code == "k":
            out.append(str(entry.path))
        elif code and code in _FILE_CODES:
            if file is not None:
                raise LaunchError(f"{entry.name} cannot be given a file: its desktop entry puts the file "
                                  f"inside another argument ({arg!r}); start it without one")
        elif not (code and code in _DEPRECATED_CODES):  # deprecated codes are dropped
            raise LaunchError(f"{entry.name}'s desktop entry has an unknown field code %{code} in its Exec "
                              f"line: {entry.path}")
    return "".join(out)


# --- programs on PATH ---------------------------------------------------------------------


def path_dirs() -> list[str]:
    """PATH's absolute folders: a relative one ("." or "bin") would mean whatever folder the
    agent happens to run in."""
    return [d for d in os.environ.get("PATH", os.defpath).split(os.pathsep) if os.path.isabs(d)]


def which_program(name: str) -> str | None:
    """The absolute path of an executable file: `name` itself when absolute, else found in
    PATH's absolute folders; None for a relative path or nothing found."""
    if os.path.isabs(name):
        path: str | None = name
    elif "/" in name:
        return None
    else:
        path = shutil.which(name, path=os.pathsep.join(path_dirs()))
    if path is None or not os.path.isfile(path) or not os.access(path, os.X_OK):
        return None
    return os.path.abspath(path)


def is_installed(name: str) -> bool:
    return which_program(name) is not None
