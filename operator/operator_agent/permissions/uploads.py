"""Which local files may be attached to a page.

An uploaded file leaves the machine: the page's own script can read it and send
it anywhere. So a file goes only from a folder the person allowed ([uploads]
allow_folders, --allow-uploads), else the person is asked (a run nobody watches
refuses). Paths are resolved first (symlinks, "..", "~"), so a link in an allowed
folder to ~/.ssh is judged as ~/.ssh. Some places are refused whatever the policy
says: the agent's own files (vault, policy, audit log, preferences) and the usual
homes of keys and credentials.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from . import paths

# Under the home folder: keys, credentials and browser profiles (cookies, saved passwords).
_HOME_SECRETS = (".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker", ".netrc", ".pgpass",
                 ".password-store", ".git-credentials", ".npmrc", ".pypirc", ".config/gcloud",
                 ".config/gh", ".local/share/keyrings", ".mozilla", ".config/google-chrome",
                 ".config/chromium", ".config/BraveSoftware", "Library/Keychains",
                 "Library/Application Support/Google/Chrome", "Library/Application Support/Firefox")
_SYSTEM_SECRETS = ("/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ssh", "/proc", "/sys", "/dev")


class UploadRefused(Exception):
    """The file cannot be uploaded; the message is safe to show the model."""


@dataclass(frozen=True)
class UploadCheck:
    decision: Literal["allow", "ask", "deny"]
    reason: str
    path: Path | None = None  # the resolved file, when there is one


def resolve_upload(path: str) -> Path:
    """The real file behind `path` (symlinks and ".." resolved); UploadRefused when
    there is no such regular file."""
    try:
        real = Path(os.path.expanduser(path)).resolve(strict=True)
        mode = real.stat().st_mode
    except (OSError, RuntimeError, ValueError):  # missing, a symlink loop, a NUL in the name
        raise UploadRefused(f"no such file to upload: {path[:200]}") from None
    if not stat.S_ISREG(mode):
        raise UploadRefused(f"not a regular file, cannot upload: {path[:200]}")
    return real


def protected_places() -> list[Path]:
    """Where nothing is ever uploaded from, resolved."""
    from ..preferences.db import default_path as prefs_path

    home = Path.home()
    places = [paths.vault_path(), paths.config_dir(), paths.data_dir(), paths.policy_path(),
              paths.audit_path(), prefs_path(), *(home / p for p in _HOME_SECRETS),
              *(Path(p) for p in _SYSTEM_SECRETS)]
    return [_real(p) for p in places]


def always_refused(real: Path, *, doing: str = "uploading this file") -> str | None:
    """Why `real` (a resolved path) may never be uploaded (or be the object of what `doing`
    says, e.g. "opening this file" for a program started on the desktop), or None."""
    for place in protected_places():
        if real == place or place in real.parents:
            # The why first: the model is shown the start of a long message only.
            return (f"{doing} is never allowed, it is where keys, credentials or the "
                    f"agent's own files are kept ({place}): {real}")
    return None


def in_folders(real: Path, folders: Sequence[Path]) -> Path | None:
    """The allowed folder `real` lies in (folders are resolved here), or None."""
    for folder in folders:
        place = _real(folder)
        if place in real.parents:
            return place
    return None


def check_upload(path: str, allowed: Sequence[Path]) -> UploadCheck:
    """allow: in an allowed folder; ask: anywhere else; deny: no such file, or a
    protected place (whatever the policy allows)."""
    try:
        real = resolve_upload(path)
    except UploadRefused as exc:
        return UploadCheck("deny", str(exc))
    refused = always_refused(real)
    if refused is not None:
        return UploadCheck("deny", refused, real)
    folder = in_folders(real, allowed)
    if folder is not None:
        return UploadCheck("allow", f"{real} is in {folder}, allowed for uploads", real)
    where = ", ".join(str(f) for f in allowed) or "none"
    return UploadCheck("ask", f"{real} is not in a folder allowed for uploads (allowed: {where})", real)


def _real(path: Path) -> Path:
    try:
        return Path(os.path.expanduser(path)).resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(os.path.expanduser(path)))
