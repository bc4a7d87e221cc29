"""A real OpenAI-compatible HTTP server on 127.0.0.1 that answers from a script.

The only thing we fake is the model: the real `openai` client talks real HTTP
to this server, so retries, error mapping and parsing are exercised for real.
It speaks Chat Completions (/v1/chat/completions) and the Responses API
(/v1/responses), and can behave like the servers people run: refuse structured
output, strict schemas or tools, answer with a tool call, omit usage, hang.
Used by the tests and the benchmarks.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeAlias

from pydantic import BaseModel


@dataclass(frozen=True, kw_only=True)
class Fault:
    """An HTTP error reply (or a dropped connection) instead of a completion."""

    status: int = 500
    message: str = ""
    type: str | None = None  # OpenAI error "type"; derived from status when None
    code: str | None = None  # e.g. "insufficient_quota", "model_not_found"
    param: str | None = None
    retry_after: float | None = None  # sent as a Retry-After header (seconds)
    drop: bool = False  # close the connection without any reply (a connection error)
    hang: bool = False  # never answer (until release_hung() or stop()): a client timeout


@dataclass(frozen=True, kw_only=True)
class Reply:
    """A completion with explicit details; plain dicts, models and strings are shorthand."""

    content: Any  # dict / BaseModel (sent as JSON) or str (sent as is)
    prompt_tokens: int | None = None  # None: estimated from the request
    completion_tokens: int | None = None  # None: estimated from the content
    finish_reason: str = "stop"
    usage: bool = True  # False: omit usage, as some local servers do
    # True: the content as a function call's arguments; None: so when the request forced a
    # function (tool_choice), as vLLM does; False: always as text, as servers that ignore it.
    tool_call: bool | None = None
    # Responses API only: these output items are sent as they are, instead of a message or a
    # function call made from content (e.g. computer_call items; see computer_call()).
    output: list[dict[str, Any]] | None = None


# A script item: what to answer one request with. A callable gets the request
# body (parsed JSON) and returns any other kind of item.
Item: TypeAlias = "dict[str, Any] | BaseModel | str | Fault | Reply | Callable[[dict[str, Any]], Any]"

_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_denied",
                404: "invalid_request_error", 422: "invalid_request_error", 429: "rate_limit_exceeded"}


def _estimate_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


class FakeOpenAIServer:
    """Serve /v1/chat/completions, /v1/responses and /v1/models on a free loopback port.

    structured_outputs=False answers 400 to any request that asks for a json_schema
    (response_format, or text.format in the Responses API), like many local servers;
    strict=False answers 400 to any strict: true (schema or tool); tools=False answers
    400 to any request with tools; responses_api=False answers 404 on /v1/responses.
    api_key, when set, is required as a Bearer token (else 401). model, when set, is
    the only model served (else 404). default answers every request once the script
    runs out; without it the server replies 500 "script exhausted" so a test sees
    what went wrong.
    """

    def __init__(self, script: Iterable[Item] = (), *, structured_outputs: bool = True,
                 model: str | None = None, api_key: str | None = None,
                 default: Item | None = None, strict: bool = True, tools: bool = True,
                 responses_api: bool = True) -> None:
        self._script: list[Item] = list(script)
        self.structured_outputs = structured_outputs
        self.strict = strict
        self.tools = tools
        self.responses_api = responses_api
        self.model = model
        self.api_key = api_key
        self.default = default
        self.requests: list[dict[str, Any]] = []  # every completion/response request body, in order
        self.paths: list[str] = []  # the path each of those was sent to
        self._release = threading.Event()  # lets hung requests go
        self._lock = threading.Lock()
        self._counter = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------

    def start(self) -> FakeOpenAIServer:
        if self._httpd is None:
            self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
            self._httpd.daemon_threads = True
            # A short poll interval keeps stop() quick (shutdown waits for the next poll).
            self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                            name="fake-openai", daemon=True)
            self._thread.start()
        return self

    def release_hung(self) -> None:
        """Let every hung request go (it is then closed without a reply)."""
        self._release.set()

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join()
            self._httpd = self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not started")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- script --------------------------------------------------------------

    def push(self, *items: Item) -> None:
        """Append replies to the script (also while serving)."""
        with self._lock:
            self._script.extend(items)

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    def _next(self, path: str, body: dict[str, Any]) -> tuple[Item | None, int]:
        with self._lock:
            self.requests.append(body)
            self.paths.append(path)
            self._counter += 1
            refusal = self._refusal(body)
            if refusal is not None:
                return refusal, self._counter
            return (self._script.pop(0) if self._script else self.default), self._counter

    def _refusal(self, body: dict[str, Any]) -> Fault | None:
        """The 400 a server without this feature answers, worded as such servers word it."""
        if not self.structured_outputs and _wants_json_schema(body):
            return Fault(status=400, param="response_format", message=(
                "response_format of type json_schema is not supported by this server"))
        if not self.tools and body.get("tools"):
            return Fault(status=400, param="tools", message="tools are not supported by this server")
        if not self.strict and _wants_strict(body):
            return Fault(status=400, param="strict", message="'strict' is not supported: remove it")
        return None

    def _completion(self, body: dict[str, Any], reply: Reply, number: int) -> dict[str, Any]:
        content = _text(reply.content)
        prompt, completion = self._tokens(body.get("messages", []), reply, content)
        call = _call_name(body, reply)
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if call is not None:
            message = {"role": "assistant", "content": None, "refusal": None, "tool_calls": [{
                "id": f"call_fake{number}", "type": "function",
                "function": {"name": call, "arguments": content}}]}
        out: dict[str, Any] = {
            "id": f"chatcmpl-fake{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model or "fake-model",
            "system_fingerprint": "fp_fake",
            "choices": [{
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if call is not None else reply.finish_reason,
            }],
        }
        if reply.usage:
            out["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion,
                            "total_tokens": prompt + completion}
        return out

    def _response(self, body: dict[str, Any], reply: Reply, number: int) -> dict[str, Any]:
        """A Responses API reply: output items (a message, or a function call) and usage."""
        content = _text(reply.content)
        prompt, completion = self._tokens([body.get("instructions"), body.get("input")], reply, content)
        call = _call_name(body, reply)
        item: dict[str, Any] = {
            "type": "message", "id": f"msg_fake{number}", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": content, "annotations": []}]}
        if call is not None:
            item = {"type": "function_call", "id": f"fc_fake{number}", "call_id": f"call_fake{number}",
                    "name": call, "arguments": content, "status": "completed"}
        items = [item] if reply.output is None else reply.output
        if reply.output is not None and reply.completion_tokens is None:
            completion = _estimate_tokens(json.dumps(reply.output))
        out: dict[str, Any] = {
            "id": f"resp_fake{number}",
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "model": body.get("model") or self.model or "fake-model",
            "output": items,
            "parallel_tool_calls": bool(body.get("parallel_tool_calls", True)),
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools", []),
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "metadata": {},
            "temperature": 1.0,
            "top_p": 1.0,
        }
        if reply.usage:
            out["usage"] = {"input_tokens": prompt, "output_tokens": completion,
                            "total_tokens": prompt + completion,
                            "input_tokens_details": {"cached_tokens": 0},
                            "output_tokens_details": {"reasoning_tokens": 0}}
        return out

    @staticmethod
    def _tokens(sent: Any, reply: Reply, content: str) -> tuple[int, int]:
        prompt = reply.prompt_tokens
        if prompt is None:
            prompt = _estimate_tokens(json.dumps(sent))
        completion = reply.completion_tokens
        if completion is None:
            completion = _estimate_tokens(content)
        return prompt, completion


def computer_call(action: dict[str, Any], *, call_id: str,
                  safety_checks: Iterable[dict[str, str]] = ()) -> dict[str, Any]:
    """A computer_call output item (the computer-use tool), for Reply(output=[...])."""
    return {"type": "computer_call", "id": f"cu_{call_id}", "call_id": call_id, "action": action,
            "pending_safety_checks": list(safety_checks), "status": "completed"}


def output_message(text: str) -> dict[str, Any]:
    """A final assistant message output item, for Reply(output=[...])."""
    return {"type": "message", "id": "msg_fake_out", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


def _text(content: Any) -> str:
    if isinstance(content, BaseModel):
        return content.model_dump_json()
    return content if isinstance(content, str) else json.dumps(content)


def _wants_json_schema(body: dict[str, Any]) -> bool:
    fmt = body.get("response_format")
    if not isinstance(fmt, dict):  # the Responses API asks in text.format
        fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    return isinstance(fmt, dict) and fmt.get("type") == "json_schema"


def _wants_strict(body: dict[str, Any]) -> bool:
    fmt = body.get("response_format") or {}
    text = body.get("text") if isinstance(body.get("text"), dict) else {}
    schemas = [fmt.get("json_schema") or {}, (text or {}).get("format") or {}]
    for tool in body.get("tools") or ():
        schemas += [tool, tool.get("function") or {}]
    return any(isinstance(s, dict) and s.get("strict") is True for s in schemas)


def _call_name(body: dict[str, Any], reply: Reply) -> str | None:
    """The function to answer with a call to, or None to answer with text."""
    if reply.tool_call is False:
        return None
    forced = _forced_function(body)
    if reply.tool_call and forced is None:
        return _first_function(body) or "decide"
    return forced


def _forced_function(body: dict[str, Any]) -> str | None:
    """The function name tool_choice forces (chat: {function: {name}}, Responses: {name})."""
    choice = body.get("tool_choice")
    if not isinstance(choice, dict) or choice.get("type") != "function":
        return None
    name = (choice.get("function") or {}).get("name") or choice.get("name")
    return name if isinstance(name, str) else None


def _first_function(body: dict[str, Any]) -> str | None:
    for tool in body.get("tools") or ():
        name = (tool.get("function") or {}).get("name") or tool.get("name")
        if isinstance(name, str):
            return name
    return None


def _error_body(fault: Fault) -> dict[str, Any]:
    return {"error": {
        "message": fault.message or f"fake server error {fault.status}",
        "type": fault.type or _ERROR_TYPES.get(fault.status, "server_error"),
        "param": fault.param,
        "code": fault.code,
    }}


def _make_handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real API server

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

        def _send_json(self, status: int, payload: dict[str, Any],
                       headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _fault(self, fault: Fault) -> None:
            if fault.hang:
                server._release.wait()
            if fault.drop or fault.hang:
                self.close_connection = True
                return
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            self._send_json(fault.status, _error_body(fault), headers)

        def _authorized(self) -> bool:
            if server.api_key is None or self.headers.get("Authorization") == f"Bearer {server.api_key}":
                return True
            self._fault(Fault(status=401, code="invalid_api_key", message="Incorrect API key provided."))
            return False

        def do_GET(self) -> None:
            if not self._authorized():
                return
            if self.path.rstrip("/") == "/v1/models":
                model = server.model or "fake-model"
                self._send_json(200, {"object": "list", "data": [
                    {"id": model, "object": "model", "created": 0, "owned_by": "fake"}]})
            else:
                self._fault(Fault(status=404, message=f"no route {self.path}"))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if not self._authorized():
                return
            path = self.path.rstrip("/")
            if path not in ("/v1/chat/completions", "/v1/responses") or (
                    path == "/v1/responses" and not server.responses_api):
                self._fault(Fault(status=404, message=f"no route {self.path}"))
                return
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._fault(Fault(status=400, message="request body is not JSON"))
                return
            if server.model is not None and body.get("model") != server.model:
                self._fault(Fault(status=404, code="model_not_found",
                                  message=f"The model `{body.get('model')}` does not exist."))
                return
            if body.get("stream"):
                self._fault(Fault(status=400, param="stream", message="streaming is not supported"))
                return
            item, number = server._next(path, body)
            # Callables run outside the lock so they may inspect the server.
            while callable(item) and not isinstance(item, BaseModel):
                item = item(body)
            if item is None:
                self._fault(Fault(status=500, message="FakeOpenAIServer: script exhausted"))
            elif isinstance(item, Fault):
                self._fault(item)
            else:
                reply = item if isinstance(item, Reply) else Reply(content=item)
                make = server._response if path == "/v1/responses" else server._completion
                self._send_json(200, make(body, reply, number))

    return Handler


@contextlib.asynccontextmanager
async def planner_factory(**defaults: object) -> AsyncIterator[Callable[..., Any]]:
    """`make(server, model=..., api_key=..., **config)`: OpenAIPlanners for the fake server
    (no backoff delay; ModelConfig fields from `defaults`, then `config`), closed afterwards."""
    from operator_agent.planner.config import ModelConfig
    from operator_agent.planner.openai import OpenAIPlanner

    made: list[OpenAIPlanner] = []

    def make(server: FakeOpenAIServer, model: str = "local-model", *, api_key: str = "test-key",
             **config: object) -> OpenAIPlanner:
        cfg = ModelConfig(model=model, base_url=server.base_url, api_key=api_key,  # type: ignore[arg-type]
                          **{**defaults, **config})
        made.append(OpenAIPlanner(cfg, backoff_base=0.0))
        return made[-1]

    try:
        yield make
    finally:
        for planner in made:
            await planner.aclose()
