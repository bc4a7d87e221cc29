"""Takeover: the person takes control mid-run and hands back; the agent looks again and goes on.

Real Chromium on the practice shop, the real permission gate and network guard; only the
model is scripted. The "person" is Playwright acting on the agent's own page, and the
terminal is a pipe read by the same TerminalLines an interactive `operator run` uses.
"""

from __future__ import annotations

import asyncio
import os
import pty
import re
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, async_playwright, expect
from rich.console import Console

from operator_agent.actions import gate_class
from operator_agent.agent import Agent, AgentConfig
from operator_agent.builder import permissions
from operator_agent.permissions.approvals import TerminalApprover
from operator_agent.permissions.policy import Policy
from operator_agent.planner.scripted import ScriptedPlanner
from operator_agent.report import write_report
from operator_agent.session import BrowserSession
from operator_agent.takeover import KEY, TerminalLines, TerminalTakeover, hand_back
from operator_agent.traces import load_run
from operator_agent.types import Action, ActionResult, HandBack, HandOver, HandOverRequest, Observation
from operator_bench.sites.shop.catalog import SearchQuery
from operator_bench.sites.shop.state import DEMO_EMAIL, DEMO_PASSWORD
from operator_bench.testing.chromium import debuggable_chromium
from operator_bench.testing.fake_openai import FakeOpenAIServer
from operator_bench.testing.script import find_text, user_text

WAIT = 30.0  # a generous cap on every wait below: a broken test fails, it never hangs


def decision(**action: Any) -> dict[str, Any]:
    return {"reasoning": "scripted", "actions": [action]}


def greeted(text: str) -> dict[str, Any]:
    """The step after the hand-over: only a signed-in page greets the account by name."""
    name = find_text(text, r"Hello, (\w+)")
    return decision(action="done", answer=f"signed in as {name}")


async def sign_in(page: Page) -> None:
    """What the person does on the sign-in page."""
    await page.get_by_label("Email address").fill(DEMO_EMAIL)
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text("Hello, Alex")).to_be_visible()


class Screen:
    """The terminal's output, for waiting until something is shown (as the person reads it)."""

    def __init__(self) -> None:
        self.text = ""
        self._changed = asyncio.Event()

    def write(self, text: str) -> int:
        self.text += text
        self._changed.set()
        return len(text)

    def flush(self) -> None:
        pass

    def console(self) -> Console:
        return Console(file=self, width=200, color_system=None, highlight=False, soft_wrap=True)  # type: ignore[arg-type]

    async def shown(self, words: str, times: int = 1) -> None:
        async def until() -> None:
            while self.text.count(words) < times:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), WAIT)


@dataclass
class Terminal:
    """A pipe standing for the person's terminal, read as `operator run` reads stdin."""

    lines: TerminalLines
    write_end: int
    screen: Screen

    def type(self, line: str) -> None:
        os.write(self.write_end, f"{line}\n".encode())


@pytest.fixture
async def terminal() -> AsyncIterator[Terminal]:
    read_end, write_end = os.pipe()
    lines = TerminalLines(read_end).start()
    try:
        yield Terminal(lines, write_end, Screen())
    finally:
        lines.close()
        os.close(write_end)
        os.close(read_end)


class ScriptedPerson:
    """protocols.Takeover played by a test: `act` runs on the agent's own page (the same
    Playwright page object, in the same context), then control is handed back."""

    def __init__(self, env: BrowserSession, planner: ScriptedPlanner, act: Callable[[Page], Awaitable[None]],
                 back: HandBack) -> None:
        self.env, self.planner, self.act, self.back = env, planner, act, back
        self.requests: list[HandOverRequest] = []
        self.model_calls_meanwhile: int | None = None

    async def take_over(self, request: HandOverRequest) -> HandBack:
        self.requests.append(request)
        calls = len(self.planner.prompts)
        await self.act(self.env.executor.page)
        self.model_calls_meanwhile = len(self.planner.prompts) - calls
        return self.back


@pytest.fixture
async def shop(sites: Any, context: Any) -> BrowserSession:
    await context.add_cookies(sites.dismissed_cookies())
    env = BrowserSession(context)
    await env.goto(sites.shop_url)
    return env


