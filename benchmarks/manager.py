"""A manager with two workers at once against the same work done one worker at a time.

The request: buy the cheapest in-stock USB-C cable under $15 on the practice shop, and find
the cheapest Economy Light fare from New York to Lisbon ten days ahead on the flight site
(tests/test_manager.py's first test): two sub-tasks, the fare worker's first answer sent
back once for its missing price. The model is the fake OpenAI-compatible server answering
each request at once by reading it (operator_bench.solutions.manager), so no model time is
in the figures; everything else is real: Chromium (one browser, a context per worker), the
sites on loopback, the gate, the ledger, the traces.

`--latency S` makes the fake model take S seconds over every reply, as a real model takes
its time (default 0: only our own work is timed, and much of it, the observations and the
loop, runs on the one Python thread all workers share; the model's time is what overlaps
best).

Each run is builder.build_manager(...).run() on freshly reset sites, timed by the manager
(its wall time, from the plan to the answer) and by each worker attempt (its run's own
time). Runs alternate: 2 workers at once, then 1 at a time (the same manager with
--workers 1), after one warm-up run of each. Printed: the median wall time of each, the
median of the workers' own times added up, and the ratios

    wall (2 at once) / sum of the workers' own times      (below 1: they overlapped)
    wall (2 at once) / wall (1 at a time)

    .venv/bin/python benchmarks/manager.py [--runs 5] [--latency 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HOME = Path(tempfile.mkdtemp(prefix="bench-manager-"))  # policy, audit log, runs: not kept
os.environ.update({"XDG_CONFIG_HOME": str(HOME / "config"), "XDG_DATA_HOME": str(HOME / "data"),
                   "OPERATOR_RUNS_DIR": str(HOME / "runs")})

from operator_agent.builder import build_manager  # noqa: E402
from operator_agent.launch import BrowserOptions, open_browser  # noqa: E402
from operator_agent.permissions.gate import CallbackApprover  # noqa: E402
from operator_bench.sites import PracticeSites  # noqa: E402
from operator_bench.solutions import manager as scripted  # noqa: E402
from operator_bench.testing.fake_openai import FakeOpenAIServer  # noqa: E402

TASK = ("Buy the cheapest in-stock USB-C cable under $15 and find the cheapest economy fare from New York "
        "to Lisbon; tell me the total.")


@dataclass
class Run:
    workers: int
    wall: float  # the manager's, plan to answer
    worker_sum: float  # every worker attempt's own run time, added up
    ok: bool
    note: str = ""


class Slow(scripted.ManagerScript):
    """The script, each reply given after `latency` seconds (on the fake server's own thread)."""

    def __init__(self, *args: object, latency: float, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.latency = latency

    def __call__(self, body: dict[str, object]) -> dict[str, object]:
        reply = super().__call__(body)
        if self.latency:
            time.sleep(self.latency)  # the model thinking, not a wait for anything of ours
        return reply


async def one_run(sites: PracticeSites, browser: object, workers: int, latency: float) -> Run:
    sites.reset()
    sites.configure(slow_ms=0, newsletter_delay_ms=-1)
    day = dt.date.today() + dt.timedelta(days=10)
    plan, steps = scripted.cable_and_fare(sites.shop_url, sites.flights_url, day)
    with FakeOpenAIServer(default=Slow(plan, steps, latency=latency), model="fake-model") as fake:
        manager = build_manager(model="fake-model", base_url=fake.base_url, browser=browser,  # type: ignore[arg-type]
                                workers=workers, max_retries=1, vault=None,
                                approver=CallbackApprover(lambda verdict, action: True))
        async with manager:
            result = await manager.run(TASK)
    ok = result.success and result.retries == 1 and len(sites.state("shop")["orders"]) == 1
    return Run(workers, result.seconds, result.worker_seconds, ok, "" if ok else result.message[:200])


async def main(runs: int, latency: float) -> None:
    handle = await open_browser(BrowserOptions())
    try:
        with PracticeSites(seed=0) as sites:
            for workers in (2, 1):  # warm-up: imports, the sites' first pages, the browser's caches
                await one_run(sites, handle.browser, workers, latency)
            results: list[Run] = []
            for _ in range(runs):
                for workers in (2, 1):
                    results.append(await one_run(sites, handle.browser, workers, latency))
    finally:
        await handle.close()
        shutil.rmtree(HOME, ignore_errors=True)
    print(f"model latency {latency:g} s per reply, {runs} runs each")
    report(results)


def report(results: list[Run]) -> None:
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"run with {r.workers} worker(s) did not go as scripted: {r.note}")
    both = [r for r in results if r.workers == 2 and r.ok]
    alone = [r for r in results if r.workers == 1 and r.ok]
    if not both or not alone:
        print("not enough successful runs to compare")
        return
    wall2 = statistics.median(r.wall for r in both)
    sum2 = statistics.median(r.worker_sum for r in both)
    wall1 = statistics.median(r.wall for r in alone)
    sum1 = statistics.median(r.worker_sum for r in alone)
    print(f"2 workers at once:   median wall {wall2:.2f} s  (runs: {_each(both)})")
    print(f"  the workers' own times added up: median {sum2:.2f} s")
    print(f"1 worker at a time:  median wall {wall1:.2f} s  (runs: {_each(alone)})")
    print(f"  the workers' own times added up: median {sum1:.2f} s")
    print(f"ratio wall (2 at once) / sum of the workers' own times: {wall2 / sum2:.2f}")
    print(f"ratio wall (2 at once) / wall (1 at a time): {wall2 / wall1:.2f}")


def _each(runs: list[Run]) -> str:
    return ", ".join(f"{r.wall:.2f}" for r in runs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the fake model takes per reply")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.latency))
