"""Fixtures for the desktop tests: a private Xvfb display, the Tk form program,
and a DesktopSession on that display.

Xvfb, Tesseract and a Python with tkinter are real. When one is missing and we
are root on Debian, it is installed (the install script does the same); the
tests are skipped, with the reason, only when that is not possible.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from desktop_helpers import FORM_APP, FORM_TITLE, SCREEN, apt_install, poll, require


@pytest.fixture(scope="session")
def tesseract() -> str:
    return require("tesseract", "tesseract-ocr")


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    require("Xvfb", "xvfb")
    from operator_agent.desktop import Xvfb

    with Xvfb(*SCREEN) as display:
        yield display


@pytest.fixture(scope="session")
def tk_python() -> str:
    """A Python whose tkinter works: ours, else Debian's python3 with python3-tk (the app
    under test is a separate program, so any Python will do)."""

    def works(python: str) -> bool:
        return subprocess.run([python, "-c", "import tkinter"], capture_output=True).returncode == 0

    for python in (sys.executable, "/usr/bin/python3"):
        if Path(python).exists() and works(python):
            return python
    if apt_install("python3-tk") and works("/usr/bin/python3"):
        return "/usr/bin/python3"
    pytest.skip("no Python with tkinter to run the test program (apt-get install python3-tk)")


@pytest.fixture(scope="session")
def desktop(xvfb_display: str, tesseract: str) -> Iterator[Any]:
    from operator_agent.desktop import DesktopSession

    session = DesktopSession(xvfb_display)
    yield session
    session.close()


@dataclass
class FormApp:
    proc: subprocess.Popen[bytes]
    output: Path

    def saved(self, timeout: float = 10.0) -> dict[str, Any]:
        poll(self.output.exists, timeout=timeout, what=f"{self.output} to be written")
        return json.loads(self.output.read_text())


def _titles(display: str) -> list[str]:
    from operator_agent.perception.screen import WindowList

    windows = WindowList(display)
    try:
        return [w.title for w in windows.windows()]
    finally:
        windows.close()


def _wait_drawn(display: str) -> None:
    """Mapped is not drawn: wait for two equal screenshots in a row."""
    from operator_agent.perception.screen import ScreenCapture, same_screen

    capture = ScreenCapture(display)
    try:
        shots = [capture.grab()]

        def still() -> bool:
            shots.append(capture.grab())
            return same_screen(shots[-2], shots[-1]) and bool(shots[-1].any())

        poll(still, what="the screen to settle")
    finally:
        capture.close()


@pytest.fixture
def form_app(xvfb_display: str, tk_python: str, tmp_path: Path) -> Iterator[FormApp]:
    """The Tk form, open and drawn, at the top-left of the screen; closed afterwards."""
    output = tmp_path / "form.json"
    proc = subprocess.Popen([tk_python, str(FORM_APP), str(output)],
                            env={**os.environ, "DISPLAY": xvfb_display},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        poll(lambda: FORM_TITLE in _titles(xvfb_display) or proc.poll() is not None,
             what="the form window")
        if proc.poll() is not None:
            raise AssertionError(f"the form app exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        _wait_drawn(xvfb_display)
        yield FormApp(proc, output)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        poll(lambda: FORM_TITLE not in _titles(xvfb_display), what="the form window to close")
