"""Agent overhead per step: operator-agent against browser-use, on the same two-page form.

No model time: both agents talk to the same fake OpenAI-compatible server on loopback
(operator_bench.testing.fake_openai), which answers every request at once with the next
decision of a script, reading the element's index off the page it was sent, as a model
would. What is left in the wall time is the agent's own work per step: reading the page,
building the prompt, the HTTP round trip through its own OpenAI client, parsing the reply,
acting, and waiting for the page to settle.

The site: a form served on 127.0.0.1 (page 1: full name, email, country and Next; page 2:
street address, city, a terms checkbox and Submit); the server records the submission and
shows a reference. The task takes 9 steps, one action each: 3 fields, Next, 3 fields,
Submit, done (with the reference read off the page).

- ours: operator_agent's Agent (builder.build_agent) with the real OpenAIPlanner
  (builder.model_planner) pointed at the fake server;
- peer: browser-use's Agent with its ChatOpenAI pointed at the fake server, run by a driver
  process in browser-use's own environment (benchmarks/peers.py; this file with
  --browser-use-driver), which stays up for all the runs.

Each run: a fresh headless Chromium ($OPERATOR_CHROMIUM, else /usr/bin/chromium) with the
form open, then the agent's run timed from start to end and divided by its steps (browser
start is not in it). Each side as shipped, except that neither runs its end-of-run model
check (our verification of "done", browser-use's judge): one per run, not per step. After
a warm-up run each, the runs alternate: ours, peer, ours, peer, ...

    .venv/bin/python benchmarks/peers.py browser-use        # once (step.py does it too)
    TIKTOKEN_CACHE_DIR=/path/to/tiktoken .venv/bin/python benchmarks/step.py [--runs 5]
    .venv/bin/python benchmarks/step.py --no-peer           # only ours

Prints the median seconds per step of each side, the ratio ours / peer, and the target
(issue "Fast": at most 100 ms per step, and at most 0.2x browser-use's).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlencode, urlsplit

CHROMIUM = os.environ.get("OPERATOR_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
MODEL = "fake-model"
TARGET_SECONDS = 0.100  # per step
TARGET_RATIO = 0.2  # of browser-use's time per step
PEER_TIMEOUT = 300.0  # seconds for one browser-use run before its driver is stopped
RESULT = "@@step-result "  # the driver's result lines start with this; anything else is its log

TASK = ("Sign up Ada Lovelace (ada@example.com, Portugal) on this form: her address is 1 Analytical Way, "
        "Lisbon; accept the terms, submit, and tell me the reference number.")

# What a capable model decides at each step, the same on both sides: (action, label, value).
PLAN: list[tuple[str, str, str]] = [
    ("type", "Full name", "Ada Lovelace"),
    ("type", "Email", "ada@example.com"),
    ("select", "Country", "Portugal"),
    ("click", "Next", ""),
    ("type", "Street address", "1 Analytical Way"),
    ("type", "City", "Lisbon"),
    ("click", "I accept the terms", ""),
    ("click", "Submit", ""),
    ("done", "", ""),
]
EXPECTED = {"name": "Ada Lovelace", "email": "ada@example.com", "country": "Portugal",
            "street": "1 Analytical Way", "city": "Lisbon", "terms": "on"}
REFERENCE = re.compile(r"\b(REF-\d{4})\b")


# --- the form site ---------------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}} p{{margin:.6em 0}}
label{{display:inline-block;width:9em}}</style>
</head><body><main><h1>{title}</h1>{body}</main></body></html>"""

_STEP1 = """<p>Step 1 of 2: about you.</p>
<form action="/details" method="get">
<p><label for="name">Full name</label> <input id="name" name="name" autocomplete="off"></p>
<p><label for="email">Email</label> <input id="email" name="email" type="email" autocomplete="off"></p>
<p><label for="country">Country</label> <select id="country" name="country">
<option value="">Choose a country</option><option>France</option><option>Portugal</option>
<option>Japan</option></select></p>
<p><button type="submit">Next</button></p>
</form>"""

