"""BrowserGym's wall time per MiniWoB++ episode, on the five tasks benchmarks/evals.py's
Playwright floor solves (FLOOR), for evals.py to print next to ours.

BrowserGym (browsergym-core and browsergym-miniwob 0.14.3, miniwob 1.1.0) runs in its own
environment (benchmarks/peers.py), in a driver process: this file run with --driver. Per
task one env, gym.make("browsergym/miniwob.<task>") with BrowserGym's defaults; per episode
env.reset(seed=...), then one env.step() whose action string is made with BrowserGym's own
high-level actions (click('bid'), fill('bid', "text"); two of them in one step for
enter-text, as its default action set allows and as our scripted planner does in one
decision), the bids read off the observation's DOM snapshot the way FLOOR's selectors pick
the elements. An episode is timed from the start of reset() to the end of the step that
returns a reward above 0 (anything else is a failure). What BrowserGym does in those is its
normal cost and is kept:

- reset() closes the env's previous browsers and launches two new Chromiums (the task's and
  its chat window's), each with a new context and page, opens the task page, starts the
  seeded episode and extracts the observation (DOM snapshot, accessibility tree, screenshot);
- MiniWoB tasks set Playwright's slow_mo to 100 ms (every Playwright action is delayed);
- step() waits pre_observation_delay (0.5 s) after the action, then validates and extracts
  the observation again.

Not timed: starting the driver process and Playwright's own driver (as the floor's browser
start is not). The first episode of each env has no previous browsers to close in its
reset(); env.close() after the last is not timed. BrowserGym seeds its page from the episode
seed (a random number drawn from it), so "seed 0" is not the same problem instance as ours.

Chromium: BrowserGym launches Playwright's bundled Chromium, which is not installed here; the
driver patches Playwright's BrowserType.launch to add executable_path=$OPERATOR_CHROMIUM (else
/usr/bin/chromium) and our flags to every launch (BrowserEnv's pw_chromium_kwargs cannot do
it: the chat's browser is launched without them, and BrowserEnv passes its own `args`).

    .venv/bin/python benchmarks/peers.py browsergym   # once (done on first use too)
    .venv/bin/python benchmarks/evals_browsergym.py [--rounds 3] [--file-url]

From our Python: browsergym_episodes(tasks, seeds, rounds) -> seconds per episode.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TASKS = ["click-test", "click-button", "click-link", "enter-text", "focus-text"]
SEEDS = [0, 1]
CHROMIUM = os.environ.get("OPERATOR_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
RESULT = "BROWSERGYM-RESULT "  # the driver's answer line on stdout (libraries may print, too)


class BrowserGymError(RuntimeError):
    """BrowserGym could not be set up, or an episode failed."""


# --- from our Python --------------------------------------------------------------------------------

def run_driver(tasks: list[str], seeds: list[int], rounds: int = 1, *,
               file_url: bool = False) -> dict[str, Any]:
    """Every task at every seed, `rounds` times, in one driver process in BrowserGym's
    environment; its report: versions, and per episode task, seed, seconds, reset_seconds."""
    unknown = sorted(set(tasks) - set(SOLVE))
    if unknown:
        raise ValueError(f"no BrowserGym solution for {', '.join(unknown)}; known: {', '.join(SOLVE)}")
    sys.path.insert(0, str(HERE))
    from peers import PeerError, peer_python

    try:
        python = peer_python("browsergym")
    except (PeerError, OSError) as exc:
        raise BrowserGymError(f"browsergym could not be installed: {exc}") from exc
    request = {"tasks": tasks, "seeds": seeds, "rounds": rounds, "file_url": file_url}
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)  # ours must not leak into the peer's environment
    timeout = 120 + 30 * len(tasks) * len(seeds) * rounds
    # a session of its own, so a hung driver goes with its Chromiums and Playwright's node
    proc = subprocess.Popen([str(python), __file__, "--driver", json.dumps(request)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise BrowserGymError(f"browsergym's driver gave no result in {timeout} s") from None
    for line in stdout.splitlines():
        if line.startswith(RESULT):
            report: dict[str, Any] = json.loads(line[len(RESULT):])
            if "error" in report:
                raise BrowserGymError(f"browsergym: {report['error']}")
            return report
    tail = "\n".join((stderr or stdout).splitlines()[-15:])
    raise BrowserGymError(f"browsergym's driver ended without a result (exit {proc.returncode}):\n{tail}")


def browsergym_episodes(tasks: list[str], seeds: list[int], rounds: int = 1) -> list[float]:
    """Wall seconds per episode of BrowserGym solving `tasks` at `seeds` (`rounds` times);
    raises BrowserGymError if it cannot run or an episode is not solved."""
    return [e["seconds"] for e in run_driver(tasks, seeds, rounds)["episodes"]]


# --- the driver, in BrowserGym's environment ---------------------------------------------------------

def _quoted(instruction: str) -> str:
    found = re.search(r'"(.+?)"', instruction)
    if not found:
        raise ValueError(f"no quoted word in {instruction!r}")
    return found.group(1)


@dataclass
class Element:
    """One element of the observation's DOM snapshot (the main document)."""

    tag: str
    attrs: dict[str, str]
    text: str  # its own text nodes, joined and stripped
    parents: list[Element] = field(default_factory=list)

    @property
    def bid(self) -> str:
        return self.attrs["bid"]  # BrowserGym's BROWSERGYM_ID_ATTRIBUTE

    def within(self, element_id: str) -> bool:
        return any(p.attrs.get("id") == element_id for p in self.parents)


