"""`operator mcp [--http [--port N]]` (a cli.EXTENSIONS module): the agent as an MCP server.

The server is started by the person (by hand, or by their MCP client's configuration),
so its flags are the person's: the model, the browser, the policy and its overrides,
the step and spending limits, and where approvals are asked (--ask-on). Nothing a
client sends through a tool can change them.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from ..protocols import ConfigError
from .person import DEFAULT_DEVICE, NOBODY

DEFAULT_PORT = 8765


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def add_commands(sub: Any) -> None:
    from ..cli import _browser_flags, _run_flags
    from ..planner.config import add_model_flags

    p = sub.add_parser("mcp", help="serve the agent to MCP clients (stdio, or --http)")
    p.add_argument("--http", action="store_true",
                   help="streamable HTTP on 127.0.0.1 instead of standard input and output; clients "
                        "send the bearer token it prints (or $OPERATOR_MCP_TOKEN)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N",
                   help=f"the HTTP port (default {DEFAULT_PORT}; 0: any free port)")
    p.add_argument("--ask-on", default=DEFAULT_DEVICE, metavar="DEVICE",
                   help=f"the terminal where you approve purchases and other consequential actions "
                        f"(default {DEFAULT_DEVICE}, the one the server was started from; `{NOBODY}`: "
                        "nobody, so they are denied). Never the MCP client. Another window's terminal: "
                        "run `tty; sleep infinity` there and pass the name it prints.")
    p.add_argument("--ask-timeout", type=_seconds, default=300.0, metavar="SECONDS",
                   help="no answer within this long is a no (default 300)")
    add_model_flags(p)
    _browser_flags(p)
    _run_flags(p)  # --max-steps is the most a client may ask for
    p.set_defaults(handler=cmd_mcp)


async def cmd_mcp(args: argparse.Namespace) -> int:
    if args.max_steps < 1:
        raise ConfigError("--max-steps must be at least 1")
    if args.http and not 0 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} is not a port: use 1 to 65535 (0: any free port)")
    from ..budget import Budget

    Budget(max_tokens=args.max_tokens, max_cost=args.max_cost)  # a bad budget: one line, now
    try:
        from . import mcp_server
    except ImportError as exc:
        raise ConfigError(f"the MCP server needs the mcp package ({exc.name or exc}): "
                          "pip install 'operator-agent[mcp]'") from None
    from .person import PersonTerminal
    from .tools import Service

    person = PersonTerminal.open(args.ask_on, timeout=args.ask_timeout)
    if person is None and args.ask_on not in (NOBODY, DEFAULT_DEVICE):
        raise ConfigError(f"--ask-on {args.ask_on}: not a terminal that can be opened; name one "
                          f"(e.g. the output of `tty` in another window) or `{NOBODY}`")
    where = (f"approvals are asked on {person.device}" if person is not None
             else "nobody can approve: purchases and other consequential actions are denied")
    print(f"operator: MCP server ({'HTTP' if args.http else 'stdio'}); {where}", file=sys.stderr, flush=True)
    service = Service(args, person)
    try:
        if args.http:
            await mcp_server.serve_http(service, args.port)
        else:
            await mcp_server.serve_stdio(service)
    finally:
        if person is not None:
            person.close()
    return 0
