"""What the evaluation harness costs per MiniWoB++ episode, and its throughput.

Runs the MiniWoB++ tasks that ship scripted solutions through the real agent loop
(the scripted planner decides in microseconds, so an episode's wall time is the
harness: a fresh browser context, the task page, the seeded episode start, the
loop's observations and actions, the permission gate, the trace, the reward and
the checks), first with 1 worker, then with 2, and prints:

- the median wall time per episode with 1 worker (and the part spent in the loop),
- episodes per minute with 1 and 2 workers, and the speed-up.

    .venv/bin/python benchmarks/evals.py [--episodes 30] [--no-screenshots]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "operator"))
SHARED_TIKTOKEN = ROOT.parent / "shared" / "tiktoken"
if not os.environ.get("TIKTOKEN_CACHE_DIR") and SHARED_TIKTOKEN.is_dir():
    os.environ["TIKTOKEN_CACHE_DIR"] = str(SHARED_TIKTOKEN)

from operator_agent.evals.planners import PlannerSpec  # noqa: E402
from operator_agent.evals.results import TaskResult  # noqa: E402
from operator_agent.evals.runner import EvalRequest, execute, prepare  # noqa: E402
from operator_bench.solutions.miniwob import SOLVED  # noqa: E402


def run(workers: int, episodes: int, screenshots: bool, out: Path) -> tuple[float, list[TaskResult]]:
    tasks = sorted(SOLVED)
    seeds = list(range((episodes + len(tasks) - 1) // len(tasks)))
    plan = prepare(EvalRequest("miniwob", planner=PlannerSpec("scripted"), tasks=",".join(tasks), seeds=seeds,
                               workers=workers, results=out / f"w{workers}.jsonl", screenshots=screenshots))
    plan.items = plan.items[:episodes]
    t0 = time.monotonic()
    results = execute(plan, progress="none")
    return time.monotonic() - t0, results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--episodes", type=int, default=30)
    p.add_argument("--no-screenshots", action="store_true")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evals-") as tmp:
        out = Path(tmp)
        figures = {}
        for workers in (1, 2):
            wall, results = run(workers, args.episodes, not args.no_screenshots, out)
            failed = sum(not r.success for r in results)
            figures[workers] = (wall, results)
            print(f"{workers} worker{'s' if workers > 1 else ' '}: {len(results)} episodes in {wall:6.1f} s "
                  f"= {60 * len(results) / wall:5.1f} episodes/min"
                  + (f"  ({failed} FAILED)" if failed else ""))
        wall1, res1 = figures[1]
        per = statistics.median(r.seconds for r in res1)
        setup = statistics.median(r.setup_seconds for r in res1)
        loop = statistics.median(r.agent_seconds for r in res1)
        steps = statistics.median(r.steps for r in res1)
        print(f"harness overhead per episode (1 worker, scripted planner, median of {len(res1)}): "
              f"{per:.2f} s")
        print(f"  setup (browser context, task page, seeded start, gate): {setup:.2f} s")
        print(f"  agent loop ({steps:g} step: observe, decide, gate, act, trace): {loop:.2f} s")
        after = statistics.median(r.seconds - r.setup_seconds - r.agent_seconds for r in res1)
        print(f"  after (reward, checks, closing the context): {after:.2f} s")
        print(f"speed-up with 2 workers: {wall1 / figures[2][0]:.2f}x on {os.cpu_count()} CPUs "
              f"(screenshots {'off' if args.no_screenshots else 'on'})")


if __name__ == "__main__":
    main()
