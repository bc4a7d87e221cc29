"""open_app: a program's name resolves only to what is installed (desktop entries, PATH), a
file is one absolute argument never taken from where keys live, and the program really
starts on the display and its first window is named; errors say what went wrong.

Desktop entries and programs are written into temporary XDG and PATH folders; the programs
started are real ones (xcalc, mousepad, small shell scripts) on a private Xvfb."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from desktop_helpers import SCREEN, poll, require

from operator_agent.executors import launch
from operator_agent.executors.launch import LaunchError, resolve, split_exec
from operator_agent.types import OpenApp


@dataclass
class Installed:
    """Temporary folders standing for the person's home, the system's applications and PATH."""

    home: Path
    share: Path
    bin: Path

    def program(self, name: str, body: str = "exit 0") -> Path:
        path = self.bin / name
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
        return path

    def entry(self, file_id: str, *, user: bool = False, **keys: str) -> Path:
        folder = (self.home / ".local/share/applications") if user else (self.share / "applications")
        folder.mkdir(parents=True, exist_ok=True)
        lines = ["[Desktop Entry]", "Type=Application", *(f"{k}={v}" for k, v in keys.items())]
        path = folder / f"{file_id}.desktop"
        path.write_text("\n".join(lines) + "\n")
        return path


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Installed:
    home, share, bin_ = tmp_path / "home", tmp_path / "share", tmp_path / "bin"
    for folder in (home, share, bin_):
        folder.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_DIRS", str(share))
    monkeypatch.setenv("PATH", f"{bin_}{os.pathsep}{os.environ.get('PATH', os.defpath)}")
    for name in ("OPERATOR_POLICY", "OPERATOR_AUDIT_DB", "OPERATOR_VAULT"):
        monkeypatch.delenv(name, raising=False)
    return Installed(home, share, bin_)


# --- resolution ------------------------------------------------------------------------------


def test_an_entry_is_found_by_its_id_name_command_or_generic_name(installed: Installed) -> None:
    exe = installed.program("scribble")
    installed.entry("org.test.Scribble", Name="Scribble", GenericName="Sketch Pad",
                    Exec="scribble --new-window %F", Icon="scribble")
    for name in ("org.test.Scribble", "Scribble", "scribble", " SCRIBBLE ", "sketch  pad"):
        program = resolve(name)
        assert program.argv == (str(exe), "--new-window"), name
        assert program.label == "Scribble" and program.describe() == f"Scribble ({exe})"
    assert resolve("scribble").names() == {"scribble", "org.test.scribble"}
    # A file goes where %F stands, as an absolute path of its own.
    (installed.home / "pad.txt").write_text("x")
    program = resolve("scribble", "pad.txt")  # relative: from the home folder
    assert program.argv == (str(exe), "--new-window", str(installed.home / "pad.txt"))
    assert program.file == installed.home / "pad.txt" and not program.new_file


def test_a_program_on_path_by_its_exact_name(installed: Installed, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = installed.program("tool-x")
    assert resolve("tool-x").argv == (str(exe),)
    # A relative PATH folder would be wherever the agent runs: never searched.
    monkeypatch.chdir(installed.bin.parent)
    monkeypatch.setenv("PATH", f"bin{os.pathsep}/usr/bin")
    with pytest.raises(LaunchError, match="no program called 'tool-x'"):
        resolve("tool-x")
    monkeypatch.setenv("PATH", f"{installed.bin}{os.pathsep}/usr/bin")
    (installed.home / "a.txt").write_text("x")
    assert resolve("tool-x", "~/a.txt").argv == (str(exe), str(installed.home / "a.txt"))
    with pytest.raises(LaunchError, match="not a path"):
        resolve(str(exe))  # a path could be anything anywhere: only what is installed


def test_exec_lines_are_split_and_field_codes_filled_in(installed: Installed) -> None:
    # String escapes first (\s is a space), then quoting: in quotes a backslash escapes a quote.
    assert split_exec(r'prog "two words" "a\sb" "say \\"hi\\"" %U') == [
        ("prog", False), ("two words", True), ("a b", True), ('say "hi"', True), ("%U", False)]
    with pytest.raises(ValueError, match="unclosed quote"):
        split_exec('prog "open')
    exe = installed.program("viewer")
    path = installed.entry("viewer", Name="Viewer", Exec='viewer %i --title "%c" --from %k 100%% %d %u',
                           Icon="viewer-icon")
    (installed.home / "pic.png").write_text("x")
    pic = str(installed.home / "pic.png")
    assert resolve("viewer", pic).argv == (str(exe), "--icon", "viewer-icon", "--title", "Viewer", "--from",
                                           str(path), "100%", pic)
    assert resolve("viewer").argv == (str(exe), "--icon", "viewer-icon", "--title", "Viewer", "--from",
                                      str(path), "100%")
    # No file code: the file is the last argument.
    installed.entry("plain", Name="Plain", Exec="viewer --plain")
    assert resolve("plain", pic).argv == (str(exe), "--plain", pic)
    # A file inside another argument could be read by a shell: such an entry opens no file.
    installed.entry("shelly", Name="Shelly", Exec='sh -c "viewer %f"')
    with pytest.raises(LaunchError, match="inside another argument"):
        resolve("shelly", pic)
    assert resolve("shelly").argv[1:] == ("-c", "viewer ")
    installed.entry("odd", Name="Odd", Exec="viewer %z")
    with pytest.raises(LaunchError, match="unknown field code %z"):
        resolve("odd")


def test_hidden_nodisplay_tryexec_and_terminal_entries(installed: Installed) -> None:
    installed.program("editor")
    installed.entry("editor", Name="Editor", Exec="editor %f")
    installed.entry("editor", user=True, Name="Editor", Exec="editor %f", Hidden="true")  # shadows it
    installed.entry("ghost", Name="Ghost", Exec="editor", NoDisplay="true")
    installed.entry("gone", Name="Gone", Exec="editor", TryExec="not-installed-anywhere")
    names = {e.name for e in launch.desktop_entries()}
    assert names.isdisjoint({"Editor", "Ghost", "Gone"})
    assert resolve("editor").entry is None  # still on PATH, by its exact name
    with pytest.raises(LaunchError, match="no program called 'Ghost'"):
        resolve("Ghost")
    installed.program("termy")
    installed.entry("termy", Name="Termy", Exec="termy", Terminal="true")
    with pytest.raises(LaunchError, match=r"runs inside a terminal \(Terminal=true"):
        resolve("Termy")


def test_one_generic_name_for_several_programs_asks_for_one(installed: Installed) -> None:
    for name in ("alpha", "beta"):
        installed.program(name)
        installed.entry(name, Name=name.title(), GenericName="Image Viewer", Exec=f"{name} %f")
    with pytest.raises(LaunchError, match=r"several programs are a 'image viewer': Alpha .*Beta"):
        resolve("image viewer")


def test_an_unknown_name_suggests_installed_ones(installed: Installed) -> None:
    installed.program("scribble")
    installed.entry("org.test.Scribble", Name="Scribble Pro", Exec="scribble")
    with pytest.raises(LaunchError) as err:
        resolve("scribbel")
    message = str(err.value)
    assert message.startswith("no program called 'scribbel' is installed; installed programs with close "
                              "names:")
    assert "scribble" in message and "Scribble Pro" in message


def test_a_file_is_never_an_option_nor_a_url(installed: Installed) -> None:
    installed.program("editor")
    for bad in ("-rf", "--help", "-"):
        with pytest.raises(LaunchError, match="cannot start with '-'"):
            resolve("editor", bad)
    with pytest.raises(LaunchError, match="not URLs"):
        resolve("editor", "https://example.test/x")
    # A name that looks like an option, as a relative path, is passed as an absolute one.
    (installed.home / "-notes").write_text("x")
    assert resolve("editor", "./-notes").argv[1] == str(installed.home / "-notes")


def test_keys_and_the_agents_own_files_are_refused(installed: Installed) -> None:
    installed.program("editor")
    ssh = installed.home / ".ssh"
    ssh.mkdir()
    (ssh / "id_ed25519").write_text("PRIVATE KEY")
    (installed.home / "innocent.txt").symlink_to(ssh / "id_ed25519")
    policy = installed.home / ".config/operator-agent/policy.toml"
    policy.parent.mkdir(parents=True)
    policy.write_text("version = 1\n")
    for file in ("~/.ssh/id_ed25519", "innocent.txt", str(ssh), str(policy), "~/.gnupg/new.key"):
        with pytest.raises(LaunchError, match="opening this file is never allowed"):
            resolve("editor", file)


def test_a_new_file_needs_its_folder(installed: Installed) -> None:
    installed.program("editor")
    (installed.home / "notes").mkdir()
    program = resolve("editor", "~/notes/today.txt")  # an editor creates it when it saves
    assert program.new_file and program.file == installed.home / "notes/today.txt"
    with pytest.raises(LaunchError, match="no such file or folder"):
        resolve("editor", "~/nowhere/today.txt")


# --- starting programs on a private display ----------------------------------------------------


@dataclass
class _Screen:
    display: str
    list: Any

    def windows(self) -> list[Any]:
        return list(self.list.windows())


@pytest.fixture(scope="module")
def session(tesseract: str) -> Iterator[Any]:
    require("Xvfb", "xvfb")
    from operator_agent.desktop import DesktopSession, Xvfb

    with Xvfb(*SCREEN) as display, DesktopSession(display) as desktop:
        yield desktop


@pytest.fixture
def started() -> Iterator[None]:
    """Stops, by pid, every program a test started (and waits for it to go)."""
    before = {p.pid for p in launch.children()}
    yield
    for proc in launch.children():
        if proc.pid not in before:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


async def test_open_app_starts_xcalc_and_names_its_window(session: Any, started: None) -> None:
    require("xcalc", "x11-apps")
    obs = await session.observe()
    assert "Calculator" not in [t.title for t in obs.tabs]
    result = await session.perform(OpenApp(app="xcalc"), obs)
    assert result.ok, result.error
    assert result.detail == 'opened xcalc (window "Calculator")'
    after = await session.observe()
    assert "Calculator" in [t.title for t in after.tabs]  # the model sees it next
    ours = [p for p in launch.children() if p.args[0] == require("xcalc", "x11-apps")]
    assert ours, "xcalc is running, started by us"


async def test_open_app_opens_a_file_in_mousepad(session: Any, started: None, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    require("mousepad", "mousepad")
    # Its own bus on this display: never handed to a Mousepad of the person's session.
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    result = await session.perform(OpenApp(app="Mousepad", file=str(notes)), await session.observe())
    assert result.ok, result.error
    assert result.detail.startswith(f'opened Mousepad with {notes} (window "')
    assert "notes.txt" in result.detail.split("window", 1)[1]  # its title names the file


async def test_a_program_that_exits_at_once_is_an_error(session: Any, installed: Installed,
                                                        started: None) -> None:
    installed.program("broken", "echo 'cannot start' >&2; exit 3")
    obs = await session.observe()
    result = await session.perform(OpenApp(app="broken"), obs)
    assert not result.ok and result.error is not None
    assert result.error == f"broken ({installed.bin / 'broken'}) exited with status 3 before showing a window"
    # A clean exit without a window (it handed over to a copy elsewhere, or had nothing to show).
    installed.program("quiet")
    installed.entry("quiet", Name="Quiet", Exec="quiet")
    result = await session.perform(OpenApp(app="Quiet"), obs)
    assert not result.ok and "exited at once (status 0) without showing a window" in (result.error or "")


async def test_unknown_and_refused_names_fail_before_anything_starts(session: Any, installed: Installed,
                                                                     started: None) -> None:
    require("xcalc", "x11-apps")
    running = launch.children()
    obs = await session.observe()
    result = await session.perform(OpenApp(app="xcalk"), obs)
    assert not result.ok and "no program called 'xcalk'" in (result.error or "")
    assert "xcalc" in (result.error or "")
    result = await session.perform(OpenApp(app="xcalc", file="--display=:0"), obs)
    assert not result.ok and "cannot start with '-'" in (result.error or "")
    assert launch.children() == running


async def test_no_window_within_the_cap_is_an_error_and_the_program_keeps_running(
        session: Any, installed: Installed, started: None) -> None:
    from operator_agent.perception.screen import WindowList

    installed.program("headless", "exec sleep 60")
    windows = WindowList(session.display)  # what the perceiver gives the executor, on this thread
    try:
        with pytest.raises(LaunchError, match=r"no window within 0.5s; it is still running \(pid \d+\)"):
            launch.open_app(OpenApp(app="headless"), _Screen(session.display, windows), cap=0.5)
    finally:
        windows.close()
    running = [p for p in launch.children() if p.args[0] == str(installed.bin / "headless")]
    assert len(running) == 1 and running[0].poll() is None


async def test_the_program_gets_our_display_and_not_the_agents_secrets(
        session: Any, installed: Installed, started: None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "env.txt"
    monkeypatch.setenv("OPERATOR_VAULT_KEY", "vault-key-123")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-456")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("SOME_SETTING", "kept")
    installed.program("envdump", f"env > {out}; pwd >> {out}; exit 5")
    result = await session.perform(OpenApp(app="envdump"), await session.observe())
    assert not result.ok and "exited with status 5" in (result.error or "")
    lines = poll(lambda: out.exists() and out.read_text().splitlines(), what="the environment dump")
    assert f"DISPLAY={session.display}" in lines and "SOME_SETTING=kept" in lines
    assert not [line for line in lines if line.startswith(("OPERATOR_VAULT_KEY", "OPENAI_API_KEY",
                                                            "WAYLAND_DISPLAY"))]
    assert lines[-1] == str(installed.home)  # started in the home folder, as from a menu


async def test_the_agent_starts_an_allowed_program_and_is_refused_another(session: Any, started: None,
                                                                          tmp_path: Path) -> None:
    """The whole way: a scripted model, the policy gate with nobody to ask, the executor."""
    from operator_agent.agent import Agent, AgentConfig
    from operator_agent.permissions.audit import AuditLog, list_entries
    from operator_agent.permissions.policy import Policy
    from operator_agent.permissions.policy_gate import PolicyGate
    from operator_agent.planner.scripted import ScriptedPlanner

    xcalc, xclock = require("xcalc", "x11-apps"), require("xclock", "x11-apps")
    audit = AuditLog(tmp_path / "audit.db", run_id="open")
    gate = PolicyGate(Policy.default().with_overrides({"allow_apps": ["xcalc"]}), audit=audit,
                      interactive=False)

    def done(text: str) -> dict[str, Any]:
        assert "title: Calculator" in text, text  # the new window is on top
        return {"reasoning": "The calculator is open.", "actions": [{"action": "done", "answer": "open"}]}

    planner = ScriptedPlanner([
        {"reasoning": "Start a clock.", "actions": [{"action": "open_app", "app": "xclock"}]},
        {"reasoning": "Not allowed; a calculator.", "actions": [{"action": "open_app", "app": "xcalc"}]},
        done])
    config = AgentConfig(max_steps=5, runs_dir=tmp_path / "runs", verify=False, screenshots=False)
    agent = Agent(planner=planner, environment=session, gate=gate, config=config)
    result = await agent.run("open a calculator")
    assert result.success, result.message
    refused = planner.prompts[1]
    assert "not allowed: starting xclock" in refused
    assert "(allow it with --allow-app xclock or [desktop] allow_apps in the policy)" in refused  # whole
    assert 'opened xcalc (window "Calculator")' in planner.prompts[2]
    assert [p.args[0] for p in launch.children()] == [xcalc]  # xclock never started
    assert xclock not in str([p.args for p in launch.children()])
    checks = [(e.decision, e.reason) for e in list_entries(tmp_path / "audit.db", run_id="open")]
    assert [d for d, _ in checks] == ["deny", "allow"]
    assert "[desktop] allow_apps" in checks[0][1] and "allow_apps: xcalc" in checks[1][1]
