"""How fast and how compact is DomPerceiver.observe on a product listing?

Generates a shop page of 200 cards (~4,000 DOM nodes) and one of 1,000 cards,
serves them on loopback, each in a tab of its own, and in Chromium measures the median of
10 runs of `DomPerceiver().observe(page)` on each, the two pages in turn (the order
alternating), after a warm-up run; then `page.locator("body").aria_snapshot()`
(Playwright's own accessibility walk, as a yardstick) on each.
Prints PASS/MISS against the targets, among them how the 1,000-card page's median
compares with the 200-card page's: the same window is listed, so the cost should not
grow with the document (subtrees wholly off-window are only counted).

    .venv/bin/python benchmarks/observe.py [--runs 10] [--headed]
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
from pathlib import Path
from typing import Any

SHARED_TIKTOKEN = Path(__file__).resolve().parents[2] / "shared" / "tiktoken"
if not os.environ.get("TIKTOKEN_CACHE_DIR") and SHARED_TIKTOKEN.is_dir():
    os.environ["TIKTOKEN_CACHE_DIR"] = str(SHARED_TIKTOKEN)

from playwright.async_api import Page  # noqa: E402

from operator_agent.launch import BrowserOptions, open_browser  # noqa: E402
from operator_agent.localserver import LocalServer  # noqa: E402
from operator_agent.perception.browser import DomPerceiver  # noqa: E402

MAX_GROWTH = 1.5  # median at 1,000 cards over median at 200 cards
TARGETS = {  # cards -> (max ms, max ratio to aria snapshot, max tokens); None: no target
    200: (100.0, 1.5, 2500),
    1000: (500.0, None, None),
}

CSS = """
body { margin: 0; font-family: system-ui, sans-serif; font-size: 14px; color: #222; }
header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #123; color: #fff; }
header a { color: #fff; text-decoration: none; }
header form { flex: 1; display: flex; }
header input { flex: 1; padding: 6px; }
nav { display: flex; gap: 14px; padding: 8px 24px; background: #eef; }
.layout { display: flex; gap: 24px; padding: 16px 24px; }
aside { width: 220px; flex: none; }
aside fieldset { border: 0; padding: 0; margin: 0 0 16px; }
aside label { display: block; margin: 3px 0; }
main { flex: 1; }
.toolbar { display: flex; justify-content: space-between; align-items: center; }
.grid { display: grid; grid-template-columns: repeat(4, 1fr); gap: 16px; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 10px;
        display: flex; flex-direction: column; gap: 4px; }
.card img { width: 100%; height: 120px; object-fit: cover; background: #eee; }
.card h3 { font-size: 15px; margin: 4px 0; }
.card h3 a { color: #124; }
.brand { color: #666; }
.price .now { font-weight: bold; }
.price .was { text-decoration: line-through; color: #999; margin-left: 6px; }
.stars { color: #e90; }
.sizes { display: flex; gap: 4px; }
.sizes button { padding: 2px 6px; }
.actions { display: flex; gap: 6px; }
.add { flex: 1; background: #fc3; border: 0; padding: 6px; cursor: pointer; }
footer { padding: 24px; background: #223; color: #ccc; display: grid; grid-template-columns: repeat(4, 1fr); }
footer a { color: #ccc; display: block; }
"""

BRANDS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne"]
NOUNS = ["Kettle", "Toaster", "Blender", "Lamp", "Backpack", "Headphones", "Mug", "Chair", "Jacket", "Watch"]
ADJS = ["Classic", "Compact", "Deluxe", "Eco", "Pro", "Smart", "Travel", "Ultra", "Vintage", "Wireless"]
PIXEL = "data:image/gif;base64,R0lGODlhAQABAAAAACw="


def card_html(i: int, rnd: random.Random) -> str:
    title = f"{rnd.choice(ADJS)} {rnd.choice(NOUNS)} {i}"
    price = rnd.randint(500, 20000) / 100
    stars = rnd.randint(2, 5)
    if i % 2:
        variant = (f'<select name="size-{i}" aria-label="Size"><option>Small</option><option selected>Medium'
                   '</option><option>Large</option></select>')
    else:
        variant = ('<div class="sizes"><button type="button">S</button><button type="button">M</button>'
                   '<button type="button">L</button></div>')
    was = f'<span class="was">${price * 1.2:.2f}</span>' if i % 3 == 0 else ""
    badge = '<div class="badge">Free delivery</div>' if i % 4 == 0 else ""
    return (
        f'<article class="card"><a href="/p/{i}" tabindex="-1"><img src="{PIXEL}" alt=""></a>'
        f'<h3><a href="/p/{i}">{title}</a></h3><div class="brand">{rnd.choice(BRANDS)}</div>'
        f'<div class="price"><span class="now">${price:.2f}</span>{was}</div>'
        f'<div class="rating"><span class="stars">{"★" * stars}{"☆" * (5 - stars)}</span> '
        f'<span class="count">({rnd.randint(1, 900)})</span></div>{variant}'
        f'<div class="actions"><button class="add" type="button">Add to cart</button>'
        f'<button type="button" aria-label="Save to wishlist">♡</button></div>{badge}</article>'
    )


def page_html(cards: int) -> str:
    rnd = random.Random(cards)
    nav = "".join(f'<a href="/c/{n.lower()}">{n}</a>' for n in NOUNS)
    filters = "".join(
        f'<fieldset><legend>{group}</legend>'
        + "".join(f'<label><input type="checkbox" name="{group}" value="{v}"> {v}</label>' for v in values)
        + "</fieldset>"
        for group, values in (("Brand", BRANDS), ("Category", NOUNS[:6]), ("Rating", ["4+", "3+", "2+"])))
    price = ('<fieldset><legend>Price</legend><input name="min" placeholder="Min" size="5"> – '
             '<input name="max" placeholder="Max" size="5"> <button type="button">Apply</button></fieldset>')
    footer = "".join(
        f'<div><h4>{h}</h4>' + "".join(f'<a href="/{h.lower()}/{j}">{h} link {j}</a>' for j in range(5))
        + "</div>" for h in ("Shop", "Help", "Company", "Legal"))
    grid = "".join(card_html(i, rnd) for i in range(1, cards + 1))
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Shop — {cards} products</title>'
        f'<style>{CSS}</style></head><body>'
        f'<header><a href="/">ShopCo</a><form role="search"><input name="q" placeholder="Search products">'
        f'<button>Search</button></form><a href="/account">Account</a><a href="/cart">Cart (0)</a></header>'
        f'<nav>{nav}</nav><div class="layout"><aside><h2>Filters</h2>{filters}{price}</aside>'
        f'<main><div class="toolbar"><h1>All products</h1><label>Sort by <select name="sort">'
        f'<option>Featured</option><option>Price: low to high</option><option>Price: high to low</option>'
        f'<option>Rating</option></select></label></div><p>{cards} results</p>'
        f'<div class="grid">{grid}</div></main></div><footer>{footer}</footer></body></html>'
    )


# Independent check: every visible, enabled interactive element within one viewport
# above/below the visible area carries this observation's stamp (is listed), except
# an unnamed image link going where a listed link goes (listed once, on purpose).
CHECK_JS = """(prefix) => {
  const sel = 'a[href],button,input:not([type=hidden]),select,textarea,summary,[role=button],[role=link],'
    + '[role=checkbox],[role=tab],[role=menuitem],[role=option],[contenteditable=true]';
  const h = innerHeight;
  const stamped = (el) => (el.getAttribute('data-oa') || '').startsWith(prefix);
  const hrefs = new Set([...document.querySelectorAll('a[href]')].filter(stamped).map((a) => a.href));
  let want = 0, missing = 0, same = 0;
  for (const el of document.querySelectorAll(sel)) {
    if (el.matches(':disabled')) continue;
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2 || r.bottom <= -h || r.top >= 2 * h) continue;
    want++;
    if (stamped(el)) continue;
    if (el.localName === 'a' && hrefs.has(el.href) && !el.textContent.trim()) same++;
    else missing++;
  }
  return [want, missing, same];
}"""


async def window_check(page, perceiver: DomPerceiver) -> tuple[int, int, int]:
    # The stamp prefix of the latest observation, e.g. `g12f0e` from `[data-oa="g12f0e3"]`.
    prefix = perceiver.target(1).selector.split('"')[1].rsplit("e", 1)[0] + "e"
    want, missing, same = await page.evaluate(CHECK_JS, prefix)
    return int(want), int(missing), int(same)


async def timed_observes(pages: dict[int, Page], perceivers: dict[int, DomPerceiver],
                         runs: int) -> dict[int, list[float]]:
    """observe() on every page in turn, the order alternating run by run: the pages are
    compared in the same moments of a machine whose speed drifts."""
    times: dict[int, list[float]] = {cards: [] for cards in pages}
    for cards, page in pages.items():
        await perceivers[cards].observe(page)  # warm-up (compiles the walker, warms style caches)
    for run in range(runs):
        for cards in (list(pages) if run % 2 == 0 else list(reversed(pages))):
            t = time.perf_counter()
            await perceivers[cards].observe(pages[cards])
            times[cards].append((time.perf_counter() - t) * 1000)
    return times


async def measure(page: Page, perceiver: DomPerceiver, runs: int) -> dict[str, Any]:
    """The yardstick (Playwright's aria snapshot), what the last observation listed, and the
    window check at the top and halfway down."""
    await page.locator("body").aria_snapshot()
    aria = []
    for _ in range(runs):
        t = time.perf_counter()
        await page.locator("body").aria_snapshot()
        aria.append((time.perf_counter() - t) * 1000)
    obs = await perceiver.observe(page)
    want, missing, same = await window_check(page, perceiver)
    # Again halfway down, where the window also reaches above the visible area.
    await page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight / 2)")
    await perceiver.observe(page)
    want2, missing2, same2 = await window_check(page, perceiver)
    await page.evaluate("() => window.scrollTo(0, 0)")
    want, missing, same = want + want2, missing + missing2, same + same2
    return {
        "nodes": await page.evaluate("() => document.getElementsByTagName('*').length"),
        "aria": statistics.median(aria),
        "tokens": obs.tokens, "estimated": obs.tokens_estimated, "listed": len(obs.elements),
        "want": want, "missing": missing, "same": same, "text": obs.text,
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--headed", action="store_true")
    parser.add_argument("--show", action="store_true", help="print the 200-card observation text")
    args = parser.parse_args()
    misses = 0
    medians: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for cards in TARGETS:
            (root / f"shop{cards}.html").write_text(page_html(cards), encoding="utf-8")
        with LocalServer(root) as server:
            handle = await open_browser(BrowserOptions(headless=not args.headed))
            try:
                pages = {}
                for cards in TARGETS:  # each in a tab of its own, measured in turn
                    pages[cards] = await handle.context.new_page()
                    await pages[cards].goto(server.url(f"/shop{cards}.html"))
                perceivers = {cards: DomPerceiver() for cards in TARGETS}
                times = await timed_observes(pages, perceivers, args.runs)
                for cards, (max_ms, max_ratio, max_tokens) in TARGETS.items():
                    r = await measure(pages[cards], perceivers[cards], args.runs)
                    r["ours"] = statistics.median(times[cards])
                    ratio = r["ours"] / r["aria"]
                    medians[cards] = r["ours"]
                    print(f"\n{cards} cards: {r['nodes']} DOM nodes")
                    print(f"  observe       median {r['ours']:7.1f} ms")
                    print(f"  aria_snapshot median {r['aria']:7.1f} ms   ratio {ratio:.2f}x")
                    print(f"  tokens {r['tokens']}{' (estimated)' if r['estimated'] else ' (o200k_base)'}"
                          f", listed elements {r['listed']}")
                    complete = r["missing"] == 0
                    print(f"  window complete (at the top and halfway down): {r['want'] - r['missing']}/"
                          f"{r['want']} interactive elements within one viewport above/below listed"
                          f" ({r['same']} as the named link to the same address)  {verdict(complete)}")
                    checks = [("time", max_ms, r["ours"], "ms"), ("ratio", max_ratio, ratio, "x"),
                              ("tokens", max_tokens, r["tokens"], "")]
                    for label, limit, value, unit in checks:
                        if limit is not None:
                            ok = value <= limit
                            misses += not ok
                            print(f"  target {label} <= {limit}{unit}: {value:.2f}{unit}  {verdict(ok)}")
                    misses += not complete
                    if args.show and cards == 200:
                        print(r["text"])
            finally:
                await handle.close()
    growth = medians[1000] / medians[200]
    ok = growth <= MAX_GROWTH
    misses += not ok
    print(f"\n1000 vs 200 cards: median {medians[1000]:.1f} / {medians[200]:.1f} ms = {growth:.2f}x"
          f"  target <= {MAX_GROWTH}x  {verdict(ok)}")
    print(f"\n{'all targets met' if not misses else f'{misses} target(s) missed'}")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
