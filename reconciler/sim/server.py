"""One HTTP server, many simulated clusters: ``http://127.0.0.1:PORT/clusters/<name>/...``.

The stdlib ``ThreadingHTTPServer`` speaks HTTP/1.1 with keep-alive, one thread per connection (so a
watch holds its own thread), with TCP_NODELAY on every accepted socket; see
docs/adr/0003-sim-http-server.md. ``SimServer`` is a context manager: leaving it stops the accept
loop, ends open watches and closes the socket.
"""

from __future__ import annotations

import secrets
import select
import socket
import ssl
import struct
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from reconciler.sim import audits, certs, handlers, kubeconfigs, routes, statuses
from reconciler.sim.clusters import Clock, Cluster
from reconciler.sim.faults import ConnectionReset

PREFIX = "/clusters/"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: SimServer
    tls: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Dropped and reset connections are part of the game; stay quiet about them."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16
    """Buffered: a response's headers and body leave in one write (one TLS record) when the handler
    flushes after the request; watch streams flush every chunk themselves."""
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """No access log: tests and benchmarks make thousands of requests."""

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        name, _, rest = parts.path.removeprefix(PREFIX).partition("/")
        cluster = self.server.sim.clusters.get(unquote(name)) if parts.path.startswith(PREFIX) else None
        if cluster is None:
            self._send(handlers.failure(statuses.ApiError(404, "NotFound", f"no simulated cluster at {parts.path}")))
            return
        try:
            cluster.faults.check_connection()
        except ConnectionReset:
            self._reset()
            return
        request = handlers.Request(self.command, "/" + rest, dict(parse_qsl(parts.query)),
                                   {k.lower(): v for k, v in self.headers.items()}, body)
        self._send(self.server.sim.serve(cluster, request))

    def _client_gone(self) -> bool:
        """True when the peer closed its end (a readable socket with nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):  # TLS sockets refuse MSG_PEEK: their watches end on write or timeout
            return False

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _send(self, response: handlers.Response) -> None:
        self.send_response(response.code)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        for key, value in response.headers.items():
            self.send_header(key, value)
        if response.stream is not None:
            self._stream(response)
            return
        payload = response.payload()
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, response: handlers.Response) -> None:
        self.end_headers()
        try:
            self.wfile.flush()  # the headers now: a watcher waits for them before any event
            for chunk in response.stream or ():
                if not chunk:
                    if self._client_gone():
                        break
                    continue
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True


class SimServer:
    """Simulated clusters behind one loopback HTTP(S) server."""

    def __init__(self, *, port: int = 0, tls: bool = False, defaulting: bool = True,
                 clock: Clock = time.time, certificates: Callable[[], certs.ServingPair] = certs.generate,
                 audit_log: Path | None = None) -> None:
        self.clusters: dict[str, Cluster] = {}
        self.audit = audits.AuditLog(audit_log) if audit_log is not None else None
        self.defaulting, self.clock = defaulting, clock
        self._stopping = threading.Event()
        self._http = _HTTPServer(("127.0.0.1", port), _Handler, bind_and_activate=True)
        self._http.sim = self
        self._thread: threading.Thread | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="stackfleet-sim-")
        self.ca_pem: bytes | None = None
        if tls:
            self._enable_tls(certificates())

    def _enable_tls(self, pair: certs.ServingPair) -> None:
        cert, key = Path(self._tmp.name) / "tls.crt", Path(self._tmp.name) / "tls.key"
        cert.write_bytes(pair.cert_pem)
        key.write_bytes(pair.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._http.tls, self.ca_pem = context, pair.ca_pem

    # ---- clusters ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ca_pem is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}{PREFIX}{name}"

    def add_cluster(self, name: str, *, token: str | None = None) -> Cluster:
        """Start serving a new, empty cluster called ``name`` (its bearer token is random unless given)."""
        if name in self.clusters:
            raise ValueError(f"cluster {name!r} exists")
        cluster = Cluster(name, token or secrets.token_urlsafe(24), defaulting=self.defaulting, clock=self.clock)
        self.clusters[name] = cluster
        return cluster

    def remove_cluster(self, name: str) -> None:
        cluster = self.clusters.pop(name)
        cluster.events.close()

    def entry(self, name: str) -> kubeconfigs.Entry:
        return kubeconfigs.Entry(name, self.url(name), self.clusters[name].token)

    def kubeconfig(self, path: Path, names: list[str] | None = None) -> Path:
        """Write a kubeconfig with one context per cluster (all of them unless ``names``)."""
        chosen = list(self.clusters) if names is None else names
        return kubeconfigs.write(path, [self.entry(n) for n in chosen], ca_pem=self.ca_pem)

    # ---- requests ----------------------------------------------------------------------------

    def serve(self, cluster: Cluster, request: handlers.Request) -> handlers.Response:
        """Count (refused requests too), authenticate, apply injected faults, then answer ``request``;
        each request goes into the audit log when there is one."""
        if self.audit is None:
            return self._serve(cluster, request)
        received = time.time()
        answer = self._serve(cluster, request)
        route = routes.parse(request.path)
        query = urllib.parse.urlencode(sorted(request.query.items()))
        self.audit.record(cluster=cluster.name, verb=handlers.verb_of(request, route),
                          uri=f"{request.path}?{query}" if query else request.path,
                          resource=handlers.resource_of(route), namespace=route.namespace, name=route.name,
                          user_agent=request.header("user-agent") or "", code=answer.code, received=received,
                          completed=time.time())
        return answer

    def _serve(self, cluster: Cluster, request: handlers.Request) -> handlers.Response:
        route = routes.parse(request.path)
        cluster.faults.count(handlers.verb_of(request, route), handlers.resource_of(route))
        if request.header("authorization") != f"Bearer {cluster.token}":
            return handlers.failure(statuses.unauthorized())
        if cluster.faults.latency:
            time.sleep(cluster.faults.latency)
        try:
            cluster.faults.check_request()
            if route.kind in ("group", "resources", "object"):
                cluster.faults.check_group(route.group)
        except statuses.ApiError as error:
            return handlers.failure(error)
        try:
            return handlers.handle(cluster, request, stopping=self._stopping.is_set)
        except Exception as exc:  # a bug in the sim must answer 500, like a panicking apiserver handler
            return handlers.failure(statuses.internal_error(f"sim: {type(exc).__name__}: {exc}"))

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SimServer:
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sim-http-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        for cluster in self.clusters.values():
            cluster.events.close()
        if self._thread is not None:  # shutdown() waits for serve_forever, which only runs once started
            self._http.shutdown()
            self._thread.join(timeout=5)
        self._http.server_close()
        self._tmp.cleanup()
        if self.audit is not None:
            self.audit.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
