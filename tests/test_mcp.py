"""`operator mcp`: the agent as an MCP server, driven by the `mcp` package's own client.

The server runs as a subprocess (the venv's `operator mcp`) over stdio, the fake model
server answers as the model, the practice shop and Chromium are real. The person is a
pty standing in for their terminal (`--ask-on`, a flag of the server's command line: the
person's, never a tool's): a purchase is asked there, never of the MCP client, and the
shop records an order only when the person said yes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import select
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from operator_bench.demo import shop
from operator_bench.testing.fake_openai import FakeOpenAIServer
from operator_bench.testing.script import user_text

OPERATOR = str(Path(sys.executable).with_name("operator"))
TOOLS = {"run_task", "observe", "list_skills", "run_skill", "get_preferences", "add_preference"}
PROMPT = "Allow this? [y/N]"


class PersonsTerminal:
    """A pty standing in for the person's terminal: every approval question shown on it is
    answered with `answer` (the test can change it between runs; None: never answered)."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()  # the slave stays open: the server opens it by name
        self.device = os.ttyname(self._slave)
        self.answer: str | None = "y"
        self.shown = ""
        self.questions = 0
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._read, name="person", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._closing.is_set():
            if not select.select([self.master], [], [], 0.1)[0]:  # wakes to notice close()
                continue
            try:
                chunk = os.read(self.master, 4096).decode("utf-8", errors="replace")
            except OSError:
                return
            with self._changed:
                self.shown += chunk
                while self.shown.count(PROMPT) > self.questions:  # a new question on the screen
                    self.questions += 1
                    if self.answer is not None:
                        os.write(self.master, f"{self.answer}\n".encode())
                self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 30) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: text in self.shown, timeout)

    def close(self) -> None:
        self._closing.set()
        self._thread.join()
        os.close(self.master)
        os.close(self._slave)


class SeenByClient:
    """Everything the server sends the client besides results: questions (elicitation,
    sampling, roots) would land here, and progress notifications."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.progress: list[tuple[float, float | None, str | None]] = []

    async def elicitation(self, context: Any, params: types.ElicitRequestParams) -> types.ErrorData:
        self.requests.append(f"elicitation: {params}")
        return types.ErrorData(code=-32600, message="this client never approves")

    async def sampling(self, context: Any, params: types.CreateMessageRequestParams) -> types.ErrorData:
        self.requests.append(f"sampling: {params}")
        return types.ErrorData(code=-32600, message="no sampling here")

    async def roots(self, context: Any) -> types.ErrorData:
        self.requests.append("roots")
        return types.ErrorData(code=-32600, message="no roots here")

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.progress.append((progress, total, message))


@contextlib.asynccontextmanager
async def serve(tmp_path: Path, *args: str, **env: str) -> AsyncIterator[tuple[Client, SeenByClient, Path]]:
    """`operator mcp ARGS` over stdio, with the MCP package's client; the server's stderr is
    kept in a file (yielded) so that tests can check it never shows a traceback."""
    sees = SeenByClient()
    log = tmp_path / "server-stderr.txt"
    params = StdioServerParameters(command=OPERATOR, args=["mcp", *args], env={**os.environ, **env})
    with log.open("w") as errlog:
        client = Client(stdio_client(params, errlog=errlog), elicitation_callback=sees.elicitation,
                        sampling_callback=sees.sampling, list_roots_callback=sees.roots,
                        read_timeout_seconds=180)
        async with asyncio.timeout(240), client:
            yield client, sees, log
    assert "Traceback" not in log.read_text()


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def test_the_tools_over_stdio_with_no_model(tmp_path: Path, pages_server) -> None:
    async with serve(tmp_path, "--ask-on", "none", "--deny-domain", "blocked.test") as (client, sees, _):
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == TOOLS
        # What a caller can pass: nothing that approves, allows or changes the policy.
        assert {n: set(t.input_schema.get("properties", {})) for n, t in tools.items()} == {
            "run_task": {"task", "url", "max_steps"}, "observe": {"url"}, "list_skills": set(),
            "run_skill": {"name", "parameters", "url"}, "get_preferences": set(), "add_preference": {"text"}}

        seen = await client.call_tool("observe", {"url": pages_server.url("/agent/login.html")})
        assert not seen.is_error, text_of(seen)
        page = seen.structured_content
        assert 'textbox "Username"' in page["text"] and 'button "Sign in"' in page["text"]
        assert page["elements"] >= 3 and page["tokens"] > 0

        for url, error in [("file:///etc/passwd", "only http and https"),
                           ("http://blocked.test/", "not allowed")]:
            refused = await client.call_tool("observe", {"url": url})
            assert refused.is_error and error in text_of(refused)

        skills = (await client.call_tool("list_skills")).structured_content["result"]
        cable = next(s for s in skills if s["name"] == shop.SKILL)
        secrets = [p for p in cable["parameters"] if p["type"] == "secret"]
        assert "password" in {p["name"] for p in secrets} and all(p["example"] is None for p in secrets)
        for args, error in [({"name": "no-such-skill"}, "no skill named 'no-such-skill'"),
                            ({"name": shop.SKILL, "parameters": {"hue": "red"}}, "has no parameter hue")]:
            refused = await client.call_tool("run_skill", args)
            assert refused.is_error and error in text_of(refused)

        added = await client.call_tool("add_preference", {"text": "I prefer aisle seats"})
        assert not added.is_error, text_of(added)
        (pref,) = added.structured_content["result"]
        listed = (await client.call_tool("get_preferences")).structured_content["result"]
        assert pref in listed and "aisle" in pref["text"].lower()

        no_model = await client.call_tool("run_task", {"task": "buy a cable"})
        assert no_model.is_error and "no model configured" in text_of(no_model)
        blank = await client.call_tool("run_task", {"task": "   "})
        assert blank.is_error and "the task is empty" in text_of(blank)
    assert sees.requests == []


def _verifying(body: dict[str, Any]) -> bool:
    """The model's check of the final page (its schema is named so), not a step's decision."""
    return "verif" in json.dumps([body.get("response_format"), body.get("tools"), body.get("tool_choice")])


def shopper(body: dict[str, Any]) -> dict[str, Any]:
    """The model: the practice shop's scripted buyer; it gives up when the payment is refused."""
    if _verifying(body):
        return {"ok": True, "reason": "the page confirms the order"}
    text = user_text(body)
    if "not approved by the person" in text or "not allowed:" in text:
        give_up = {"action": "done", "success": False, "answer": "Not bought: the payment was refused."}
        return {"reasoning": "The payment was refused.", "actions": [give_up]}
    return shop.decide(text)


