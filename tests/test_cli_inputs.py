"""Bad input and interruptions at the command line, as the README documents them:
exit 2 with one line for bad input (and no browser, model call or run folder
before it), exit 130 for Ctrl+C with the trace kept."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from operator_agent.agent import Agent
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.protocols import ConfigError
from operator_agent.traces import TRACE_FILE, load_run
from operator_bench.testing.fake_openai import FakeOpenAIServer
from operator_bench.testing.script import find_index, user_text
from test_cli import OPERATOR, _env, cli, closed_port, one_line

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and permissions")


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    """A model that must never be asked: every test here fails before a model call
    unless it scripts replies itself."""
    with FakeOpenAIServer(model="m") as server:
        yield server


def model_flags(fake: FakeOpenAIServer) -> list[str]:
    return ["--model", "m", "--base-url", fake.base_url]


def run_folders(tmp_path: Path) -> list[Path]:
    runs = tmp_path / "runs"
    return sorted(runs.iterdir()) if runs.is_dir() else []


# --- an empty task ---------------------------------------------------------------------


@pytest.mark.parametrize("task", ["", "   ", "\n\t "])
def test_blank_task_is_bad_input(tmp_path: Path, fake: FakeOpenAIServer, pages_server: Any,
                                 task: str) -> None:
    r = cli(tmp_path, "run", task, "--url", pages_server.url("/agent/login.html"), *model_flags(fake))
    assert r.returncode == 2, r.stderr
    assert "task is empty" in one_line(r.stderr)
    assert "Task:" not in r.stderr  # stopped before a browser was opened for it
    assert fake.requests == []  # never sent to the model
    assert run_folders(tmp_path) == []


def test_blank_task_without_a_model_is_bad_input_too(tmp_path: Path) -> None:
    # Without a model, `run` falls back to a taught skill: a blank task must not pick one.
    r = cli(tmp_path, "run", " ")
    assert r.returncode == 2, r.stderr
    assert "task is empty" in one_line(r.stderr)
    assert "replaying a taught skill" not in r.stderr
    assert run_folders(tmp_path) == []


@pytest.mark.parametrize("task", ["", "  \n"])
def test_blank_task_in_the_python_api(tmp_path: Path, task: str) -> None:
    # No environment: run() would launch a browser, so raising first is the point.
    planner = ScriptedPlanner([])
    agent = Agent(planner=planner, start_url="http://127.0.0.1:9/")
    with pytest.raises(ValueError, match="task is empty") as caught:
        agent.run_sync(task)
    assert isinstance(caught.value, ConfigError)  # the CLI turns it into one line and exit 2
    assert planner.prompts == []


async def test_blank_task_in_the_async_api() -> None:
    planner = ScriptedPlanner([])
    with pytest.raises(ValueError, match="task is empty"):
        await Agent(planner=planner, start_url="http://127.0.0.1:9/").run(" ")
    assert planner.prompts == []


# --- an unusable --profile ---------------------------------------------------------------


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


@pytest.mark.parametrize("make_profile", [
    pytest.param(lambda tmp: _file(tmp), id="profile-is-a-file"),
    pytest.param(lambda tmp: _file(tmp) / "profile", id="parent-is-a-file"),
])
def test_profile_that_is_no_folder(tmp_path: Path, fake: FakeOpenAIServer, pages_server: Any,
                                   make_profile: Callable[[Path], Path]) -> None:
    profile = make_profile(tmp_path)
    r = cli(tmp_path, "run", "sign in", "--url", pages_server.url("/agent/login.html"),
            "--profile", str(profile), *model_flags(fake))
    assert r.returncode == 2, r.stderr
    line = one_line(r.stderr)
    assert str(profile) in line and "must be a folder" in line
    assert fake.requests == []
    assert run_folders(tmp_path) == []
    assert (tmp_path / "a-file").read_text() == "not a folder"  # left as it was


def test_observe_with_a_profile_that_is_a_file(tmp_path: Path, pages_server: Any) -> None:
    profile = _file(tmp_path)
    r = cli(tmp_path, "observe", pages_server.url("/agent/login.html"), "--profile", str(profile))
    assert r.returncode == 2, r.stderr
    assert "must be a folder" in one_line(r.stderr)


@POSIX
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root may write anywhere")
def test_profile_in_a_read_only_folder(tmp_path: Path, fake: FakeOpenAIServer, pages_server: Any) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        for profile in (locked, locked / "profile"):  # exists but not writable; cannot be made
            r = cli(tmp_path, "run", "sign in", "--url", pages_server.url("/agent/login.html"),
                    "--profile", str(profile), *model_flags(fake))
            assert r.returncode == 2, r.stderr
            line = one_line(r.stderr)
            assert str(profile) in line and "must be a folder you can write to" in line
    finally:
        locked.chmod(0o700)
    assert run_folders(tmp_path) == []


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs")
def test_profile_where_no_folder_can_be_made(tmp_path: Path, fake: FakeOpenAIServer,
                                              pages_server: Any) -> None:
    # sysfs refuses new folders even to root: an unwritable place on any Linux test machine.
    profile = "/sys/operator-test-profile"
    r = cli(tmp_path, "run", "sign in", "--url", pages_server.url("/agent/login.html"),
            "--profile", profile, *model_flags(fake))
    assert r.returncode == 2, r.stderr
    line = one_line(r.stderr)
    assert profile in line and "must be a folder you can write to" in line
    assert run_folders(tmp_path) == []


# --- an unreachable start page -----------------------------------------------------------


def test_unreachable_url_leaves_no_run_folder(tmp_path: Path, fake: FakeOpenAIServer) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    r = cli(tmp_path, "run", "do it", "--url", url, *model_flags(fake))
    assert r.returncode == 2, r.stderr
    assert f"cannot open {url}" in one_line(r.stderr)
    assert r.stderr.strip() == one_line(r.stderr)  # the only line: no task header before it
    assert fake.requests == []
    assert run_folders(tmp_path) == []


def test_skill_run_at_an_unreachable_url_leaves_no_run_folder(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    r = cli(tmp_path, "skill", "run", "buy-usb-cable", "query=usb-c cable", "max_price=15", "--url", url)
    assert r.returncode == 2, r.stderr
    assert f"cannot open {url}" in one_line(r.stderr)
    assert run_folders(tmp_path) == []


# --- Ctrl+C --------------------------------------------------------------------------------


def _wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen[str],
              timeout: float = 120) -> None:
    """Poll until the condition holds; fail early if the process ends first."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _steps_in_trace(tmp_path: Path) -> int:
    folders = run_folders(tmp_path)
    if not folders or not (folders[0] / TRACE_FILE).is_file():
        return 0
    lines = (folders[0] / TRACE_FILE).read_text(encoding="utf-8").splitlines()
    steps = 0
    for line in lines:
        with contextlib.suppress(ValueError):  # a line being written right now
            steps += json.loads(line).get("type") == "step"
    return steps


