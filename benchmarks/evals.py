"""What the evaluation harness costs per MiniWoB++ episode, against the Playwright floor, and
its throughput with 1 and 2 workers.

- harness: the MiniWoB++ tasks that ship scripted solutions, through the real agent loop (the
  scripted planner decides in microseconds, so an episode's wall time is the harness: a fresh
  browser context, the task page, the seeded episode start, the loop's observations and
  actions, the permission gate, the trace, the reward and the checks);
- playwright floor: five of those tasks (FLOOR) solved by a plain Playwright script in one
  browser: a new context and page, the task page, the same seeded start, the solving clicks
  and typing, the reward read, the context closed. Nothing an agent needs (observing,
  gating, tracing) is in it: it is the least an episode can cost here.

- browsergym: the same five tasks solved with BrowserGym's own actions in its own environment
  (benchmarks/evals_browsergym.py; the peer is installed by benchmarks/peers.py), one env per
  task and a reset per episode, as BrowserGym runs them (--no-peer skips it).

The three run interleaved on the same five tasks and seeds (rounds), and the medians and
ratios are printed; then every solved task with 1 worker and 2 workers
(worker processes), and the speed-up.

    .venv/bin/python benchmarks/evals.py [--episodes 30] [--rounds 3] [--no-screenshots] [--no-peer]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "operator"))
SHARED_TIKTOKEN = ROOT.parent / "shared" / "tiktoken"
if not os.environ.get("TIKTOKEN_CACHE_DIR") and SHARED_TIKTOKEN.is_dir():
    os.environ["TIKTOKEN_CACHE_DIR"] = str(SHARED_TIKTOKEN)

from playwright.async_api import Page  # noqa: E402

from operator_agent.evals.miniwob import MiniWobServer, read_reward, start_episode  # noqa: E402
from operator_agent.evals.planners import PlannerSpec  # noqa: E402
from operator_agent.evals.results import TaskResult  # noqa: E402
from operator_agent.evals.runner import EvalRequest, execute, prepare  # noqa: E402
from operator_agent.evals.worker import VIEWPORT  # noqa: E402
from operator_agent.launch import BrowserOptions, open_browser  # noqa: E402
from operator_bench.solutions.miniwob import SOLVED  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from evals_browsergym import browsergym_episodes  # noqa: E402


def _quoted(instruction: str) -> str:
    found = re.search(r'"(.+?)"', instruction)
    assert found, instruction
    return found.group(1)


async def _click_test(page: Page, instruction: str) -> None:
    await page.click("#subbtn")


def _exactly(instruction: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(_quoted(instruction))}$")


async def _click_button(page: Page, instruction: str) -> None:
    await page.locator("#area button", has_text=_exactly(instruction)).first.click()


async def _click_link(page: Page, instruction: str) -> None:
    await page.locator("#area span.alink", has_text=_exactly(instruction)).first.click()


async def _enter_text(page: Page, instruction: str) -> None:
    await page.fill("#tt", _quoted(instruction))
    await page.click("#subbtn")


async def _focus_text(page: Page, instruction: str) -> None:
    await page.click("#tt")


FLOOR: dict[str, Callable[[Page, str], Awaitable[None]]] = {
    "click-test": _click_test, "click-button": _click_button, "click-link": _click_link,
    "enter-text": _enter_text, "focus-text": _focus_text}


async def floor_round(seeds: list[int]) -> list[float]:
    """Every FLOOR task at every seed, plain Playwright: seconds per episode."""
    times: list[float] = []
    with MiniWobServer() as server:
        handle = await open_browser(BrowserOptions(headless=True))
        try:
            assert handle.browser is not None
            for seed in seeds:
                for task, solve in FLOOR.items():
                    t0 = time.monotonic()
                    context = await handle.browser.new_context(viewport=VIEWPORT)
                    page = await context.new_page()
                    instruction = await start_episode(page, server.url(f"/miniwob/{task}.html"), seed, 60_000)
                    await solve(page, instruction)
                    reward = await read_reward(page)
                    await context.close()
                    times.append(time.monotonic() - t0)
                    if reward.raw <= 0:
                        raise AssertionError(f"the floor's script failed {task} seed {seed}: {reward}")
        finally:
            await handle.close()
    return times


def run(tasks: list[str], seeds: list[int], workers: int, screenshots: bool, out: Path,
        episodes: int | None = None) -> tuple[float, list[TaskResult]]:
    plan = prepare(EvalRequest("miniwob", planner=PlannerSpec("scripted"), tasks=",".join(tasks), seeds=seeds,
                               workers=workers, results=out / f"w{workers}-{time.monotonic_ns()}.jsonl",
                               screenshots=screenshots))
    plan.items = plan.items[:episodes]
    t0 = time.monotonic()
    results = execute(plan, progress="none")
    return time.monotonic() - t0, results


def _failed(results: list[TaskResult]) -> str:
    failed = sum(not r.success for r in results)
    return f"  ({failed} FAILED)" if failed else ""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--episodes", type=int, default=30, help="for the 1 vs 2 workers comparison")
    p.add_argument("--rounds", type=int, default=3, help="interleaved floor / harness rounds")
    p.add_argument("--no-screenshots", action="store_true")
    p.add_argument("--no-peer", action="store_true", help="without BrowserGym")
    args = p.parse_args()
    shots = not args.no_screenshots
    seeds = [0, 1]
    with tempfile.TemporaryDirectory(prefix="bench-evals-") as tmp:
        out = Path(tmp)
        floor: list[float] = []
        harness: list[TaskResult] = []
        peer: list[float] = []
        for _ in range(args.rounds):
            floor += asyncio.run(floor_round(seeds))
            harness += run(list(FLOOR), seeds, 1, shots, out)[1]
            if not args.no_peer:
                peer += browsergym_episodes(list(FLOOR), seeds)
        per, base = statistics.median(r.seconds for r in harness), statistics.median(floor)
        print(f"per episode on {', '.join(FLOOR)} ({len(floor)} episodes each, interleaved):")
        print(f"  playwright floor: {1000 * base:6.0f} ms")
        print(f"  harness:          {1000 * per:6.0f} ms = {per / base:.2f}x the floor{_failed(harness)}")
        if peer:
            gym = statistics.median(peer)
            print(f"  browsergym:       {1000 * gym:6.0f} ms = {gym / base:.2f}x the floor; "
                  f"harness / browsergym {per / gym:.2f}x")
        setup = statistics.median(r.setup_seconds for r in harness)
        loop = statistics.median(r.agent_seconds for r in harness)
        after = statistics.median(r.seconds - r.setup_seconds - r.agent_seconds for r in harness)
        print(f"    harness: setup (context, task page, seeded start, gate) {1000 * setup:.0f} ms, agent "
              f"loop (observe, decide, gate, act, trace) {1000 * loop:.0f} ms, after (reward, checks, "
              f"closing) {1000 * after:.0f} ms")

        tasks = sorted(SOLVED)
        all_seeds = list(range((args.episodes + len(tasks) - 1) // len(tasks)))
        walls = {}
        for workers in (1, 2):
            wall, results = run(tasks, all_seeds, workers, shots, out, args.episodes)
            walls[workers] = wall
            print(f"{workers} worker{'s' if workers > 1 else ' '}: {len(results)} episodes of every solved "
                  f"task in {wall:6.1f} s = {60 * len(results) / wall:5.1f} episodes/min{_failed(results)}")
        print(f"speed-up with 2 workers: {walls[1] / walls[2]:.2f}x on {os.cpu_count()} CPUs "
              f"(screenshots {'on' if shots else 'off'}; each run includes starting its workers)")


if __name__ == "__main__":
    main()