async def test_the_model_hands_over_a_log_in_and_goes_on_from_the_new_state(
        sites: Any, context: Any, shop: BrowserSession, tmp_path: Path) -> None:
    planner = ScriptedPlanner([
        decision(action="navigate", url=f"{sites.shop_url}/orders"),  # redirected to sign in
        lambda text: decision(action="hand_over", reason=f"log in to your {find_text(text, 'Brightcart')} "
                                                         "account"),
        greeted,
    ])
    person = ScriptedPerson(shop, planner, sign_in, HandBack(note="signed in"))
    agent = Agent(planner=planner, environment=shop, takeover=person, config=AgentConfig(runs_dir=tmp_path))
    result = await agent.run("open my Brightcart order history")

    assert result.success and result.answer == "signed in as Alex", result.message
    assert len(context.pages) == 1 and person.requests  # the person acted on the agent's own page
    request = person.requests[0]
    assert (request.reason, request.asked_by, request.environment) == (
        "log in to your Brightcart account", "model", "browser")
    assert "/signin" in request.url
    assert person.model_calls_meanwhile == 0  # the model waited while the person had control
    assert [s["email"] for s in sites.state("shop")["sign_ins"] if s["ok"]] == [DEMO_EMAIL]

    run = load_run(Path(str(result.run_dir)))
    handed = run.steps[1]
    assert [a.action for a in handed.actions] == ["hand_over"]
    told = handed.results[0]
    assert told.ok and told.page_changed and told.extracted == "signed in"
    (note,) = handed.handovers
    assert (note.reason, note.asked_by, note.outcome, note.note) == (
        "log in to your Brightcart account", "model", "done", "signed in")
    assert "/signin?" in note.url_before and note.url_after == f"{sites.shop_url}/orders"
    assert note.seconds > 0
    # The next step looked again: the new page, and the model is told what happened.
    after = run.steps[2]
    assert after.url == f"{sites.shop_url}/orders" and "Hello, Alex" in planner.observations[2].text
    assert 'hand_over(reason="log in to your Brightcart account") -> ok: the person had control' in \
        planner.prompts[2]
    html = write_report(run.run_dir).read_text()
    assert "The person had control for" in html and "Hand-overs" in html


@pytest.mark.parametrize("who", ["no takeover", "headless"])
async def test_with_nobody_to_take_over_the_model_is_told_and_the_run_goes_on(
        sites: Any, shop: BrowserSession, terminal: Terminal, tmp_path: Path, who: str) -> None:
    takeover = None if who == "no takeover" else TerminalTakeover(terminal.lines, visible=False,
                                                                  console=terminal.screen.console())
    planner = ScriptedPlanner([
        decision(action="navigate", url=f"{sites.shop_url}/orders"),
        decision(action="hand_over", reason="log in to your account"),
        decision(action="done", answer="you need to sign in to Brightcart yourself first", success=False),
    ])
    agent = Agent(planner=planner, environment=shop, takeover=takeover, config=AgentConfig(runs_dir=tmp_path))
    result = await agent.run("open my Brightcart order history")

    assert result.stop_reason == "failed" and result.steps == 3  # the model chose how to end it
    (told,) = [e for e in planner.observations[2].errors
               if e.startswith("nobody can take over in this run: ")]
    assert ("--headed" in told) == (who == "headless")
    assert "non-interactive" in told or who == "headless"
    run = load_run(Path(str(result.run_dir)))
    assert not run.steps[1].results[0].ok and not any(s.handovers for s in run.steps)  # nothing handed
    assert sites.state("shop")["sign_ins"] == []


async def test_the_persons_key_hands_over_after_the_current_action_never_during_it(
        sites: Any, context: Any, terminal: Terminal, tmp_path: Path) -> None:
    await context.add_cookies(sites.dismissed_cookies())
    log: list[str] = []

    class KeyMidAction(BrowserSession):
        """The person presses the key while the agent's first action is under way."""

        async def perform(self, action: Action, observation: Observation) -> ActionResult:
            log.append(f"start {action.action}")
            acting = asyncio.ensure_future(super().perform(action, observation))
            if len(log) == 1:
                terminal.type(KEY)
                await terminal.screen.shown("after the agent's current action")  # the key was read
            result = await acting
            log.append(f"end {action.action}")
            return result

    env = KeyMidAction(context)
    await env.goto(f"{sites.shop_url}/signin")
    planner = ScriptedPlanner([{"reasoning": "look around", "actions": [
        {"action": "scroll", "direction": "down"}, {"action": "scroll", "direction": "up"}]}, greeted])
    takeover = TerminalTakeover(terminal.lines, visible=True, console=terminal.screen.console())
    agent = Agent(planner=planner, environment=env, takeover=takeover, config=AgentConfig(runs_dir=tmp_path))
    takeover.ask_for_control = agent.handovers.request  # as `operator run` wires the key
    calls: list[int] = []

    async def person() -> None:
        await terminal.screen.shown("press Enter here to hand back")
        log.append("the person acts")
        calls.append(len(planner.prompts))
        await sign_in(env.executor.page)
        calls.append(len(planner.prompts))
        await terminal.lines.until_waiting()
        terminal.type("signed in myself")

    acting = asyncio.ensure_future(person())
    result = await agent.run("tell me whose account this is")
    await asyncio.wait_for(acting, WAIT)

    assert result.success and result.answer == "signed in as Alex", result.message
    # The action under way when the key came finished; the one planned after it never ran.
    assert log == ["start scroll", "end scroll", "the person acts"]
    assert calls == [1, 1]  # no model call while the person had control
    run = load_run(Path(str(result.run_dir)))
    first = run.steps[0]
    assert [a.model_dump(include={"action", "direction"}) for a in first.actions] == [
        {"action": "scroll", "direction": "down"}]
    assert [r.ok for r in first.results] == [True]
    (note,) = first.handovers
    assert (note.asked_by, note.outcome, note.note) == ("person", "done", "signed in myself")
    assert note.url_before == f"{sites.shop_url}/signin" and note.url_after == f"{sites.shop_url}/"
    assert run.steps[1].url == f"{sites.shop_url}/"  # looked again, signed in
    assert 'the person took control themselves' in planner.prompts[1]
    assert 'their note: "signed in myself"' in planner.prompts[1]
    assert "Press t then Enter to take control" in takeover.hint()


