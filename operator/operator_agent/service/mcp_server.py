"""The MCP server (the `mcp` package): tools over stdio or streamable HTTP on 127.0.0.1.

The tools are tools.py's Service; this module only speaks MCP. A run reports each
finished step as a progress notification (when the client gave a progress token),
from the run's event stream. Nothing here asks the client anything: no elicitation, no
sampling; approvals go to the person (person.py), and the client learns only that the
run is waiting for them and, from the result, how many questions were asked and allowed.
"""

from __future__ import annotations

import hmac
import os
import secrets
import socket
import sys
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import Field

from .. import __version__
from ..events import ApprovalAsked, RunEvent, RunStarted, StepFinished
from ..protocols import ConfigError
from ..report import describe_action
from .tools import PageView, PreferenceInfo, RunOutcome, Service, SkillInfo

HOST = "127.0.0.1"  # never another interface: whoever can reach the server can start runs
PATH = "/mcp"

INSTRUCTIONS = (
    "An agent that does tasks in a web browser for the person who runs this server. "
    "run_task gives it a task in plain words; it reports each step as progress and ends with "
    "the answer. Purchases and other consequential actions are approved by the person on their "
    "own terminal, never through this connection; what nobody approves is not done.")

T = TypeVar("T")


async def _tool(work: Awaitable[T]) -> T:
    """Bad input and refusals are the tool's one-line error (the caller's model reads it)."""
    try:
        return await work
    except ConfigError as exc:
        raise ToolError(str(exc)) from None


class _Progress:
    """A run's events as progress notifications: one per finished step (progress = steps
    done, total = the step limit), and one when the run waits for the person."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.total: int | None = None
        self.done = 0
        self.waits = 0  # questions in the step under way

    async def __call__(self, event: RunEvent) -> None:
        if isinstance(event, RunStarted):
            self.total = event.max_steps
        elif isinstance(event, StepFinished):
            self.done, self.waits = event.step.step, 0
            await self.ctx.report_progress(self.done, self.total, _step_line(event))
        elif isinstance(event, ApprovalAsked):
            # Between this step's number and the next, rising with each question: progress
            # must only go up.
            self.waits += 1
            value = self.done + 1 - 1 / (self.waits + 1)
            await self.ctx.report_progress(value, self.total, f"step {event.step}: waiting for the person "
                                                              "to answer on their own terminal")


def _step_line(event: StepFinished) -> str:
    step = event.step
    done = []
    for i, action in enumerate(step.actions):
        result = step.results[i] if i < len(step.results) else None
        mark = "" if result is None else " ✓" if result.ok else " ✗"
        done.append(describe_action(action, result) + mark)
    line = f"step {step.step}: " + ("; ".join(done) or "no action")
    if step.error:
        line += f" ({step.error[:160]})"
    for note in step.approvals:
        line += " · the person approved" if note.approved else " · the person declined"
    return line


def build_server(service: Service) -> MCPServer:
    server: MCPServer = MCPServer("operator-agent", version=__version__, instructions=INSTRUCTIONS,
                                  log_level="WARNING")

    @server.tool(description="Do a task in a web browser, as the person would; returns the answer. "
                             "Each finished step is reported as progress. Consequential actions (paying, "
                             "sending, deleting) are asked of the person on their terminal.",
                 annotations=ToolAnnotations(read_only_hint=False, open_world_hint=True))
    async def run_task(
        task: Annotated[str, Field(description='what to do in plain words, e.g. "buy a USB-C cable"')],
        ctx: Context,
        url: Annotated[str | None, Field(description="http(s) page to start on")] = None,
        max_steps: Annotated[int | None, Field(description="step limit (at most the server's own)")] = None,
    ) -> RunOutcome:
        return await _tool(service.run_task(task, url, max_steps, report=_Progress(ctx)))

    @server.tool(description="What the agent's model is shown for a page: its elements as [index] role "
                             '"name" lines, and its text.',
                 annotations=ToolAnnotations(read_only_hint=True, open_world_hint=True))
    async def observe(url: Annotated[str, Field(description="http(s) page to look at")]) -> PageView:
        return await _tool(service.observe(url))

    @server.tool(description="The skills the person has taught the agent (and the shipped ones), with "
                             "their parameters.",
                 annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def list_skills() -> list[SkillInfo]:
        return await _tool(service.list_skills())

    @server.tool(description="Replay a taught skill with these parameter values; returns how it ended. "
                             "Each finished step is reported as progress.",
                 annotations=ToolAnnotations(read_only_hint=False, open_world_hint=True))
    async def run_skill(
        name: Annotated[str, Field(description="the skill's name (list_skills)")],
        ctx: Context,
        parameters: Annotated[dict[str, str] | None, Field(description="parameter values by name")] = None,
        url: Annotated[str | None, Field(description="http(s) page to start on, not the skill's")] = None,
    ) -> RunOutcome:
        return await _tool(service.run_skill(name, parameters, url, report=_Progress(ctx)))

    @server.tool(description="How the person likes things done (their preferences in use).",
                 annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def get_preferences() -> list[PreferenceInfo]:
        return await _tool(service.get_preferences())

    @server.tool(description='Remember a preference of the person\'s, e.g. "I prefer aisle seats". A '
                             "preference guides choices; it never allows anything.",
                 annotations=ToolAnnotations(read_only_hint=False, open_world_hint=False))
    async def add_preference(text: Annotated[str, Field(description="the preference, in plain words")]
                             ) -> list[PreferenceInfo]:
        return await _tool(service.add_preference(text))

    return server


async def serve_stdio(service: Service) -> None:
    await build_server(service).run_stdio_async()


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(128)  # connections wait in the backlog until the server takes them
    except OSError as exc:
        sock.close()
        reason = exc.strerror or exc
        raise ConfigError(f"cannot listen on {HOST}:{port}: {reason}; choose another --port") from None
    return sock


class BearerToken:
    """ASGI guard: every HTTP request carries `Authorization: Bearer TOKEN`. Any local process
    can reach 127.0.0.1; only one the person gave the token to may run tasks or read their
    preferences (their address among them)."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            got = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(got, self.expected):
                body = b'{"error": "send the header Authorization: Bearer TOKEN (operator mcp printed it)"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def http_token() -> str:
    """$OPERATOR_MCP_TOKEN (the person's, for a client configured once), else a new one."""
    return os.environ.get("OPERATOR_MCP_TOKEN", "").strip() or secrets.token_urlsafe(32)


async def serve_http(service: Service, port: int) -> None:
    import uvicorn

    # Host checked (DNS rebinding); no Origin allowed at all: MCP clients send none, while a web
    # page (even one on localhost, e.g. a page the agent is on) always does.
    security = TransportSecuritySettings(allowed_hosts=[f"{HOST}:*", "localhost:*"], allowed_origins=[])
    token = http_token()
    app = BearerToken(build_server(service).streamable_http_app(streamable_http_path=PATH, host=HOST,
                                                                transport_security=security), token)
    sock = _listen(port)
    print(f"operator: MCP over streamable HTTP at http://{HOST}:{sock.getsockname()[1]}{PATH}; clients send "
          f"the header Authorization: Bearer {token}", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve(sockets=[sock])
