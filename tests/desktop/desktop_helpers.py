"""Helpers shared by the desktop tests and their fixtures (conftest.py): finding or
installing the tools, waiting for a condition with a deadline."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FORM_APP = Path(__file__).with_name("form_app.py")
FORM_TITLE = "Operator Test Form"
SCREEN = (1280, 800)


def apt_install(package: str) -> bool:
    if os.geteuid() != 0 or not Path("/etc/debian_version").exists() or not shutil.which("apt-get"):
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        got = subprocess.run(["apt-get", "install", "-y", "-q", package], env=env, capture_output=True,
                             timeout=900)
        if got.returncode != 0:  # the package lists may be missing on a fresh machine
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=900)
            got = subprocess.run(["apt-get", "install", "-y", "-q", package], env=env,
                                 capture_output=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return got.returncode == 0


def require(binary: str, package: str) -> str:
    path = shutil.which(binary) or (apt_install(package) and shutil.which(binary))
    if not path:
        pytest.skip(f"{binary} is not installed and could not be installed (apt-get install {package})")
    return path


def poll(check: Callable[[], Any], *, timeout: float = 15.0, what: str = "the condition") -> Any:
    """Wait until check() returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.02)