_STEP2 = """<p>Step 2 of 2: your address.</p>
<form action="/submit" method="post">
{hidden}
<p><label for="street">Street address</label> <input id="street" name="street" autocomplete="off"></p>
<p><label for="city">City</label> <input id="city" name="city" autocomplete="off"></p>
<p><input id="terms" name="terms" type="checkbox"> <label for="terms">I accept the terms</label></p>
<p><button type="submit">Submit</button></p>
</form>"""

_DONE = "<p>Thank you, {name}. Your sign-up is recorded.</p><p>Reference number: <b>{ref}</b></p>"


class FormSite:
    """The two-page form on a free loopback port; `submissions` holds what was sent."""

    def __init__(self) -> None:
        self.submissions: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def reset(self) -> None:
        with self._lock:
            self.submissions.clear()

    def __enter__(self) -> FormSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _record(self, fields: dict[str, str]) -> str:
        with self._lock:
            self.submissions.append(fields)
            return f"REF-{1000 + len(self.submissions):04d}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _page(self, title: str, body: str) -> None:
                self._send(200, _PAGE.format(title=title, body=body))

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                if parts.path == "/":
                    self._page("Sign up", _STEP1)
                elif parts.path == "/details":
                    hidden = "\n".join(
                        f'<input type="hidden" name="{k}" value="{html.escape(query.get(k, ""))}">'
                        for k in ("name", "email", "country"))
                    self._page("Sign up: address", _STEP2.format(hidden=hidden))
                elif parts.path == "/thanks":
                    self._page("Signed up", _DONE.format(name=html.escape(query.get("name", "")),
                                                         ref=html.escape(query.get("ref", ""))))
                elif parts.path == "/favicon.ico":
                    self._send(404)
                else:
                    self._send(404, "not found")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                if urlsplit(self.path).path != "/submit":
                    self._send(404, "not found")
                    return
                fields = {k: v[0] for k, v in form.items()}
                ref = site._record(fields)
                where = "/thanks?" + urlencode({"name": fields.get("name", ""), "ref": ref})
                self._send(303, "", {"Location": where})

        return Handler


def submitted_right(site: FormSite) -> bool:
    return len(site.submissions) == 1 and all(site.submissions[0].get(k) == v for k, v in EXPECTED.items())


# --- the scripted model ----------------------------------------------------------------------

def _user_text(body: dict[str, Any], marker: str = "") -> str:
    """The text of the request's last user message (containing `marker`): the page the
    agent sent. (browser-use may add a user message of advice after the page's.)"""
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                text = "\n".join(p.get("text", "") for p in content if p.get("type") == "text")
            else:
                text = str(content or "")
            if marker in text:
                return text
    return ""


def _reference(text: str) -> str:
    found = REFERENCE.search(text)
    if found is None:
        raise LookupError("no reference number on the page")
    return found.group(1)


def our_reply(step: int, text: str) -> dict[str, Any]:
    """Our planner's reply (operator_agent.types: reasoning and actions) for step `step`."""
    from operator_bench.testing.script import find_index

    kind, label, value = PLAN[step]
    if kind == "done":
        action: dict[str, Any] = {"action": "done", "answer": f"Reference number: {_reference(text)}"}
    elif kind == "type":
        action = {"action": "type", "index": find_index(text, label), "text": value}
    elif kind == "select":
        action = {"action": "select", "index": find_index(text, label), "option": value}
    else:
        role = "checkbox" if "terms" in label else "button"
        action = {"action": "click", "index": find_index(text, label, role)}
    return {"reasoning": f"Step {step + 1}: {kind} {label}".strip(), "actions": [action]}


# A capable model's plan, given at the first step (else browser-use nudges it to make one).
BROWSER_USE_PLAN = ["Fill in page 1 and go on", "Fill in page 2 and submit", "Report the reference number"]

# browser-use lists interactive elements as `[12]<input name=city ... />`; the label's text is
# not on the element's line, so the script finds fields by their name attribute.
_BU_FIELD = {"Full name": "name", "Email": "email", "Country": "country", "Street address": "street",
             "City": "city", "I accept the terms": "terms"}
_BU_ELEMENT = re.compile(r"\[(\d+)\]<(\w+)([^\n]*)")