async def _to_payment(sites: Any, page: Page) -> None:
    """A cable in the cart, signed in, the saved address and standard delivery: the payment page."""
    assert sites.shop is not None
    found = sites.shop.catalog.search(SearchQuery(q="usb-c cable", max_price=1500)).items
    product = sites.shop.catalog.product(found[0]["id"])
    variant = next(v for v in product["variants"] if v["stock"] > 0)
    shop = sites.shop_url
    await page.request.post(f"{shop}/cart/add", form={"product_id": str(product["id"]), "quantity": "1",
                                                       "colour": variant["colour"], "size": variant["size"]})
    await page.request.post(f"{shop}/signin", form={"email": DEMO_EMAIL, "password": DEMO_PASSWORD,
                                                     "next": "/"})
    await page.goto(f"{shop}/checkout/shipping")
    await page.get_by_role("button", name="Deliver to this address").click()
    await page.get_by_role("button", name="Continue to payment").click()
    await expect(page.get_by_role("heading", name="Payment", exact=True)).to_be_visible()


async def test_a_payment_the_person_makes_while_in_control_is_asked_on_the_same_terminal(
        sites: Any, context: Any, shop: BrowserSession, terminal: Terminal, tmp_path: Path) -> None:
    page = shop.executor.page
    await _to_payment(sites, page)
    perms = permissions(run_id="takeover-pays", policy=Policy.default(), audit_path=tmp_path / "audit.sqlite",
                        vault=None, approver=TerminalApprover(terminal.lines, stdout=terminal.screen))  # type: ignore[arg-type]
    takeover = TerminalTakeover(terminal.lines, visible=True, console=terminal.screen.console())
    planner = ScriptedPlanner([
        lambda text: decision(action="hand_over", reason=f"enter your card and {find_text(text, 'Pay')}"),
        lambda text: decision(action="done", answer=find_text(text, r"(your order has been placed)")),
    ])
    agent = Agent(planner=planner, environment=shop, gate=perms.gate, approver=perms.approver,
                  takeover=takeover, config=AgentConfig(runs_dir=tmp_path))
    answered: list[str] = []

    async def person() -> None:
        await terminal.screen.shown("press Enter here to hand back")
        card = page.frame_locator("#payment-frame")
        await card.get_by_label("Card number").fill("4242 4242 4242 4242")
        await card.get_by_label("Expiry date").fill("12 / 34")
        await card.get_by_label("Security code (CVC)").fill("123")
        await card.get_by_label("Name on card").fill("Alex Morgan")
        await card.get_by_role("button", name=re.compile(r"^Pay \$")).click()
        # The network guard holds the payment and asks, on the terminal the hand-back waits on:
        # the answer goes to the question (the latest asker), not to the hand-back.
        await terminal.screen.shown("Allow this?")
        await terminal.lines.until_waiting(2)  # the question's reader, over the hand-back's
        answered.append(terminal.screen.text.split("--- the agent needs your approval ---")[-1])
        terminal.type("y")
        await expect(page.get_by_role("heading", name="Thank you, your order has been placed.")
                     ).to_be_visible()
        await terminal.lines.until_waiting()
        terminal.type("paid")

    acting = asyncio.ensure_future(person())
    try:
        result = await agent.run("buy the cable in my cart")
        await asyncio.wait_for(acting, WAIT)
    finally:
        perms.close()

    assert result.success, result.message
    assert "A payment nobody approved" in answered[0]
    orders = sites.state("shop")["orders"]
    assert len(orders) == 1 and orders[0]["payment"]["last4"] == "4242"
    run = load_run(Path(str(result.run_dir)))
    handed = run.steps[0]
    (note,) = handed.handovers
    assert (note.outcome, note.note) == ("done", "paid")  # "y" answered the question, not the hand-back
    assert [(a.approved, "nobody approved" in a.summary) for a in handed.approvals] == [(True, True)]


