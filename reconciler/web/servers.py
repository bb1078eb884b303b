"""Running the web app with uvicorn in a background thread, on 127.0.0.1 by default.

::

    with servers.serve(app, port=0) as server:   # port 0: any free port
        httpx.get(f"{server.url}/healthz")

``start`` returns a ``Running`` server whose ``stop()`` ends it (the daemon calls it on shutdown); the
context manager always stops it. The listening socket is made here, with ``TCP_NODELAY`` (accepted
connections inherit it on Linux, and asyncio sets it on every transport too), so small responses are
not held back by Nagle's algorithm. Uvicorn is told to leave logging alone (``log_config=None``), so
the daemon's structlog setup (``reconciler.logs``) stays in force.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from reconciler.errors import ConfigError

START_TIMEOUT = 10.0


@dataclass
class Running:
    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def listen(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket with ``TCP_NODELAY`` and ``SO_REUSEADDR``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def start(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> Running:
    """Serve ``app`` in a daemon thread; returns once it accepts connections."""
    sock = listen(host, port)
    config = uvicorn.Config(
        app, log_config=None, log_level=log_level, lifespan="off", access_log=False, server_header=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="stackfleet-web", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        server.should_exit = True
        raise ConfigError(f"web server did not start on {host}:{port}")
    return Running(server=server, thread=thread, host=host, port=sock.getsockname()[1])


@contextmanager
def serve(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[Running]:
    running = start(app, host=host, port=port)
    try:
        yield running
    finally:
        running.stop()
