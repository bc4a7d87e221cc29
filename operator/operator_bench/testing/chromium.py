"""A Chromium of the person's own for tests of `--cdp-url`: started with remote debugging,
its port read from what it prints once it is ready."""

from __future__ import annotations

import subprocess
from pathlib import Path

from operator_agent.launch import DEBIAN_CHROMIUM, QUIET_ARGS, find_chromium


def debuggable_chromium(user_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    """(the process, its DevTools port); the caller stops the process."""
    exe = find_chromium() or DEBIAN_CHROMIUM
    proc = subprocess.Popen([exe, "--headless", "--no-sandbox", *QUIET_ARGS, f"--user-data-dir={user_dir}",
                             "--remote-debugging-port=0", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    for raw in proc.stderr:  # "DevTools listening on ws://127.0.0.1:PORT/..." once it is ready
        line = raw.decode(errors="replace")
        if "DevTools listening on" in line:
            return proc, int(line.split("127.0.0.1:")[1].split("/")[0])
    proc.kill()
    raise AssertionError("chromium did not start with remote debugging")
