"""`operator sites serve`: runs the practice sites in the foreground and prints where.

Registered in the agent's CLI by module name (cli.EXTENSIONS; its command's name and help
line are copied in cli.EXTENSION_COMMANDS, so `operator` loads this module only for
`operator sites`): the sites themselves are imported only when they are served."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .practice import PracticeSites

DEFAULT_PORTS = {"shop": 8001, "flights": 8002, "payments": 8003}


def describe(sites: PracticeSites) -> str:
    from .cards import TEST_CARDS
    from .shop.state import DEMO_EMAIL, DEMO_PASSWORD

    approve = next(n for n, o in TEST_CARDS.items() if o.approved)
    decline = next(n for n, o in TEST_CARDS.items() if o.code == "card_declined")
    spaced = " ".join(approve[i:i + 4] for i in range(0, 16, 4))
    spaced_decline = " ".join(decline[i:i + 4] for i in range(0, 16, 4))
    return "\n".join([
        f"Practice sites (seed {sites.seed}), state in {sites.state_dir}",
        f"  shop      {sites.shop_url}/",
        f"  flights   {sites.flights_url}/",
        f"  payments  {sites.payments_url}/   (the card form both sites embed)",
        "  state: GET <site>/api/state   reset: POST <site>/api/reset   knobs: GET/POST <site>/api/control",
        f"  shop demo account: {DEMO_EMAIL} / {DEMO_PASSWORD}",
        f"  test cards: {spaced} approves, {spaced_decline} declines (any future expiry, any CVC)",
        "Press Ctrl+C to stop.",
    ])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main_serve(shop_port: int = DEFAULT_PORTS["shop"], flights_port: int = DEFAULT_PORTS["flights"],
               payments_port: int = DEFAULT_PORTS["payments"], seed: int = 0, host: str = "127.0.0.1",
               state_dir: Path | str | None = None, out: TextIO | None = None) -> int:
    """Starts the three servers, prints their URLs and blocks until Ctrl+C. Returns an exit code."""
    from .practice import PracticeSites

    out = out or sys.stdout
    sites = PracticeSites(seed=seed, host=host, shop_port=shop_port, flights_port=flights_port,
                          payments_port=payments_port, state_dir=state_dir)
    try:
        sites.start()
    except OSError as exc:
        print(f"operator: cannot start the practice sites: {exc} (is a port in use? pass other ports)",
              file=sys.stderr)
        return 2
    if threading.current_thread() is threading.main_thread():
        # `kill` stops it as cleanly as Ctrl+C does (the temporary state folder is removed).
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(describe(sites), file=out, flush=True)
        sites.wait()
    except KeyboardInterrupt:
        print("\nstopping the practice sites", file=out)
    finally:
        sites.stop()
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `operator sites serve`, for the CLI to reuse."""
    parser.add_argument("--shop-port", type=int, default=DEFAULT_PORTS["shop"])
    parser.add_argument("--flights-port", type=int, default=DEFAULT_PORTS["flights"])
    parser.add_argument("--payments-port", type=int, default=DEFAULT_PORTS["payments"])
    parser.add_argument("--seed", type=int, default=0, help="the catalogue and flights to generate")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state-dir", default=None, help="keep the SQLite state here (default: a temp dir)")


def run(args: argparse.Namespace) -> int:
    return main_serve(args.shop_port, args.flights_port, args.payments_port, args.seed, args.host,
                      args.state_dir)


def add_commands(sub: Any) -> None:
    """`operator sites serve`: registered through cli.EXTENSIONS."""
    sites = sub.add_parser("sites", help="the bundled practice shop and flight site")
    sites_sub = sites.add_subparsers(dest="sites_command", required=True)
    serve = sites_sub.add_parser("serve", help="serve the practice sites on loopback until Ctrl+C")
    add_arguments(serve)
    serve.set_defaults(handler=run)  # blocking and synchronous: it owns Ctrl+C