def elements(dom: dict[str, Any]) -> list[Element]:
    """The elements of a CDP DOMSnapshot.captureSnapshot (what obs["dom_object"] is)."""
    strings: list[str] = dom["strings"]
    nodes = dom["documents"][0]["nodes"]
    found: dict[int, Element] = {}
    texts: dict[int, list[str]] = {}
    for i, parent in enumerate(nodes["parentIndex"]):
        kind = nodes["nodeType"][i]
        if kind == 1:
            flat = nodes["attributes"][i]
            attrs = {strings[flat[k]]: strings[flat[k + 1]] for k in range(0, len(flat), 2)}
            up = found.get(parent)
            parents = [*up.parents, up] if up else []
            found[i] = Element(strings[nodes["nodeName"][i]].lower(), attrs, "", parents)
        elif kind == 3 and parent in found:
            texts.setdefault(parent, []).append(strings[nodes["nodeValue"][i]])
    for i, parts in texts.items():
        found[i].text = "".join(parts).strip()
    return list(found.values())


def _one(found: list[Element], what: str) -> Element:
    for element in found:
        if "bid" in element.attrs:
            return element
    raise LookupError(f"no element with a bid for {what}")


def _by_id(dom: list[Element], element_id: str) -> Element:
    return _one([e for e in dom if e.attrs.get("id") == element_id], f"#{element_id}")


# The same elements FLOOR's Playwright selectors pick, as BrowserGym action strings.
def _click_test(dom: list[Element], goal: str) -> str:
    return f"click({_by_id(dom, 'subbtn').bid!r})"


def _click_button(dom: list[Element], goal: str) -> str:
    word = _quoted(goal)
    found = [e for e in dom if e.tag == "button" and e.within("area") and e.text == word]
    return f"click({_one(found, f'#area button {word!r}').bid!r})"


def _click_link(dom: list[Element], goal: str) -> str:
    word = _quoted(goal)
    found = [e for e in dom if e.tag == "span" and "alink" in e.attrs.get("class", "").split()
             and e.within("area") and e.text == word]
    return f"click({_one(found, f'#area span.alink {word!r}').bid!r})"


def _enter_text(dom: list[Element], goal: str) -> str:
    # two actions in one step: BrowserGym's default action set is multiaction
    box, submit = _by_id(dom, "tt").bid, _by_id(dom, "subbtn").bid
    return f"fill({box!r}, {json.dumps(_quoted(goal))})\nclick({submit!r})"


def _focus_text(dom: list[Element], goal: str) -> str:
    return f"click({_by_id(dom, 'tt').bid!r})"


SOLVE: dict[str, Callable[[list[Element], str], str]] = {
    "click-test": _click_test, "click-button": _click_button, "click-link": _click_link,
    "enter-text": _enter_text, "focus-text": _focus_text}


