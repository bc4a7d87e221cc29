"""Files and folders only their owner can read: the person's databases, run
folders, traces and reports hold what they did, where and with which accounts.

Modes are set explicitly (chmod after creating), so a permissive umask never
widens them, and a file or folder left readable by an older version is
tightened when it is opened again.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path | str, *, tighten: bool = True) -> Path:
    """Create `path` (and missing parents) owner-only; with `tighten`, an existing
    folder is made owner-only too (only for folders that are ours alone)."""
    target = Path(path)
    missing = []
    for folder in (target, *target.parents):
        if folder.exists():
            break
        missing.append(folder)
    target.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    for folder in missing:  # mkdir's mode is cut by the umask, and parents get the default
        _chmod(folder, DIR_MODE)
    if tighten:
        _chmod(target, DIR_MODE)
    return target


def private_file(path: Path | str) -> Path:
    """Make sure `path` exists and is owner-only (created empty if missing)."""
    target = Path(path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            _fchmod(fd)
    finally:
        os.close(fd)
    return target


def tighten(path: Path | str) -> None:
    """An existing file made owner-only; a missing one is left missing."""
    with contextlib.suppress(FileNotFoundError):
        _chmod(Path(path), FILE_MODE)


def create_private(path: Path | str) -> int:
    """A new file, owner-only, opened for writing; FileExistsError if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    return fd


def write_private(path: Path | str, data: bytes) -> None:
    """Write `data` to `path` (replacing what was there), owner-only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        _fchmod(fd)  # an existing file keeps its old mode otherwise
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(data)
    finally:
        os.close(fd)


def _chmod(path: Path, mode: int) -> None:
    if os.name == "nt":  # Windows has no POSIX modes; the profile folder is private already
        return
    if stat.S_IMODE(path.stat().st_mode) != mode:
        os.chmod(path, mode)


def _fchmod(fd: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, FILE_MODE)
