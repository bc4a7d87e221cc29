"""How fast does `operator` start?

Times, as a person at a shell would see it (wall time of a new process), the median of
several runs of `operator --version`, `operator --help`, `operator run --help`,
`operator doctor` and `python -c "import operator_agent"`, after one warm-up run each;
then lists the heavy modules (playwright, openai, tiktoken, numpy, ...) that the
`--version` path leaves in sys.modules. Prints PASS/MISS against the target of issue
"Fast": `operator --version` in at most 0.3 s.

    .venv/bin/python benchmarks/startup.py [--runs 7] [--no-doctor] [--baseline SRC]

--baseline SRC measures another copy of the source root (a folder holding
operator_agent/, e.g. an old checkout's operator/) next to this one, for before/after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SHARED_TIKTOKEN = Path(__file__).resolve().parents[2] / "shared" / "tiktoken"
OPERATOR = str(Path(sys.executable).with_name("operator"))
TARGET_VERSION_S = 0.3
HEAVY = ("playwright", "openai", "tiktoken", "numpy", "cv2", "pydantic", "PIL", "rich", "httpx", "yaml")

# Run in a fresh interpreter: the --version path as the console script takes it.
PROBE = f"""
import json, sys
from operator_agent.cli import main
try:
    main(["--version"])
except SystemExit:
    pass
print(json.dumps([sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r})), len(sys.modules)]))
"""


def commands(doctor: bool) -> dict[str, list[str]]:
    found = {
        "operator --version": [OPERATOR, "--version"],
        "operator --help": [OPERATOR, "--help"],
        "operator run --help": [OPERATOR, "run", "--help"],
        "operator doctor": [OPERATOR, "doctor"],
        "import operator_agent": [sys.executable, "-c", "import operator_agent"],
    }
    if not doctor:
        del found["operator doctor"]
    return found


def environment(source: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("TIKTOKEN_CACHE_DIR") and SHARED_TIKTOKEN.is_dir():
        env["TIKTOKEN_CACHE_DIR"] = str(SHARED_TIKTOKEN)  # doctor reads it; nothing is downloaded
    if source:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    return env


def wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, check=False, timeout=120)
    return time.perf_counter() - start


def measure(env: dict[str, str], runs: int, doctor: bool) -> dict[str, float]:
    medians = {}
    for name, argv in commands(doctor).items():
        wall(argv, env)  # warm-up: byte-code caches written, files in the page cache
        medians[name] = statistics.median(wall(argv, env) for _ in range(runs))
    return medians


def heavy_modules(env: dict[str, str]) -> tuple[list[str], int]:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    heavy, count = json.loads(out.strip().splitlines()[-1])
    return heavy, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-doctor", action="store_true",
                        help="skip `operator doctor` (it starts Playwright)")
    parser.add_argument("--baseline", metavar="SRC",
                        help="also measure this source root, e.g. an old checkout's")
    args = parser.parse_args()

    setups = {"this": environment(None)}
    if args.baseline:
        setups = {"baseline": environment(str(Path(args.baseline).resolve())), **setups}
    results = {label: measure(env, args.runs, not args.no_doctor) for label, env in setups.items()}
    print(f"median wall time of {args.runs} runs (s), after one warm-up run each")
    print(f"{'':24}" + "".join(f"{label:>10}" for label in results))
    for name in commands(not args.no_doctor):
        print(f"{name:24}" + "".join(f"{r[name]:>10.3f}" for r in results.values()))
    for label, env in setups.items():
        heavy, count = heavy_modules(env)
        print(f"{label}: `--version` loads {count} modules; heavy ones: {', '.join(heavy) or 'none'}")
    version = results["this"]["operator --version"]
    verdict = "PASS" if version <= TARGET_VERSION_S else "MISS"
    print(f"{verdict}: operator --version {version:.3f} s (target <= {TARGET_VERSION_S} s)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