class _HeldModel:
    """Step 1 is answered at once; from step 2 on, each reply waits until the test
    releases it, so the run is sure to be mid-step when Ctrl+C arrives."""

    def __init__(self) -> None:
        self.held = threading.Event()  # a step-2 (or later) request is waiting
        self.release = threading.Event()
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            number = self.calls
        if number > 1:
            self.held.set()
            self.release.wait(120)  # bounded, so a failed test cannot hang the server
        text = user_text(body)
        return {"reasoning": "type the name", "actions": [
            {"action": "type", "index": find_index(text, "Username"), "text": f"ada{number}"}]}


class _Stderr:
    """The child's stderr read as it comes, so the test can wait for a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stderr is not None
        self._pipe = proc.stderr
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._pipe:
            self.lines.append(line)

    def has(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def text(self) -> str:
        self._thread.join(30)
        return "".join(self.lines)


@contextlib.contextmanager
def _held_run(tmp_path: Path,
              pages_server: Any) -> Iterator[tuple[_HeldModel, subprocess.Popen[str], _Stderr]]:
    """`operator run` against a model that holds its second reply until released; the
    process never outlives the test."""
    model = _HeldModel()
    with FakeOpenAIServer(model="m", default=model) as fake:
        proc = _start_run(tmp_path, fake, pages_server.url("/agent/login.html"))
        try:
            yield model, proc, _Stderr(proc)
        finally:
            model.release.set()
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _start_run(tmp_path: Path, fake: FakeOpenAIServer, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([OPERATOR, "run", "sign in as ada", "--url", url, "--no-verify",
                             *model_flags(fake)],
                            env=_env(tmp_path), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


@POSIX
def test_one_ctrl_c_stops_after_the_current_action_and_exits_130(tmp_path: Path, pages_server: Any) -> None:
    with _held_run(tmp_path, pages_server) as (model, proc, err):
        _wait_for(lambda: _steps_in_trace(tmp_path) >= 1, "the trace's first step line", proc)
        _wait_for(model.held.is_set, "the model being asked for step 2", proc)
        proc.send_signal(signal.SIGINT)
        _wait_for(lambda: err.has("stopping after the current action"), "the stop notice", proc)
        model.release.set()  # step 2 finishes its action, then the run stops
        proc.wait(120)
    stderr = err.text()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "stopped by the person after 2 steps" in stderr
    [folder] = run_folders(tmp_path)
    run = load_run(folder)
    assert len(run.steps) == 2 and all(s.results and s.results[0].ok for s in run.steps)
    assert run.result is not None and run.result.stop_reason == "stopped"
    assert model.calls == 2  # no step after the stop


@POSIX
def test_second_ctrl_c_stops_at_once_and_exits_130(tmp_path: Path, pages_server: Any) -> None:
    with _held_run(tmp_path, pages_server) as (model, proc, err):
        _wait_for(model.held.is_set, "the model being asked for step 2", proc)
        proc.send_signal(signal.SIGINT)
        # Signals sent together may merge into one: the second goes once the first is seen.
        _wait_for(lambda: err.has("stopping after the current action"), "the stop notice", proc)
        proc.send_signal(signal.SIGINT)  # the model is still held: only this can end the run
        proc.wait(120)
    stderr = err.text()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "stopped at once" in stderr
    [folder] = run_folders(tmp_path)
    run = load_run(folder)
    # Step 1 finished; step 2 is kept as far as it got: cut off while the model was deciding.
    assert [len(s.actions) for s in run.steps] == [1, 0]
    assert run.result is not None and run.result.stop_reason == "stopped"
    assert run.result.message == "interrupted after 2 steps"