def _orders(sites: Any) -> list[dict[str, Any]]:
    return sites.state("shop")["orders"]


async def test_a_purchase_is_asked_of_the_person_never_of_the_client(tmp_path: Path, sites) -> None:
    person = PersonsTerminal()
    try:
        with FakeOpenAIServer(model="m", default=shopper) as fake:
            async with serve(tmp_path, "--ask-on", person.device, "--max-steps", "25",
                             OPERATOR_MODEL="m", OPENAI_BASE_URL=fake.base_url) as (client, sees, _):
                bought = await client.call_tool("run_task", {"task": shop.TASK, "url": sites.shop_url + "/"},
                                                progress_callback=sees.on_progress)
                assert not bought.is_error, text_of(bought)
                outcome = bought.structured_content
                assert outcome["success"] and outcome["stop_reason"] == "done", outcome
                (order,) = _orders(sites)
                assert order["number"] in outcome["answer"]
                assert outcome["approvals_asked"] == outcome["approvals_given"] == person.questions >= 1
                assert "Purchase at" in person.shown and "USB-C" in person.shown
                assert Path(outcome["run_dir"], "trace.jsonl").is_file()

                # Progress: a notification per finished step, and one while the person was asked.
                messages = [m or "" for _, _, m in sees.progress]
                values = [p for p, _, _ in sees.progress]
                assert values == sorted(values) and len(set(values)) == len(values)
                steps = [m for m in messages if re.match(r"step \d+: ", m) and "waiting" not in m]
                assert [int(m.split()[1].rstrip(":")) for m in steps] == list(range(1, outcome["steps"] + 1))
                assert any("waiting for the person" in m for m in messages)
                assert any("the person approved" in m for m in steps)
                assert all(total == 25 for _, total, _ in sees.progress)

                # The same purchase again, and the person says no: no order.
                person.answer = "n"
                declined = await client.call_tool("run_task", {"task": shop.TASK,
                                                               "url": sites.shop_url + "/"})
                outcome = declined.structured_content
                assert not outcome["success"] and outcome["approvals_asked"] >= 1
                assert outcome["approvals_given"] == 0
                assert len(_orders(sites)) == 1
    finally:
        person.close()
    # Never the client: no question reached it, and what the person was shown stayed with them.
    assert sees.requests == []
    said = json.dumps([sees.progress, bought.model_dump(), declined.model_dump()])
    assert PROMPT not in said and "Purchase at" not in said and "approval id" not in said


