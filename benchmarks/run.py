"""A whole short run, as a person at a shell sees it: operator-agent against browser-use.

The same two-page form and the same fake model as step.py (imported from there): the fake
OpenAI-compatible server answers every request at once with the next scripted decision, so
no model time is in the figures. What is timed is a new process from its start to its exit:

- ours: the console script, `operator run --url <form> "<task>" --model ... --base-url <fake>
  --no-verify`, non-interactive (stdin not a terminal), with its own config, data and runs
  folders in a temporary directory;
- peer: a new Python process in browser-use's environment (benchmarks/peers.py) that imports
  browser_use, starts its browser, opens the form, runs its Agent (ChatOpenAI pointed at the
  fake server, no judge) and exits: step.py's browser-use run, once per process.

So each figure holds the interpreter's start, the imports, the browser's launch, the start
page, the 9 steps and the shutdown. Neither side runs its end-of-run model check (our
verification, browser-use's judge). Both use the same Chromium ($OPERATOR_CHROMIUM, else
/usr/bin/chromium). After a warm-up run each, the runs alternate: ours, peer, ours, ...

    .venv/bin/python benchmarks/peers.py browser-use        # once (run.py does it too)
    TIKTOKEN_CACHE_DIR=/path/to/tiktoken .venv/bin/python benchmarks/run.py [--runs 5]
    .venv/bin/python benchmarks/run.py --no-peer            # only ours
    .venv/bin/python benchmarks/run.py --baseline SRC       # also ours from another source root

--baseline SRC runs `operator` from another copy of the source root as well (a folder holding
operator_agent/, e.g. an old checkout's operator/), interleaved, for before/after.

Prints the median seconds of each side (and to its first model request: start-up, the
start page and the first look at it), the ratio ours / peer, and PASS/MISS against the
target (issue "Fast": a whole short `operator run` in at most 0.5x browser-use's time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from step import (
    CHROMIUM,
    MODEL,
    PLAN,
    REFERENCE,
    RESULT,
    TASK,
    FormSite,
    Script,
    _browser_use_once,
    _is_browser_use_step,
    browser_use_env,
    browser_use_reply,
    our_reply,
    submitted_right,
)

OPERATOR = str(Path(sys.executable).with_name("operator"))
TARGET_RATIO = 0.5  # of browser-use's whole run
TIMEOUT = 300.0  # seconds for one process


@dataclass
class Run:
    seconds: float  # the process, from its start to its exit
    first: float  # from its start to its first model request: start-up, start page and first look
    ok: bool  # the form arrived as it should and the answer has its reference
    note: str = ""


class Stamped:
    """The script, noting when the first request came (perf_counter)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.first = float("nan")

    def __call__(self, body: dict[str, Any]) -> Any:
        if self.first != self.first:  # NaN: none yet
            self.first = time.perf_counter()
        return self.script(body)


def _timed(command: list[str], env: dict[str, str], log: Path,
           model: Stamped) -> tuple[float, float, int, str]:
    """Start `command`, wait for its exit: (wall seconds, seconds to the first model request,
    exit code, stdout). Its stderr goes to `log`."""
    with log.open("a") as err:
        started = time.perf_counter()
        proc = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                              text=True, env=env, timeout=TIMEOUT)
        seconds = time.perf_counter() - started
    return seconds, model.first - started, proc.returncode, proc.stdout


def _check(site: FormSite, script: Script, code: int, answer: str) -> tuple[bool, str]:
    ok = code == 0 and submitted_right(site) and bool(REFERENCE.search(answer))
    why = "; ".join(script.errors) or ("" if ok else f"exit {code}: {answer.strip()[-300:]!r}")
    return ok, why


def ours_once(site: FormSite, work: Path, source: str | None = None) -> Run:
    """`source`: another copy of the source root to run instead (--baseline)."""
    from operator_bench.testing.fake_openai import FakeOpenAIServer

    site.reset()
    script = Script(our_reply, lambda body: True)
    env = {**os.environ, "OPENAI_API_KEY": "test", "OPERATOR_CHROMIUM": CHROMIUM,
           # A person's own folders, kept for all runs (the policy is written on the first).
           "XDG_CONFIG_HOME": str(work / "config"), "XDG_DATA_HOME": str(work / "data"),
           "OPERATOR_RUNS_DIR": str(work / "runs"), "COLUMNS": "200"}
    for name in ("OPERATOR_MODEL", "OPENAI_BASE_URL", "OPERATOR_POLICY", "OPERATOR_AUDIT_DB",
                 "OPERATOR_VAULT", "OPERATOR_PREFS_DB"):
        env.pop(name, None)
    if source:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    model = Stamped(script)
    with FakeOpenAIServer(default=model, model=MODEL) as fake:
        command = [OPERATOR, "run", "--url", site.url, TASK, "--model", MODEL, "--base-url", fake.base_url,
                   "--no-verify", "--max-steps", str(len(PLAN) + 3)]
        seconds, first, code, out = _timed(command, env, work / "operator.log", model)
    return Run(seconds, first, *_check(site, script, code, out))


