"""`operator run` starts the browser while the rest of start-up runs (launch.Launch). A
start-up that fails elsewhere (the policy file, the model's set-up) still leaves no
browser behind, the launched browser is the session's to close, and its first tab is
guarded like any other (the wire tests with a launch are in tests/security)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from operator_agent import builder, cli, launch
from operator_agent.launch import BrowserHandle, BrowserOptions, Launch
from operator_agent.protocols import ConfigError
from operator_agent.session import BrowserSession

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def browser_processes() -> set[int]:
    """This process's live descendants that are a browser's main process or Playwright's
    driver (a Chromium helper may outlive its browser for a moment: not counted)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended while we looked
        if fields[0] != "Z":  # a zombie has ended already
            parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor is not None and ancestor != 0:
            if ancestor == _SELF:
                try:
                    cmdline = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
                except OSError:
                    break
                words = [w.decode(errors="replace") for w in cmdline]
                main_browser = "chrom" in words[0] and not any(w.startswith("--type=") for w in words)
                driver = any(w.endswith("cli.js") for w in words) and "run-driver" in words
                if main_browser or driver:
                    found.add(pid)
                break
            ancestor = parents.get(ancestor)
    return found


_SELF = int(Path("/proc/self").resolve().name)


class Launches:
    """The browsers launched (launch.open_browser), and an event set once one is up."""

    def __init__(self) -> None:
        self.started: list[BrowserOptions | None] = []
        self.up = threading.Event()


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch) -> Launches:
    seen = Launches()
    real = launch.open_browser

    async def spy(options: BrowserOptions | None = None) -> BrowserHandle:
        seen.started.append(options)
        handle = await real(options)
        seen.up.set()
        return handle

    monkeypatch.setattr(launch, "open_browser", spy)
    return seen


def run(tmp_path: Path, *flags: str) -> int:
    return cli.main(["run", "sign in", "--url", "http://127.0.0.1:9/", "--model", "m",
                     "--base-url", "http://127.0.0.1:9/v1", "--prefs-db", str(tmp_path / "prefs.db"),
                     "--runs-dir", str(tmp_path / "runs"), *flags])


def test_a_bad_policy_file_leaves_no_browser(tmp_path: Path, launches: Launches,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[domains\nallow = [", encoding="utf-8")
    before = browser_processes()
    assert run(tmp_path, "--policy", str(policy)) == 2
    assert launches.started, "the browser was not started early"
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("operator: error")]
    assert len(errors) == 1 and f"{policy}: not valid TOML" in errors[0], errors
    assert browser_processes() - before == set()
    assert list(tmp_path.glob("runs/*")) == []  # the run never started


def test_a_model_set_up_failing_after_the_browser_is_up_closes_it(
        tmp_path: Path, launches: Launches, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The planner is made (in a thread) while the browser starts; here it fails only once
    the browser is up, so the browser is there to be left behind."""

    def failing_planner(**_: Any) -> Any:
        assert launches.up.wait(timeout=60), "the browser never came up"
        raise ConfigError("the model's set-up failed")

    monkeypatch.setattr(builder, "model_planner", failing_planner)
    before = browser_processes()
    assert run(tmp_path) == 2
    assert "operator: error: the model's set-up failed" in capsys.readouterr().err
    assert browser_processes() - before == set()


async def test_the_session_closes_the_browser_it_was_handed(pages_server: Any) -> None:
    before = browser_processes()
    started = Launch(BrowserOptions())
    async with BrowserSession.open(started, start_url=pages_server.url("/agent/login.html")) as env:
        handle = env.handle
        assert handle is not None and browser_processes() - before
        assert env.executor.page is not None and len(handle.context.pages) == 1  # the launch's own tab
    assert not handle.browser.is_connected()  # type: ignore[union-attr]
    assert browser_processes() - before == set()
    await started.discard()  # taken: nothing more to close, and no error


async def test_a_launch_nobody_took_is_closed_by_discard() -> None:
    before = browser_processes()
    started = Launch(BrowserOptions())
    handle = await started._task  # up, and not taken
    assert browser_processes() - before
    await started.discard()
    assert not handle.browser.is_connected()  # type: ignore[union-attr]
    assert browser_processes() - before == set()


async def test_a_failed_launch_raises_where_the_session_takes_it(tmp_path: Path) -> None:
    profile = tmp_path / "a-file"
    profile.write_text("not a folder")
    started = Launch(BrowserOptions(profile_dir=profile))
    with pytest.raises(ConfigError, match="is a file"):
        async with BrowserSession.open(started):
            pass
    await started.discard()  # the failure was reported once, where it was taken