def test_what_the_person_types_to_hand_back() -> None:
    assert hand_back("") == HandBack(outcome="done")
    assert hand_back("  the code was 123  ") == HandBack(note="the code was 123")
    assert hand_back(KEY) == HandBack()  # the key pressed again is no note
    assert hand_back("Skip").outcome == "gave_up" and hand_back("stop").outcome == "stop"


async def test_terminal_lines_go_to_the_latest_asker_and_otherwise_are_commands(terminal: Terminal) -> None:
    commands: list[str] = []
    both = asyncio.Event()

    def command(line: str) -> None:
        commands.append(line)
        if len(commands) == 2:
            both.set()

    terminal.lines.on_command = command
    terminal.type("t")
    terminal.type("  hello ")
    await asyncio.wait_for(both.wait(), WAIT)  # read before anyone asked: commands, never answers
    handing_back = asyncio.ensure_future(terminal.lines.next_line())
    await terminal.lines.until_waiting()
    question = asyncio.ensure_future(asyncio.to_thread(terminal.lines.readline))  # as TerminalApprover reads
    await asyncio.wait_for(terminal.lines.until_waiting(2), WAIT)
    terminal.type("y")
    assert await asyncio.wait_for(question, WAIT) == "y\n"
    assert not handing_back.done()
    terminal.type("")
    assert await asyncio.wait_for(handing_back, WAIT) == ""
    assert commands == ["t", "hello"]
    terminal.lines.close()
    assert terminal.lines.readline() == "" and await terminal.lines.next_line() == ""


class ChildOutput:
    """A child process's stderr as it comes, for waiting until something is shown."""

    def __init__(self, fd: int) -> None:
        self.text = ""
        self.closed = False
        self._changed = threading.Condition()
        threading.Thread(target=self._read, args=(fd,), daemon=True).start()

    def _read(self, fd: int) -> None:
        while chunk := os.read(fd, 4096):
            with self._changed:
                self.text += chunk.decode(errors="replace")
                self._changed.notify_all()
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def shown(self, words: str) -> None:
        with self._changed:
            self._changed.wait_for(lambda: words in self.text or self.closed, WAIT)
        assert words in self.text, f"never shown: {words!r}\n{self.text}"


