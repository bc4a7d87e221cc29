"""What the wire checks cost: a page load with 80 requests (60 images, 20 fetches with
bodies) on loopback, in Chromium, with no guard, with the network guard and the default
policy's host check, with the secret egress filter on top (three vault secrets), and
with the payment wire on top of that (every POST read for amounts and card numbers).
Prints the median page-load time of several runs per mode (interleaved, after a warm-up)
and the added cost per request and per page load against the unguarded browser.

    .venv/bin/python benchmarks/guard.py [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

IMAGES, FETCHES = 60, 20
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>bench</title></head><body>
<h1>Guard benchmark</h1><div id="imgs"></div><script>
const waits = [];
for (let i = 0; i < IMAGES; i++) {
  const img = new Image(); img.src = 'img/' + i + '.png?x=' + Math.random();
  waits.push(new Promise((r) => { img.onload = r; img.onerror = r; }));
  document.getElementById('imgs').appendChild(img);
}
for (let i = 0; i < FETCHES; i++) {
  waits.push(fetch('data.json?n=' + i, {method: 'POST', body: JSON.stringify({n: i, note: 'x'.repeat(400)})})
    .then((r) => r.text()).catch(() => null));
}
Promise.all(waits).then(() => { window.done = true; });
</script></body></html>""".replace("IMAGES", str(IMAGES)).replace("FETCHES", str(FETCHES))


def _site(root: Path) -> None:
    (root / "img").mkdir()
    for i in range(IMAGES):
        (root / "img" / f"{i}.png").write_bytes(PNG)
    (root / "data.json").write_text('{"ok": true}')
    (root / "index.html").write_text(PAGE)


async def _load(browser: object, url: str, mode: str, check: object, scanner: object,
                payments: object) -> float:
    from operator_agent.netguard import NetworkGuard

    context = await browser.new_context()  # type: ignore[attr-defined]
    try:
        if mode != "none":
            guard = NetworkGuard(context, check, scanner=scanner if mode != "guard" else None,  # type: ignore[arg-type]
                                 payments=payments if mode == "payments" else None)  # type: ignore[arg-type]
            await guard.install()
        page = await context.new_page()
        start = time.perf_counter()
        await page.goto(url)
        await page.wait_for_function("() => window.done === true", timeout=60_000)
        return time.perf_counter() - start
    finally:
        await context.close()


async def main(runs: int) -> None:
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp())  # the bench's own policy/audit
    os.environ.setdefault("XDG_DATA_HOME", tempfile.mkdtemp())
    from operator_agent.builder import permissions
    from operator_agent.launch import BrowserOptions, open_browser
    from operator_agent.localserver import LocalServer
    from operator_agent.permissions.egress import SecretScanner

    gate = permissions(run_id="guard-bench", interactive=False, vault=None).gate
    scanner = SecretScanner([("shop.password", "correct horse battery staple", ["https://shop.example"]),
                             ("card.number", "4242 4242 4242 4242", ["https://pay.example"]),
                             ("mail.token", "tok_9f8e7d6c5b4a3210", ["https://mail.example"])])
    with tempfile.TemporaryDirectory() as tmp, LocalServer(Path(tmp)) as server:
        _site(Path(tmp))
        url = server.url("/index.html")
        handle = await open_browser(BrowserOptions())
        try:
            times: dict[str, list[float]] = {"none": [], "guard": [], "egress": [], "payments": []}
            hooks = (gate.check_request, scanner, gate.payments)  # type: ignore[attr-defined]
            for mode in times:  # warm-up
                await _load(handle.browser, url, mode, *hooks)
            for _ in range(runs):
                for mode in times:  # interleaved, so load on the machine hits every mode alike
                    times[mode].append(await _load(handle.browser, url, mode, *hooks))
        finally:
            await handle.close()
    base = statistics.median(times["none"])
    requests = 1 + IMAGES + FETCHES
    print(f"page load with {requests} requests, median of {runs} runs:")
    for mode, label in (("none", "no guard"), ("guard", "guard + host check"),
                        ("egress", "guard + host check + secret filter"),
                        ("payments", "... + payment wire")):
        med = statistics.median(times[mode])
        extra = (med - base) * 1000
        print(f"  {label:38s} {med * 1000:8.1f} ms  ratio {med / base:5.2f}x  "
              f"+{extra:6.1f} ms per page  +{extra / requests:5.2f} ms per request")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    asyncio.run(main(parser.parse_args().runs))