def peer_once(site: FormSite, python: Path, work: Path) -> Run:
    from operator_bench.testing.fake_openai import FakeOpenAIServer

    site.reset()
    script = Script(browser_use_reply, _is_browser_use_step, marker="<browser_state>")
    model = Stamped(script)
    with FakeOpenAIServer(default=model, model=MODEL) as fake:
        request = {"url": site.url, "base_url": fake.base_url, "task": TASK, "max_steps": len(PLAN) + 3}
        seconds, first, code, out = _timed([str(python), __file__, "--browser-use-once", json.dumps(request)],
                                           browser_use_env(), work / "browser-use.log", model)
    said = ""
    for line in out.splitlines():
        if line.startswith(RESULT):
            answer = json.loads(line[len(RESULT):])
            if "error" in answer:
                raise RuntimeError(answer["error"])
            said = (answer.get("answer") or "") if answer.get("success") else ""
    return Run(seconds, first, *_check(site, script, code, said))


def browser_use_once(request: str) -> int:
    """In browser-use's environment: one run (step.py's), its result after RESULT on stdout."""
    try:
        answer = asyncio.run(_browser_use_once(json.loads(request)))
    except Exception as exc:  # said to the parent, which stops the peer's runs there
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(RESULT + json.dumps(answer) + "\n")
    return 0


def _peer_python() -> tuple[Path | None, str]:
    from peers import PeerError, peer_python

    try:
        return peer_python("browser-use"), ""
    except (PeerError, OSError) as exc:
        return None, f"browser-use could not be installed: {exc}"


def _peer_version(python: Path) -> str:
    asked = "import importlib.metadata as m; print(m.version('browser-use'))"
    out = subprocess.run([str(python), "-c", asked], capture_output=True, text=True, env=browser_use_env())
    return out.stdout.strip() or "?"


def main(runs: int, warmup: int, with_peer: bool, keep: bool, baseline: str | None) -> int:
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", "/work/shared/tiktoken")
    from importlib.metadata import version

    work = Path(tempfile.mkdtemp(prefix="bench-run-"))
    python, why_not = _peer_python() if with_peer else (None, "--no-peer given")
    peer_name = f"browser-use {_peer_version(python)}" if python is not None else "browser-use"
    ours: list[Run] = []
    before: list[Run] = []
    theirs: list[Run] = []
    try:
        with FormSite() as site:
            for i in range(warmup + runs):
                counted = i >= warmup
                run = ours_once(site, work)
                if counted:
                    ours.append(run)
                if baseline:
                    run = ours_once(site, work, baseline)
                    if counted:
                        before.append(run)
                if python is not None:
                    try:
                        other = peer_once(site, python, work)
                    except Exception as exc:
                        why_not = f"browser-use failed: {exc}"
                        python = None
                    else:
                        if counted:
                            theirs.append(other)
    finally:
        if keep:
            print(f"(logs and traces kept in {work})")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"A whole short run, process start to exit: a 2-page form, {len(PLAN)} steps, the model "
          f"answering at once; {runs} runs each, interleaved, after {warmup} warm-up each.")
    print(f"{'':20} {'median':>8}   {'each run (s)':<40} {'ok':>5}   {'to 1st model request':>20}")
    table = [(f"operator {version('operator-agent')}", ours)] + ([("baseline", before)] if before else []) \
        + ([(peer_name, theirs)] if theirs else [])
    for name, rows in table:
        each = " ".join(f"{r.seconds:.2f}" for r in rows)
        ok = f"{sum(r.ok for r in rows)}/{len(rows)}"
        first = statistics.median(r.first for r in rows)
        print(f"{name:20} {statistics.median(r.seconds for r in rows):6.2f} s   {each:<40} {ok:>5}   "
              f"{first:18.2f} s")
    for name, rows in table:
        for r in rows:
            if r.note:
                print(f"  {name}: {r.note}")
    if theirs:
        ratio = statistics.median(r.seconds for r in ours) / statistics.median(r.seconds for r in theirs)
        print(f"ratio ours / browser-use: {ratio:.2f}x; target <= {TARGET_RATIO}x: "
              f"{'PASS' if ratio <= TARGET_RATIO else 'MISS'}")
        if why_not:
            print(f"peer stopped after {len(theirs)} of {runs} runs: {why_not}")
    else:
        print(f"peer not run: {why_not or 'browser-use gave no result'}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--browser-use-once"]:
        sys.exit(browser_use_once(sys.argv[2]))
    parser = argparse.ArgumentParser(description=re.sub(r"\s+", " ", (__doc__ or "").split("\n\n")[0]))
    parser.add_argument("--runs", type=int, default=5, help="counted runs of each side (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs of each side first (default 1)")
    parser.add_argument("--no-peer", action="store_true", help="only ours: do not install or run browser-use")
    parser.add_argument("--keep", action="store_true", help="keep the logs and traces")
    parser.add_argument("--baseline", metavar="SRC",
                        help="also run `operator` from this copy of the source root (a folder holding "
                             "operator_agent/), interleaved, for before/after")
    args = parser.parse_args()
    baseline = str(Path(args.baseline).resolve()) if args.baseline else None
    sys.exit(main(args.runs, args.warmup, not args.no_peer, args.keep, baseline))