def test_operator_run_at_a_terminal_shares_it_between_the_key_and_the_questions(
        tmp_path: Path, pages_server: Any) -> None:
    """`operator run` on a real terminal (a pty), headless: the key says takeover needs --headed,
    the model is told nobody can take over, and a question is still answered on that terminal."""
    key_read = threading.Event()

    def hand_over(body: dict[str, Any]) -> dict[str, Any]:
        key_read.wait(WAIT)  # the key is typed while the agent is busy, before any question
        return decision(action="hand_over", reason="log in")

    def ask(body: dict[str, Any]) -> dict[str, Any]:
        told = user_text(body)
        if "nobody can take over in this run" in told and "--headed" in told:
            return decision(action="ask_user", question="Which user?")
        return decision(action="done", answer="not told", success=False)

    def finish(body: dict[str, Any]) -> dict[str, Any]:
        answered = 'ask_user(question="Which user?") -> ok: the person answered -> "ada"' in user_text(body)
        return decision(action="done", answer="asked: ada" if answered else "no answer", success=answered)

    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(OPERATOR_RUNS_DIR=str(tmp_path / "runs"), COLUMNS="200")
    operator = str(Path(sys.executable).with_name("operator"))
    master, slave = pty.openpty()
    with FakeOpenAIServer([hand_over, ask, finish, {"ok": True, "reason": "fine"}], model="m") as fake:
        proc = subprocess.Popen([operator, "run", "sign in", "--url", pages_server.url("/agent/login.html"),
                                 "--model", "m", "--base-url", fake.base_url, "--screenshots", "off"],
                                env=env, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(slave)
        assert proc.stderr is not None and proc.stdout is not None
        err = ChildOutput(proc.stderr.fileno())
        try:
            err.shown("needs --headed")  # the hint: the terminal is being read
            os.write(master, f"{KEY}\n".encode())
            err.shown("Cannot hand you control: the browser is headless")
            key_read.set()
            err.shown("The agent asks: Which user?")
            os.write(master, b"ada\n")
            assert proc.wait(timeout=120) == 0, err.text
            out = proc.stdout.read().decode()
        finally:
            key_read.set()
            if proc.poll() is None:
                proc.kill()
            os.close(master)
    assert out.strip() == "asked: ada"
    (run_dir,) = (tmp_path / "runs").iterdir()
    handed = load_run(run_dir).steps[0]
    assert "headless" in (handed.results[0].error or "") and handed.handovers == []


async def test_operator_run_hands_the_browser_over_on_the_key_and_goes_on(sites: Any, tmp_path: Path) -> None:
    """The whole path at the command line: `t` then Enter on the terminal (a pty) while the model
    thinks, the browser (attached with --cdp-url, so the person has it) is handed over before
    the planned action, the person signs in on it, hands back with a note, and the run goes on."""
    deciding, key_read = threading.Event(), threading.Event()

    def first(body: dict[str, Any]) -> dict[str, Any]:
        deciding.set()
        key_read.wait(WAIT)  # the key comes while the model is deciding
        return decision(action="scroll", direction="down")

    def then(body: dict[str, Any]) -> dict[str, Any]:
        told = user_text(body)
        if "Hello, Alex" in told and 'the person took control themselves' in told:
            return decision(action="done", answer="signed in as Alex")
        return decision(action="done", answer="not signed in", success=False)

    browser_proc, port = debuggable_chromium(tmp_path / "profile")
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(OPERATOR_RUNS_DIR=str(tmp_path / "runs"), COLUMNS="200")
    operator = str(Path(sys.executable).with_name("operator"))
    try:
        async with async_playwright() as pw:
            person = await pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            await person.contexts[0].add_cookies(sites.dismissed_cookies())
            with FakeOpenAIServer([first, then, {"ok": True, "reason": "fine"}], model="m") as fake:
                proc = subprocess.Popen(
                    [operator, "run", "tell me whose account this is", "--url", f"{sites.shop_url}/signin",
                     "--cdp-url", f"http://127.0.0.1:{port}", "--model", "m", "--base-url", fake.base_url,
                     "--screenshots", "off"],
                    env=env, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                os.close(slave)
                assert proc.stderr is not None and proc.stdout is not None
                err = ChildOutput(proc.stderr.fileno())
                try:
                    await asyncio.to_thread(err.shown, "Press t then Enter to take control yourself")
                    assert await asyncio.to_thread(deciding.wait, WAIT)
                    os.write(master, f"{KEY}\n".encode())
                    await asyncio.to_thread(err.shown, "You will get control after the agent")
                    key_read.set()
                    await asyncio.to_thread(err.shown, "press Enter here to hand back")
                    (page,) = [p for p in person.contexts[0].pages if "/signin" in p.url]
                    await sign_in(page)
                    os.write(master, b"signed in myself\n")
                    code = await asyncio.to_thread(proc.wait, 120)
                    assert code == 0, err.text
                    out = proc.stdout.read().decode()
                finally:
                    key_read.set()
                    if proc.poll() is None:
                        proc.kill()
                    os.close(master)
    finally:
        browser_proc.kill()
        browser_proc.wait()
    assert out.strip() == "signed in as Alex"
    (run_dir,) = (tmp_path / "runs").iterdir()
    first_step = load_run(run_dir).steps[0]
    assert [a.action for a in first_step.actions] == ["scroll"] and first_step.results == []  # not run
    (note,) = first_step.handovers
    assert (note.asked_by, note.note) == ("person", "signed in myself")
    assert note.url_before == f"{sites.shop_url}/signin" and note.url_after == f"{sites.shop_url}/"


async def test_the_gate_lets_the_model_hand_over_and_fills_in_no_secret(tmp_path: Path) -> None:
    perms = permissions(run_id="gate", policy=Policy.default(), audit_path=tmp_path / "audit.sqlite",
                        vault=None)
    try:
        page = Observation(url="https://bank.example/login", actions=["click"])
        verdict = await perms.gate.check(HandOver(reason="log in as {{secret:bank}} yourself"), page)
    finally:
        perms.close()
    assert verdict.decision == "allow"  # it speaks: the placeholder is shown as written, never filled in
    assert gate_class(HandOver(reason="solve the CAPTCHA")) == "speaks"
