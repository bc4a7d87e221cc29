"""Runs an ASGI app with uvicorn in a background thread.

The socket is bound here, before uvicorn starts, so a free port (port 0) is known
at once and nothing can take it in between; start() returns when uvicorn says it
is serving (an event set at the end of its startup, no polling)."""

from __future__ import annotations

import logging
import socket
import threading

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)


def bind_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        finally:
            self.ready.set()  # also on failure, so start() never waits forever


class ThreadedServer:
    """`server = ThreadedServer(app).start(); server.url; server.stop()`.

    url_host is the host name put in URLs: bind 127.0.0.1 and call it `localhost`
    to make a different site (not only a different origin) for the browser."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0,
                 url_host: str | None = None, name: str = "site") -> None:
        self.name = name
        self._sock = bind_socket(host, port)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self.url_host = url_host or host
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=2, server_header=False)
        self._server = _Server(config)
        self._thread: threading.Thread | None = None
        self._done = threading.Event()  # not Thread.join: a join cut short by Ctrl+C can lie afterwards
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.url_host}:{self.port}"

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # SystemExit from a failed startup included
            self._error = exc
            log.error("%s server stopped: %r", self.name, exc)
        finally:
            self._server.ready.set()
            self._done.set()

    def start(self) -> ThreadedServer:
        self._thread = threading.Thread(target=self._run, name=f"sites-{self.name}", daemon=True)
        self._thread.start()
        self._server.ready.wait()
        if self._error is not None or not self._server.started:
            raise RuntimeError(f"the {self.name} server did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._server.force_exit = True  # do not wait for the browser's idle keep-alive connections
        if self._thread is not None and not self._done.wait(timeout=10):
            log.warning("the %s server did not stop in time", self.name)
            return  # its socket is still in use
        self._sock.close()  # usually closed by uvicorn already; not when it never started

    def wait(self) -> None:
        """Block until the server stops (for `operator sites serve`)."""
        if self._thread is not None:
            while not self._done.wait(timeout=0.5):  # wakes for Ctrl+C in the main thread
                pass