async def test_with_nobody_to_ask_nothing_is_bought(tmp_path: Path, sites) -> None:
    with FakeOpenAIServer(model="m", default=shopper) as fake:
        async with serve(tmp_path, "--ask-on", "none", "--max-steps", "25",
                         OPERATOR_MODEL="m", OPENAI_BASE_URL=fake.base_url) as (client, sees, log):
            ran = await client.call_tool("run_task", {"task": shop.TASK, "url": sites.shop_url + "/"},
                                         progress_callback=sees.on_progress)
    outcome = ran.structured_content
    assert not ran.is_error and not outcome["success"], outcome
    assert outcome["approvals_asked"] == 0 and _orders(sites) == []
    assert "nobody can approve" in log.read_text()  # what the server said at start
    assert sees.requests == [] and not any("waiting" in (m or "") for _, _, m in sees.progress)


async def test_streamable_http_lists_the_tools_and_refuses_web_pages(tmp_path: Path) -> None:
    proc = subprocess.Popen([OPERATOR, "mcp", "--http", "--port", "0", "--ask-on", "none"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=os.environ.copy())
    try:
        url = token = ""
        while not url:
            line = await asyncio.wait_for(asyncio.to_thread(proc.stderr.readline), 60)  # type: ignore[union-attr]
            assert line, "the server ended before it listened"
            found = re.search(r"streamable HTTP at (http://127\.0\.0\.1:\d+/mcp).*Bearer (\S+)", line)
            url, token = found.groups() if found else ("", "")
        bearer = {"Authorization": f"Bearer {token}"}
        transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=bearer))
        async with asyncio.timeout(60), Client(transport) as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        listing = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}'
        plain = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        # Another local process that was not given the token; a web page (any page the person's
        # browser shows, even on localhost), which sends an Origin even with the token.
        for headers, status in [(plain, 401), ({**plain, "Authorization": "Bearer guessed"}, 401),
                                ({**plain, **bearer, "Origin": url.rsplit("/", 1)[0]}, 403)]:
            request = urllib.request.Request(url, method="POST", data=listing, headers=headers)
            with pytest.raises(urllib.error.HTTPError) as refused:
                await asyncio.to_thread(urllib.request.urlopen, request, timeout=30)
            assert refused.value.code == status, headers
    finally:
        proc.terminate()
        proc.wait(30)
        if proc.stderr is not None:
            proc.stderr.close()


@pytest.mark.parametrize(("args", "error"), [
    (["--ask-on", "/nonexistent/tty"], "--ask-on /nonexistent/tty: not a terminal"),
    (["--max-steps", "0"], "--max-steps must be at least 1"),
    (["--http", "--port", "70000"], "--port 70000 is not a port"),
    (["--ask-timeout", "-1"], "is not a number of seconds"),
])
def test_bad_server_flags_are_one_line(tmp_path: Path, args: list[str], error: str) -> None:
    r = subprocess.run([OPERATOR, "mcp", *args], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL, env=os.environ.copy())
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = [x for x in r.stderr.splitlines() if x.startswith("operator: error")]
    assert error in line


async def test_the_persons_terminal_takes_only_an_answer_to_the_question_shown() -> None:
    from operator_agent.service.person import PersonTerminal
    from operator_agent.types import Verdict, Wait

    assert PersonTerminal.open("none") is None and PersonTerminal.open(os.devnull) is None
    pty = PersonsTerminal()
    person = PersonTerminal.open(pty.device, timeout=0.5)
    assert person is not None
    verdict = Verdict(decision="ask", reason="a payment",
                      summary="Purchase at shop\x1b[2J\n  amount: 9.99 USD")
    try:
        pty.answer = None
        os.write(pty.master, b"y\n")  # typed before any question was shown: never an answer
        assert await asyncio.to_thread(pty.wait_for, "y\r\n")  # echoed: the terminal has it
        assert await person.approver("buy a cable").approve(verdict, Wait()) is False
        assert await asyncio.to_thread(pty.wait_for, "no answer in 0.5s: taken as no")
        pty.answer = "yes"
        assert await person.approver("buy a cable").approve(verdict, Wait()) is True
        assert pty.questions == 2
        assert "for a task an MCP client gave: buy a cable" in pty.shown and "amount: 9.99 USD" in pty.shown
        assert "\x1b[2J" not in pty.shown  # page text cannot draw on the person's terminal
    finally:
        person.close()
        pty.close()