def _use_debian_chromium() -> None:
    """Every Playwright launch (BrowserEnv's and its Chat's) on our Chromium with our flags."""
    from playwright.sync_api import BrowserType

    launch = BrowserType.launch

    @functools.wraps(launch)
    def launch_ours(self: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("executable_path", CHROMIUM)
        kwargs["args"] = [*(kwargs.get("args") or []), *CHROMIUM_ARGS]
        return launch(self, **kwargs)

    BrowserType.launch = launch_ours  # type: ignore[method-assign]


@contextmanager
def miniwob_url(file_url: bool) -> Iterator[str]:
    """MINIWOB_URL: miniwob's html/miniwob/ folder over http on 127.0.0.1 (a stdlib server in
    a thread), as our harness and floor load it; or as a file:// URL, the setup BrowserGym's
    README gives first (both work for these five tasks; FlightWoB needs http)."""
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    import miniwob  # type: ignore[import-not-found, unused-ignore]

    root = Path(miniwob.__file__).resolve().parent / "html"
    if file_url:
        yield (root / "miniwob").as_uri() + "/"
        return

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/miniwob/"
    finally:
        server.shutdown()
        server.server_close()


def _episode(env: Any, task: str, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    obs, _ = env.reset(seed=seed)
    t1 = time.perf_counter()
    action = SOLVE[task](elements(obs["dom_object"]), obs["goal"])
    obs, reward, terminated, _, info = env.step(action)
    t2 = time.perf_counter()
    if not reward > 0:
        raise BrowserGymError(f"{task} seed {seed} not solved: reward {reward}, action {action!r}, "
                              f"error {obs['last_action_error']!r}, task info {info.get('task_info')}")
    return {"task": task, "seed": seed, "seconds": t2 - t0, "reset_seconds": t1 - t0,
            "step_seconds": t2 - t1, "terminated": bool(terminated)}


def driver(request: dict[str, Any]) -> dict[str, Any]:
    """Runs the episodes asked for; BrowserGym's environment only."""
    import importlib
    import importlib.metadata

    _use_debian_chromium()
    with miniwob_url(request["file_url"]) as url:
        os.environ["MINIWOB_URL"] = url
        import gymnasium as gym  # type: ignore[import-not-found, unused-ignore]
        from browsergym.core import _get_global_playwright  # type: ignore[import-not-found, unused-ignore]

        importlib.import_module("browsergym.miniwob")  # registers browsergym/miniwob.* (reads MINIWOB_URL)
        _get_global_playwright()  # Playwright's driver once, before the timings
        episodes: list[dict[str, Any]] = []
        for _ in range(request["rounds"]):
            for task in request["tasks"]:
                env = gym.make(f"browsergym/miniwob.{task}")  # BrowserGym's defaults
                try:
                    episodes += [_episode(env, task, seed) for seed in request["seeds"]]
                finally:
                    env.close()
    versions = {p: importlib.metadata.version(p)
                for p in ("browsergym-core", "browsergym-miniwob", "miniwob", "playwright")}
    return {"versions": versions, "url": url, "episodes": episodes}


def _driver_main(arg: str) -> None:
    try:
        report = driver(json.loads(arg))
    except Exception as exc:  # said to the parent, which raises it
        report = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(RESULT + json.dumps(report) + "\n")
    sys.stdout.flush()


# --- main ------------------------------------------------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=1, help="every task at every seed, this many times")
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    p.add_argument("--file-url", action="store_true", help="MINIWOB_URL as file:// instead of http")
    args = p.parse_args()
    tasks = [t for t in args.tasks.split(",") if t]
    unknown = sorted(set(tasks) - set(SOLVE))
    if unknown:
        p.error(f"no solution for {', '.join(unknown)}; known: {', '.join(SOLVE)}")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    try:
        report = run_driver(tasks, seeds, args.rounds, file_url=args.file_url)
    except BrowserGymError as exc:
        print(f"browsergym not run: {exc}", file=sys.stderr)
        return 1
    eps = report["episodes"]
    v = report["versions"]
    print(f"BrowserGym {v['browsergym-core']} (miniwob {v['miniwob']}, playwright {v['playwright']}), "
          f"MINIWOB_URL {report['url'].split(':')[0]}; {len(eps)} episodes of {', '.join(tasks)}, "
          f"seeds {seeds}:")
    print(f"  per episode: {1000 * statistics.median(e['seconds'] for e in eps):6.0f} ms median "
          f"(reset {1000 * statistics.median(e['reset_seconds'] for e in eps):.0f} ms, "
          f"step {1000 * statistics.median(e['step_seconds'] for e in eps):.0f} ms)")
    for task in tasks:
        each = " ".join(f"{1000 * e['seconds']:.0f}" for e in eps if e["task"] == task)
        print(f"  {task:13} {each} ms")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--driver":
        _driver_main(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
