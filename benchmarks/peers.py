"""The peers the benchmarks compare with, each installed into a virtual environment of its own.

- browser-use:  browser-use==0.13.14
- browsergym:   browsergym-core==0.14.3, browsergym-miniwob==0.14.3, miniwob==1.1.0

The environments live under ~/.cache/operator-agent/peers (or $OPERATOR_PEERS_DIR), one
folder per peer, made with this Python (`sys.executable -m venv`) and filled by that
environment's pip from whatever package index this machine's pip is configured with. When a
pinned release is not on the index, the nearest release there is installed instead, and
said so. Running it again only checks what is there (idempotent).

    .venv/bin/python benchmarks/peers.py              # set up every peer
    .venv/bin/python benchmarks/peers.py browser-use  # only this one

Other benchmarks call `peer_python(name)` for the interpreter to run a peer's driver with.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PEERS: dict[str, tuple[tuple[str, str], ...]] = {
    "browser-use": (("browser-use", "0.13.14"),),
    "browsergym": (("browsergym-core", "0.14.3"), ("browsergym-miniwob", "0.14.3"), ("miniwob", "1.1.0")),
}


class PeerError(RuntimeError):
    """A peer's environment could not be made or filled."""


@dataclass(frozen=True)
class Installed:
    """What one requirement ended up as: the version asked for and the one installed."""

    package: str
    wanted: str
    version: str
    action: str  # "present", "installed", "substituted"


def peers_dir() -> Path:
    """Where the peers' environments live: $OPERATOR_PEERS_DIR, else the user's cache."""
    env = os.environ.get("OPERATOR_PEERS_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "operator-agent" / "peers"


def venv_dir(name: str) -> Path:
    if name not in PEERS:
        raise KeyError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
    return peers_dir() / name


def _venv_python(venv: Path) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def _run(cmd: list[str], *, quiet: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=quiet, text=True, check=False)


def _installed_version(python: Path, package: str) -> str | None:
    code = ("import importlib.metadata as m, sys\n"
            "try:\n    print(m.version(sys.argv[1]))\nexcept m.PackageNotFoundError:\n    pass\n")
    out = _run([str(python), "-c", code, package])
    version = out.stdout.strip()
    return version or None


def _available_versions(python: Path, package: str) -> list[str]:
    """The package's releases on the configured index (pip's own view of it)."""
    out = _run([str(python), "-m", "pip", "index", "versions", package])
    match = re.search(r"^Available versions:\s*(.+)$", out.stdout, re.MULTILINE)
    if not match:
        return []
    return [v.strip() for v in match.group(1).split(",") if v.strip()]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:4]) or (0,)


def nearest(wanted: str, available: list[str]) -> str | None:
    """`wanted` if available, else the closest release (by release numbers), preferring the
    older one on a tie; pre-releases only when nothing else is there."""
    if wanted in available:
        return wanted
    finals = [v for v in available if re.fullmatch(r"[\d.]+", v)] or available
    if not finals:
        return None
    target = _key(wanted)
    width = max(len(target), *(len(_key(v)) for v in finals))

    def distance(v: str) -> tuple[tuple[int, ...], int]:
        a = target + (0,) * (width - len(target))
        b = _key(v) + (0,) * (width - len(_key(v)))
        diff = tuple(abs(x - y) for x, y in zip(a, b, strict=True))
        return diff, 0 if b <= a else 1

    return min(finals, key=distance)


def ensure_venv(name: str) -> Path:
    """The peer's environment, made if missing; its python."""
    venv = venv_dir(name)
    python = _venv_python(venv)
    if python.exists() and _run([str(python), "-m", "pip", "--version"]).returncode == 0:
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    print(f"peers: creating {venv} ({sys.executable} -m venv)", flush=True)
    made = _run([sys.executable, "-m", "venv", "--clear", str(venv)])
    if made.returncode != 0 or not python.exists():
        raise PeerError(f"cannot create the environment {venv}: {made.stderr.strip() or made.stdout.strip()}")
    return python


def ensure_peer(name: str) -> list[Installed]:
    """Make the peer's environment and install its pinned packages (or the nearest
    releases); what is already installed at the chosen version is left alone."""
    python = ensure_venv(name)
    pending: list[tuple[str, str, str]] = []  # package, wanted, chosen
    done: list[Installed] = []
    for package, wanted in PEERS[name]:
        have = _installed_version(python, package)
        if have == wanted:
            done.append(Installed(package, wanted, have, "present"))
            continue
        available = _available_versions(python, package)
        chosen = nearest(wanted, available) if available else wanted
        if chosen is None:
            raise PeerError(f"{package} is not on the configured package index")
        if have == chosen:
            done.append(Installed(package, wanted, have, "present"))
            continue
        pending.append((package, wanted, chosen))
    if pending:
        specs = [f"{package}=={chosen}" for package, _, chosen in pending]
        print(f"peers: {name}: pip install {' '.join(specs)} ...", flush=True)
        out = _run([str(python), "-m", "pip", "install", "--quiet", *specs])
        if out.returncode != 0:
            errors = [line for line in (out.stderr + out.stdout).splitlines()
                      if line.strip() and not line.startswith("WARNING: Location")]
            raise PeerError(f"pip install {' '.join(specs)} failed in {python.parent.parent} "
                            f"(exit {out.returncode}):\n" + "\n".join(errors[-15:]))
        for package, wanted, chosen in pending:
            version = _installed_version(python, package) or chosen
            done.append(Installed(package, wanted, version,
                                  "installed" if version == wanted else "substituted"))
    return done


def peer_python(name: str, *, install: bool = True) -> Path:
    """The interpreter of the peer's environment (set up first unless `install` is False)."""
    if install:
        ensure_peer(name)
    python = _venv_python(venv_dir(name))
    if not python.exists():
        raise PeerError(f"peer {name} is not set up: run benchmarks/peers.py {name}")
    return python


def report(name: str, installed: list[Installed]) -> None:
    print(f"{name}: {venv_dir(name)}")
    for item in installed:
        if item.action == "substituted":
            note = f"{item.version} installed: {item.wanted} is not on the index, this is the nearest release"
        elif item.action == "installed":
            note = f"{item.version} installed"
        elif item.version != item.wanted:
            note = f"{item.version} already installed (instead of {item.wanted}, not on the index)"
        else:
            note = f"{item.version} already installed"
        print(f"  {item.package:20} {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install the benchmarks' peers into their own environments.")
    parser.add_argument("names", nargs="*", metavar="peer",
                        help=f"which peers (default: all of {', '.join(PEERS)})")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in PEERS]
    if unknown:
        parser.error(f"unknown peer {', '.join(unknown)}; known: {', '.join(PEERS)}")
    failed = 0
    for name in args.names or list(PEERS):
        try:
            report(name, ensure_peer(name))
        except PeerError as exc:
            print(f"{name}: not set up: {exc}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
