"""How fast is PreferenceStore.relevant() (and the guard's check) on a big store?

Fills a fresh SQLite file with 10,000 preferences (site-scoped ones on 1,500 hosts,
thousands of brands and airlines "everywhere", free-text notes, category-scoped
ones), then measures the median of 20 runs of `relevant(task, observation)` for a
flights task on a flights page, a shopping task on a shop page and a task with no
category, after a warm-up run; and of PreferenceGuard.check on a result's "Select".
Prints PASS/MISS against the target.

    .venv/bin/python benchmarks/preferences.py [--entries 10000] [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SHARED_TIKTOKEN = Path(__file__).resolve().parents[2] / "shared" / "tiktoken"
if not os.environ.get("TIKTOKEN_CACHE_DIR") and SHARED_TIKTOKEN.is_dir():
    os.environ["TIKTOKEN_CACHE_DIR"] = str(SHARED_TIKTOKEN)

from operator_agent.preferences import PreferenceGuard, PreferenceStore  # noqa: E402
from operator_agent.types import Click, Element, Observation  # noqa: E402

TARGET_MS = 20.0  # per relevant() call, median


def _split(text: str) -> list[str]:
    return text.split()


WORDS = _split("""quiet hotel breakfast pool gym late checkout parking pet vegan gluten spicy balcony view
    museum beach hiking train ferry taxi rental bike lounge wifi desk window kettle crib laundry sauna
    garden terrace rooftop jazz opera market bakery cafe ramen sushi tapas""")
SYLLABLES = _split("ka ri to mo ve lan dor sil pex qua zen bri tor nix val cor mun del fi ra")

FLIGHTS_TEXT = """url: https://skyway.test/results?from=JFK&to=LIS
title: New York to Lisbon | Skyway
[1] link "Skyway"
# New York (JFK) → Lisbon (LIS)
## 19 flights found
Lusitania Air · 22:35 – 11:00 +1 day · JFK → LIS · LU 134 · 7h 25m · Nonstop · Overnight · $423.00
[2] button "Select" collapsed
Iberiana · 07:10 – 22:35 · JFK → LIS · IA 230, IA 158 · 10h 25m · 1 stop (1h 20m in MAD) · $558.00
[3] button "Select" collapsed
""" + "\n".join(f"Carrier{i} Air · 1{i % 10}:05 – 2{i % 4}:40 · Nonstop · ${400 + i}.00\n"
                f"[{4 + i}] button \"Select\"" for i in range(40))

SHOP_TEXT = """url: https://brightcart.test/search?q=usb+cable
title: Results for "usb cable" | Brightcart
[1] searchbox "Search Brightcart" value="usb cable"
# Results for "usb cable"
""" + "\n".join(f"[{2 + i}] link \"Brand{i} Plus USB-C Cable, {i}W\"\n"
                f"by Brand{i} · 4.{i % 10} out of 5 stars · ${5 + i}.99 · In stock" for i in range(40))


def _name(rng: random.Random, serial: int) -> str:
    """A made-up name, unique by its serial number (so no entry repeats another)."""
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize() + _letters(serial)


def _letters(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 26)
        out += "abcdefghijklmnopqrstuvwxyz"[r]
        if not n:
            return out


def generate(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """n preferences as an export, spread over subjects, scopes and sources."""
    rng = random.Random(seed)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str, str]] = set()

    def pref(subject: str, value: str, polarity: str = "prefer", scope: str = "everywhere",
             source: str = "told") -> None:
        if (subject, value, polarity, scope) in seen:
            return  # an import skips exact repeats: generate none
        seen.add((subject, value, polarity, scope))
        t = (t0 + timedelta(minutes=len(out))).isoformat()
        out.append({"subject": subject, "value": value, "polarity": polarity, "scope": scope,
                    "source": source, "confidence": 1.0 if source == "told" else 0.8,
                    "evidence": [f"told: {value}"], "created": t, "updated": t})

    pref("flights.departure_time", "red-eye", "never")  # what the guard benchmark trips over
    pref("flights.seat", "aisle")
    hosts = [f"{_name(rng, i).lower()}.example" for i in range(1500)]
    while len(out) < n * 0.30:  # site-scoped: seats, speeds, brands on many sites
        host = rng.choice(hosts)
        kind = rng.randrange(3)
        if kind == 0:
            pref("flights.seat", rng.choice(["aisle", "window"]), scope=f"site:{host}")
        elif kind == 1:
            pref("shipping.speed", rng.choice(["express", "standard"]), scope=f"site:{host}")
        else:
            pref("shopping.brand", _name(rng, len(out)), rng.choice(["prefer", "avoid"]),
                 scope=f"site:{host}")
    while len(out) < n * 0.50:  # brands everywhere
        pref("shopping.brand", _name(rng, len(out)), rng.choice(["prefer", "avoid", "never"]))
    while len(out) < n * 0.65:  # airlines everywhere
        pref("flights.airline", f"{_name(rng, len(out))} Air", rng.choice(["prefer", "avoid", "never"]))
    while len(out) < n * 0.70:  # category-scoped and learned
        if rng.random() < 0.5:
            pref("flights.airline", f"{_name(rng, len(out))} Air", "prefer", scope="category:flights",
                 source="learned")
        else:
            pref("shopping.brand", _name(rng, len(out)), "prefer", scope="category:shopping",
                 source="learned")
    while len(out) < n:  # free-text notes
        pref("note", " ".join(rng.sample(WORDS, 5)) + f" {_name(rng, len(out))}")
    return out


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: first-use caches (tokenizer, SQLite pages)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def observation(text: str, url: str, n_buttons: int) -> Observation:
    els = [Element(index=i, role="button", tag="button", name="Select") for i in range(2, 2 + n_buttons)]
    return Observation(url=url, title=text.splitlines()[1][7:], text=text, elements=els)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, PreferenceStore(Path(tmp) / "prefs.db") as store:
        t = time.perf_counter()
        store.import_json(generate(args.entries))
        fill = time.perf_counter() - t
        active = len(store.preferences())
        print(f"store: {len(store):,} preferences ({active:,} active) filled in {fill:.1f}s")

        flights = observation(FLIGHTS_TEXT, "https://skyway.test/results?from=JFK&to=LIS", 42)
        shop = observation(SHOP_TEXT, "https://brightcart.test/search?q=usb+cable", 0)
        cases = [
            ("book a flight to Lisbon (flights page)", "book a flight to Lisbon", flights),
            ("buy a USB-C cable under $15 (shop page)", "buy a USB-C cable under $15", shop),
            ("find a quiet hotel with a pool (no category)", "find a quiet hotel with a pool", shop),
        ]
        ok = True
        for label, task, obs in cases:
            ms = median_ms(lambda task=task, obs=obs: store.relevant(task, obs), args.runs)
            shown = store.relevant(task, obs)
            tokens = sum(len(n.text) for n in shown) // 4
            verdict = "PASS" if ms <= TARGET_MS else "MISS"
            ok &= ms <= TARGET_MS
            print(f"relevant() {label}: median {ms:.2f} ms over {args.runs} runs; {len(shown)} shown "
                  f"(~{tokens} tokens) [{verdict} <= {TARGET_MS:.0f} ms]")
        guard = PreferenceGuard(store)
        for label, action in (("red-eye Select", Click(index=2)), ("ordinary Select", Click(index=3))):
            # broken() is all of check() but the Verdict: timed without an event loop per call.
            ms = median_ms(lambda action=action: guard.broken(action, flights), args.runs)
            verdict = asyncio.run(guard.check(action, flights)).decision
            print(f"PreferenceGuard check ({label}): median {ms:.2f} ms -> {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