def browser_use_index(text: str, label: str) -> int:
    """The index browser-use gave the element: a field by its name, a button by its text."""
    field = _BU_FIELD.get(label)
    for match in _BU_ELEMENT.finditer(text):
        tag, rest = match.group(2), match.group(3)
        if field is not None and re.search(rf"\b(name|id)={re.escape(field)}\b", rest):
            return int(match.group(1))
        if field is None and tag == "button" and label.lower() in rest.lower():
            return int(match.group(1))
    if field is None:  # the button's text may be on the next line
        for match in re.finditer(r"\[(\d+)\]<button[^\n]*\n\s*" + re.escape(label), text):
            return int(match.group(1))
    raise LookupError(f"no element {label!r} in browser-use's page state")


def browser_use_reply(step: int, text: str) -> dict[str, Any]:
    """browser-use's AgentOutput (its agent/views.py) for step `step`."""
    kind, label, value = PLAN[step]
    if kind == "done":
        action: dict[str, Any] = {"done": {"text": f"Reference number: {_reference(text)}", "success": True}}
    elif kind == "type":
        action = {"input": {"index": browser_use_index(text, label), "text": value, "clear": True}}
    elif kind == "select":
        action = {"select_dropdown": {"index": browser_use_index(text, label), "text": value}}
    else:
        action = {"click": {"index": browser_use_index(text, label)}}
    page = 0 if step < 4 else 1 if step < 8 else 2
    return {"thinking": f"Step {step + 1}.", "evaluation_previous_goal": "Success.", "memory": "",
            "next_goal": f"{kind} {label}".strip(), "current_plan_item": page,
            "plan_update": BROWSER_USE_PLAN if step == 0 else None, "action": [action]}


class Script:
    """Answers each request with the next step's decision; other requests (none expected)
    are counted and answered with an error so they show."""

    def __init__(self, reply: Callable[[int, str], dict[str, Any]],
                 is_step: Callable[[dict[str, Any]], bool], marker: str = "") -> None:
        self.reply, self.is_step, self.marker = reply, is_step, marker
        self.step = 0
        self.errors: list[str] = []

    def __call__(self, body: dict[str, Any]) -> Any:
        from operator_bench.testing.fake_openai import Fault

        if not self.is_step(body) or self.step >= len(PLAN):
            self.errors.append("an unexpected model request")
            return Fault(status=400, message="the benchmark's script has no answer to this request")
        try:
            answer = self.reply(self.step, _user_text(body, self.marker))
        except LookupError as exc:
            self.errors.append(f"step {self.step + 1}: {exc}")
            return Fault(status=400, message=str(exc))
        self.step += 1
        return answer


def _is_browser_use_step(body: dict[str, Any]) -> bool:
    fmt = body.get("response_format") or {}
    return (fmt.get("json_schema") or {}).get("name") == "agent_output"


# --- one run each ------------------------------------------------------------------------------

@dataclass
class Run:
    seconds: float  # the agent's run, start to end
    steps: int
    ok: bool  # the form arrived as it should and the answer has its reference
    note: str = ""

    @property
    def per_step(self) -> float:
        return self.seconds / max(1, self.steps)


async def ours_once(site: FormSite, work: Path) -> Run:
    from operator_agent.builder import build_agent, model_planner, permissions
    from operator_agent.launch import BrowserOptions, open_browser
    from operator_agent.permissions.gate import CallbackApprover
    from operator_agent.permissions.policy import Policy
    from operator_agent.session import BrowserSession
    from operator_agent.traces import new_run_dir
    from operator_bench.testing.fake_openai import FakeOpenAIServer

    site.reset()
    script = Script(our_reply, lambda body: True)
    handle = await open_browser(BrowserOptions(executable=CHROMIUM, extra_args=["--no-sandbox"]))
    try:
        with FakeOpenAIServer(default=script, model=MODEL) as fake:
            planner = model_planner(model=MODEL, base_url=fake.base_url, api_key="test")
            session = BrowserSession(handle.context)
            await session.goto(site.url)
            run_dir = new_run_dir(work / "runs", TASK)
            perms = permissions(run_id=run_dir.name, policy=Policy.default(),
                                audit_path=run_dir / "audit.sqlite", vault=None,
                                approver=CallbackApprover(lambda verdict, action: True))
            agent = build_agent(planner=planner, environment=session, max_steps=len(PLAN) + 3, verify=False,
                                run_dir=run_dir, perms=perms, learn=False)
            try:
                started = time.perf_counter()
                result = await agent.run(TASK)
                seconds = time.perf_counter() - started
            finally:
                perms.close()
                aclose = getattr(planner, "aclose", None)
                if aclose is not None:
                    await aclose()
    finally:
        await handle.close()
    ok = bool(result.success and submitted_right(site) and REFERENCE.search(result.answer or ""))
    note = "; ".join(script.errors) or ("" if ok else f"stopped: {result.stop_reason}: {result.message}")
    return Run(seconds, result.steps, ok, note)


