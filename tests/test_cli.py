"""The command line as a person uses it: bad input gets one line and exit code 2,
the demo runs end to end, observe shows what the model sees, Ctrl+C stops cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from operator_agent.traces import TRACE_FILE, load_run
from operator_bench.demo import shop
from operator_bench.testing.fake_openai import FakeOpenAIServer
from operator_bench.testing.script import user_text

OPERATOR = str(Path(sys.executable).with_name("operator"))


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPERATOR_MODEL")}
    env.update(OPERATOR_RUNS_DIR=str(tmp_path / "runs"), COLUMNS="200", **extra)
    return env


def cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPERATOR, *args], capture_output=True, text=True, env=_env(tmp_path, **env),
                          timeout=180, stdin=subprocess.DEVNULL)


def one_line(text: str) -> str:
    """The single error line (progress lines such as the task header may precede it)."""
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.startswith("operator: error")]
    assert len(lines) == 1, text
    return lines[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on exit: connections are refused


def test_unknown_flag(tmp_path: Path) -> None:
    r = cli(tmp_path, "run", "do it", "--bogus")
    assert r.returncode == 2
    assert "unrecognized arguments: --bogus" in one_line(r.stderr)


def test_no_model_configured(tmp_path: Path) -> None:
    r = cli(tmp_path, "run", "do it", "--url", "http://127.0.0.1:9/")
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert "no model is configured" in line and "OPERATOR_MODEL" in line
    assert "buy-usb-cable" in line  # the taught skills it knows


def test_unreachable_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    with FakeOpenAIServer(model="m") as fake:
        r = cli(tmp_path, "run", "do it", "--url", url, "--model", "m", "--base-url", fake.base_url)
    assert r.returncode == 2
    line = one_line(r.stderr)
    assert f"cannot open {url}" in line and "ERR_CONNECTION_REFUSED" in line


def test_bad_max_steps(tmp_path: Path) -> None:
    r = cli(tmp_path, "run", "x", "--max-steps", "0", "--model", "m", "--base-url", "http://127.0.0.1:9/v1")
    assert r.returncode == 2 and "--max-steps" in one_line(r.stderr)


def test_report_of_unknown_run(tmp_path: Path) -> None:
    r = cli(tmp_path, "report", "no-such-run")
    assert r.returncode == 2 and "no run" in one_line(r.stderr)


def test_demo_buys_a_cable_on_the_practice_shop_and_reports(tmp_path: Path) -> None:
    r = cli(tmp_path, "demo")
    assert r.returncode == 0, r.stderr
    assert "Order number · BC-" in r.stdout
    assert "No model configured" in r.stderr and "the shop recorded order BC-" in r.stderr
    price = float(re.search(r"USB-C[^$]*\$(\d+\.\d\d)", r.stderr.split("the shop recorded")[1]).group(1))
    assert price < 15  # what the task asked for, as the server recorded it
    assert "demo1234" not in r.stderr and "4242 4242" not in r.stderr  # typed secrets never shown
    audit = cli(tmp_path, "audit")
    assert audit.returncode == 0
    assert "pre-approved by the policy ([approval] without_asking payment)" in audit.stdout
    rep = cli(tmp_path, "report", "last")
    assert rep.returncode == 0, rep.stderr
    report = Path(rep.stdout.strip())
    assert report.is_file() and "Add to cart" in report.read_text()


def test_observe_prints_what_the_model_sees(tmp_path: Path, pages_server) -> None:
    url = pages_server.url("/agent/login.html")
    shot = tmp_path / "marked.png"
    r = cli(tmp_path, "observe", url, "--screenshot", str(shot))
    assert r.returncode == 0, r.stderr
    assert 'textbox "Username"' in r.stdout and 'button "Sign in"' in r.stdout
    assert "tokens" in r.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    j = cli(tmp_path, "observe", url, "--json")
    data = json.loads(j.stdout)
    assert any(e["name"] == "Sign in" for e in data["elements"])


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_after_current_action_and_keeps_the_trace(tmp_path: Path) -> None:
    second_request = threading.Event()
    release = threading.Event()

    def step_two(body: dict) -> dict:
        second_request.set()
        release.wait(60)  # held until the test has pressed Ctrl+C
        return shop.decide(user_text(body))

    def step(body: dict) -> dict:
        return shop.decide(user_text(body))

    replies = [step, step_two, *[step] * 20]
    with FakeOpenAIServer(replies, model="m") as fake:
        proc = subprocess.Popen([OPERATOR, "demo", "--model", "m", "--base-url", fake.base_url],
                                env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, stdin=subprocess.DEVNULL)
        try:
            assert second_request.wait(120), "the agent never asked for step 2"
            proc.send_signal(signal.SIGINT)
            release.set()
            _, stderr = proc.communicate(timeout=120)
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, stderr  # README: 130 interrupted
    assert "stopping after the current action" in stderr
    assert "stopped by the person after 2 steps" in stderr
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1
    run = load_run(runs[0])
    assert len(run.steps) == 2 and run.result is not None and run.result.stop_reason == "stopped"
    assert (runs[0] / TRACE_FILE).is_file()


def test_a_refused_model_ends_the_run_with_one_line_and_exit_2(tmp_path: Path, pages_server, monkeypatch,
                                                               capsys) -> None:
    """A model server that refuses us for good (here at step 2) ends `operator run` at once."""
    from operator_agent import builder
    from operator_agent import cli as cli_module
    from operator_agent.planner.scripted import ScriptedPlanner
    from operator_agent.protocols import ModelAccessError

    refused = "model 'm' not found at http://127.0.0.1:9/v1: check OPERATOR_MODEL/--model and OPENAI_BASE_URL"
    asked: list[int] = []

    class RefusedAtStep2(ScriptedPlanner):
        async def decide(self, *args, **kwargs):
            asked.append(len(asked) + 1)
            if len(asked) == 2:
                raise ModelAccessError(refused)
            return await super().decide(*args, **kwargs)

    scripted = RefusedAtStep2([{"reasoning": "look", "actions": [{"action": "scroll"}]}] * 5)
    monkeypatch.setattr(builder, "model_planner", lambda **_: scripted)
    code = cli_module.main(["run", "look around", "--url", pages_server.url("/agent/login.html"),
                            "--model", "m", "--base-url", "http://127.0.0.1:9/v1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert one_line(err) == f"operator: error: {refused}"  # no traceback either
    assert asked == [1, 2]  # never asked again
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert f"the trace keeps every finished step: {run_dir}" in err
    run = load_run(run_dir)
    assert [s.step for s in run.steps] == [1]
    assert run.result is not None and run.result.stop_reason == "model_unavailable"
    assert run.result.message == refused


def test_a_401_at_step_2_ends_the_run_with_exit_2(tmp_path: Path, pages_server) -> None:
    """The same end to end: the fake server refuses the key at step 2 (the planner raises
    ModelAccessError); step 1 is kept, the model is not asked again, no traceback."""
    from operator_bench.testing.fake_openai import Fault

    scroll = {"reasoning": "look", "actions": [{"action": "scroll"}]}
    refused = Fault(status=401, code="invalid_api_key", message="Incorrect API key provided.")
    with FakeOpenAIServer([scroll, refused], model="m", default=scroll) as fake:
        r = cli(tmp_path, "run", "look around", "--url", pages_server.url("/agent/login.html"),
                "--model", "m", "--base-url", fake.base_url)
        assert len(fake.requests) == 2
    assert r.returncode == 2, r.stderr
    line = one_line(r.stderr)
    assert "401" in line and "API key" in line
    (run_dir,) = (tmp_path / "runs").iterdir()
    run = load_run(run_dir)
    assert [s.step for s in run.steps] == [1]
    assert run.result is not None and run.result.stop_reason == "model_unavailable"


def test_run_with_a_computer_use_model(tmp_path: Path, pages_server) -> None:
    """`--computer-use`: the model sees screenshots and clicks a canvas no DOM element
    stands for; the click reaches the page (through the gate) and the screenshot after it
    goes back to the model for that call."""
    from operator_bench.testing.fake_openai import Reply, computer_call, output_message

    click = {"type": "click", "button": "left", "x": 150, "y": 100}
    replies = [Reply(content="", output=[computer_call(click, call_id="call_1")]),
               Reply(content="", output=[output_message("I pressed the button.")])]
    mark = len(pages_server.log)
    with FakeOpenAIServer(replies, model="m") as fake:
        r = cli(tmp_path, "run", "press the big button", "--url", pages_server.url("/agent/big_button.html"),
                "--model", "m", "--base-url", fake.base_url, "--computer-use", "--no-verify")
        sent = list(zip(fake.paths, fake.requests, strict=True))
    assert r.returncode == 0, r.stdout + r.stderr
    pressed = [q for q in pages_server.log[mark:] if q.path.endswith("pressed.txt")]
    assert [(q.query["x"], q.query["y"]) for q in pressed] == [(["150"], ["100"])]
    assert [p for p, _ in sent] == ["/v1/responses", "/v1/responses"]
    tool = sent[0][1]["tools"][0]
    assert tool["type"] == "computer_use_preview" and tool["environment"] == "browser"
    [output] = [i for i in sent[1][1]["input"] if i.get("type") == "computer_call_output"]
    assert output["call_id"] == "call_1"
    assert output["output"]["image_url"].startswith("data:image/png;base64,")
