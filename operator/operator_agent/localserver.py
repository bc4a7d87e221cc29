"""A small HTTP server on loopback: static files plus a few routes.

Serves the bundled demo pages and test fixtures. Threaded so a slow route
never blocks the page's other requests.
"""

from __future__ import annotations

import json
import mimetypes
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    headers: dict[str, str]

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8", "replace")).items()}


@dataclass
class Response:
    body: bytes | str | Any = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] | None = None

    @staticmethod
    def json(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data).encode(), status, "application/json")


Route = Callable[[Request], Response]


class LocalServer:
    """`with LocalServer(root, routes) as s: s.url("/index.html")`."""

    def __init__(self, root: Path | None = None, routes: dict[str, Route] | None = None,
                 *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = root
        self.routes = dict(routes or {})
        self.log: list[Request] = []  # every request, for tests that read server logs
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet: tests read .log instead
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                req = Request(self.command, parts.path, parse_qs(parts.query),
                              self.rfile.read(length) if length else b"", dict(self.headers))
                server.log.append(req)
                resp = server._dispatch(req)
                body = resp.body.encode() if isinstance(resp.body, str) else resp.body
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for k, v in (resp.headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _handle

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        self.host = host
        self.port = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def _dispatch(self, req: Request) -> Response:
        route = self.routes.get(req.path)
        if route is not None:
            return route(req)
        if self.root is not None:
            rel = req.path.lstrip("/") or "index.html"
            path = (self.root / rel).resolve()
            if path.is_dir():
                path = path / "index.html"
            if self.root.resolve() in path.parents and path.is_file():
                ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                if ctype.startswith("text/") or ctype.endswith("javascript"):
                    ctype += "; charset=utf-8"
                return Response(path.read_bytes(), 200, ctype)
        return Response("<h1>Not found</h1>", 404)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.origin + path

    def start(self) -> LocalServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