def browser_use_env() -> dict[str, str]:
    """The environment browser-use's processes run in: no telemetry, cloud or extensions,
    and none of our Python path."""
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "false", "BROWSER_USE_CLOUD_SYNC": "false",
           "BROWSER_USE_DISABLE_EXTENSIONS": "true", "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)
    return env


class BrowserUsePeer:
    """browser-use's driver process in its own environment, up for all the runs."""

    def __init__(self, python: Path, log: IO[str]) -> None:
        self.proc = subprocess.Popen([str(python), __file__, "--browser-use-driver"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=log, text=True, env=browser_use_env())
        self.version = self._read()["version"]

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(RESULT):
                return json.loads(line[len(RESULT):])  # type: ignore[no-any-return]
        raise RuntimeError(f"browser-use's driver ended (exit {self.proc.wait()})")

    async def once(self, site: FormSite) -> Run:
        from operator_bench.testing.fake_openai import FakeOpenAIServer

        site.reset()
        script = Script(browser_use_reply, _is_browser_use_step, marker="<browser_state>")
        with FakeOpenAIServer(default=script, model=MODEL) as fake:
            request = {"url": site.url, "base_url": fake.base_url, "task": TASK, "max_steps": len(PLAN) + 3}
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            try:
                answer = await asyncio.wait_for(asyncio.to_thread(self._read), PEER_TIMEOUT)
            except TimeoutError:
                self.proc.kill()  # which ends the read, too
                raise RuntimeError(f"no result from browser-use in {PEER_TIMEOUT:.0f} s") from None
        if "error" in answer:
            raise RuntimeError(answer["error"])
        said = answer.get("answer") or ""
        ok = bool(answer["success"] and submitted_right(site) and REFERENCE.search(said))
        note = "; ".join(script.errors) or ("" if ok else f"stopped: {answer.get('answer')!r}")
        return Run(answer["seconds"], answer["steps"], ok, note)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- the driver, in browser-use's environment ----------------------------------------------------

def browser_use_driver() -> None:
    """Reads one run request (JSON) a line from stdin; runs browser-use's Agent on it; writes
    the result after RESULT on stdout. Runs under browser-use's own Python."""
    import importlib.metadata

    def answer(payload: dict[str, Any]) -> None:
        sys.stdout.write(RESULT + json.dumps(payload) + "\n")
        sys.stdout.flush()

    answer({"version": importlib.metadata.version("browser-use")})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            answer(asyncio.run(_browser_use_once(request)))
        except Exception as exc:  # said to the parent, which stops there
            answer({"error": f"{type(exc).__name__}: {exc}"})


async def _browser_use_once(request: dict[str, Any]) -> dict[str, Any]:
    from browser_use import Agent, BrowserProfile, BrowserSession  # type: ignore[import-not-found, unused-ignore]
    from browser_use.llm.openai.chat import ChatOpenAI  # type: ignore[import-not-found, unused-ignore]

    profile = BrowserProfile(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                             chromium_sandbox=False, keep_alive=True, enable_default_extensions=False,
                             user_data_dir=None)
    session = BrowserSession(browser_profile=profile)
    await session.start()
    try:
        await session.navigate_to(request["url"])
        llm = ChatOpenAI(model=MODEL, base_url=request["base_url"], api_key="test")
        agent = Agent(task=request["task"], llm=llm, browser_session=session, use_judge=False)
        started = time.perf_counter()
        history = await agent.run(max_steps=request["max_steps"])
        seconds = time.perf_counter() - started
    finally:
        await session.kill()
    return {"seconds": seconds, "steps": history.number_of_steps(), "success": bool(history.is_successful()),
            "answer": history.final_result()}


# --- main ------------------------------------------------------------------------------------------

def _start_peer(work: Path) -> tuple[BrowserUsePeer | None, str]:
    """browser-use's driver, or None and why not."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from peers import PeerError, peer_python

    try:
        python = peer_python("browser-use")
    except (PeerError, OSError) as exc:
        return None, f"browser-use could not be installed: {exc}"
    log = (work / "browser-use.log").open("w")
    try:
        return BrowserUsePeer(python, log), ""
    except Exception as exc:
        return None, f"browser-use's driver did not start: {exc}"


def _median_ms(runs: list[Run]) -> float:
    return statistics.median(r.per_step for r in runs) * 1000


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in text[-lines:])


async def main(runs: int, warmup: int, with_peer: bool, keep: bool) -> int:
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", "/work/shared/tiktoken")
    from importlib.metadata import version

    work = Path(tempfile.mkdtemp(prefix="bench-step-"))
    peer, why_not = _start_peer(work) if with_peer else (None, "--no-peer given")
    peer_name = f"browser-use {peer.version}" if peer is not None else "browser-use"
    ours: list[Run] = []
    theirs: list[Run] = []
    try:
        with FormSite() as site:
            for i in range(warmup + runs):
                counted = i >= warmup
                run = await ours_once(site, work)
                if counted:
                    ours.append(run)
                if peer is not None:
                    try:
                        other = await peer.once(site)
                    except Exception as exc:
                        why_not = f"browser-use failed: {exc}\n{_tail(work / 'browser-use.log')}"
                        peer.close()
                        peer = None
                    else:
                        if counted:
                            theirs.append(other)
    finally:
        if peer is not None:
            peer.close()
        if keep:
            print(f"(traces and browser-use's log kept in {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"Agent overhead per step: a 2-page form, {len(PLAN)} steps, the model answering at once; "
          f"{runs} runs each, interleaved, after {warmup} warm-up each.")
    print(f"{'':20} {'median':>8}   {'each run (ms per step)':<36} {'steps':>5} {'ok':>5}")
    table = [(f"operator {version('operator-agent')}", ours)] + ([(peer_name, theirs)] if theirs else [])
    for name, rows in table:
        each = " ".join(f"{r.per_step * 1000:.0f}" for r in rows)
        steps = "/".join(sorted({str(r.steps) for r in rows}))
        ok = f"{sum(r.ok for r in rows)}/{len(rows)}"
        print(f"{name:20} {_median_ms(rows):5.0f} ms   {each:<36} {steps:>5} {ok:>5}")
    for name, rows in table:
        for r in rows:
            if r.note:
                print(f"  {name}: {r.note}")
    ours_ms = _median_ms(ours)
    print(f"target, <= {TARGET_SECONDS * 1000:.0f} ms per step: ours {ours_ms:.0f} ms, "
          f"{'met' if ours_ms <= TARGET_SECONDS * 1000 else 'NOT met'}")
    if theirs:
        ratio = ours_ms / _median_ms(theirs)
        print(f"ratio ours / browser-use: {ratio:.2f}x; target <= {TARGET_RATIO}x: "
              f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}")
        if why_not:
            print(f"peer stopped after {len(theirs)} of {runs} runs: {why_not}")
    else:
        print(f"peer not run: {why_not or 'browser-use gave no result'}")
    return 0


if __name__ == "__main__":
    if "--browser-use-driver" in sys.argv[1:]:
        browser_use_driver()
        sys.exit(0)
    parser = argparse.ArgumentParser(description=re.sub(r"\s+", " ", (__doc__ or "").split("\n\n")[0]))
    parser.add_argument("--runs", type=int, default=5, help="counted runs of each side (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs of each side first (default 1)")
    parser.add_argument("--no-peer", action="store_true", help="only ours: do not install or run browser-use")
    parser.add_argument("--keep", action="store_true", help="keep the traces and browser-use's log")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.runs, args.warmup, not args.no_peer, args.keep)))
