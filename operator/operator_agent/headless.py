"""A desktop for machines without one: a private virtual X display (Xvfb) and a private
D-Bus session bus, so programs started on it publish their accessibility trees.

    with Xvfb(1280, 800) as display, SessionBus(display) as bus:
        subprocess.Popen(["mousepad"], env={**os.environ, **SessionBus.env(display, bus)})

Each child reports where it listens on a pipe once it is ready (Xvfb -displayfd,
dbus-daemon --print-address), so there is no guessing and no sleeping.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .protocols import ConfigError

ATSPI_LAUNCHERS = ("/usr/libexec/at-spi-bus-launcher", "/usr/lib/at-spi2-core/at-spi-bus-launcher")


class _Reporting:
    """A child process that writes one line (where it listens) to a pipe when it is ready."""

    what = "the program"

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def _spawn(self, argv_with_fd: list[str], write_fd: int, env: dict[str, str] | None) -> None:
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - the child writes to it as long as it runs
        self.proc = subprocess.Popen(argv_with_fd, pass_fds=(write_fd,), stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log, env=env)

    def _launch(self, argv: list[str], fd_arg: str, env: dict[str, str] | None = None) -> str:
        """Start argv with fd_arg's "{fd}" filled in; the line the child reports."""
        read_fd, write_fd = os.pipe()
        try:
            self._spawn([a.replace("{fd}", str(write_fd)) for a in (*argv, fd_arg)], write_fd, env)
        finally:
            os.close(write_fd)
        try:
            return self._read_line(read_fd)
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(read_fd)

    def _read_line(self, fd: int) -> str:
        deadline = time.monotonic() + self.timeout
        got = b""
        while not got.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConfigError(f"{self.what} did not start within {self.timeout:g}s")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 256)
            if not chunk:  # it exited before reporting
                raise ConfigError(f"{self.what} failed to start: {self._tail()}")
            got += chunk
        return got.decode().strip()

    def _tail(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no message"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None


class Xvfb(_Reporting):
    """A private virtual X display: `with Xvfb(1920, 1080) as display: ...`; Xvfb picks a
    free display number itself and reports it."""

    what = "Xvfb"

    def __init__(self, width: int = 1280, height: int = 800, depth: int = 24, *,
                 timeout: float = 15.0) -> None:
        super().__init__(timeout)
        self.size = (width, height, depth)
        self.display = ""

    def start(self) -> str:
        binary = shutil.which("Xvfb")
        if binary is None:
            raise ConfigError("Xvfb is not installed: apt-get install xvfb")
        w, h, d = self.size
        number = self._launch([binary, "-screen", "0", f"{w}x{h}x{d}", "-nolisten", "tcp", "-noreset",
                               "-displayfd"], "{fd}")
        self.display = ":" + number
        return self.display

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SessionBus(_Reporting):
    """A private D-Bus session bus for one display: programs started with `env()` join it, and
    at-spi2-core's launcher, started by the bus when first asked, carries their
    accessibility trees. `with SessionBus(display) as address: ...`."""

    what = "dbus-daemon"

    def __init__(self, display: str, *, timeout: float = 15.0) -> None:
        super().__init__(timeout)
        self.display = display
        self.address = ""

    def start(self) -> str:
        binary = shutil.which("dbus-daemon")
        if binary is None:
            raise ConfigError("dbus-daemon is not installed: apt-get install dbus at-spi2-core")
        # The launcher it starts inherits DISPLAY: it writes the accessibility bus's address
        # on that display's root window too.
        env = {**os.environ, "DISPLAY": self.display}
        self.address = self._launch([binary, "--session", "--nofork", "--nopidfile"], "--print-address={fd}",
                                    env)
        return self.address

    @staticmethod
    def env(display: str, address: str) -> dict[str, str]:
        """What a program started on this display and bus needs in its environment."""
        return {"DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address}

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def accessibility_missing() -> str:
    """What reading accessibility trees needs that this machine lacks ("" when nothing)."""
    missing = []
    if importlib.util.find_spec("dbus_fast") is None:
        missing.append("dbus-fast (pip install 'operator-agent[desktop]')")
    if shutil.which("dbus-daemon") is None:
        missing.append("dbus (apt-get install dbus)")
    if not any(Path(p).exists() for p in ATSPI_LAUNCHERS):
        missing.append("at-spi2-core (apt-get install at-spi2-core)")
    return ", ".join(missing)
