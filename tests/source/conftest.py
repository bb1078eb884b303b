"""Fixtures of the Git source tests: work repos made with the real git CLI, and servers on loopback."""

from __future__ import annotations

import base64
import contextlib
import os
import shlex
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import paramiko
import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.test",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.test",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
}


class WorkRepo:
    """A non-bare repo driven through the git CLI, the way a user would push to a fleet repo."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        full_env = {**os.environ, **GIT_ENV, **(env or {})}
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=full_env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    def write(self, files: Mapping[str, str | bytes]) -> None:
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode() if isinstance(content, str) else content
            target.write_bytes(data)

    def symlink(self, name: str, points_to: str) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(points_to)

    def commit(self, message: str, files: Mapping[str, str | bytes] | None = None, *extra: str) -> str:
        self.write(files or {})
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, *extra)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def work_repo(tmp_path: Path) -> WorkRepo:
    return WorkRepo(tmp_path / "work")


@pytest.fixture
def git_env() -> Iterator[dict[str, str]]:
    yield dict(GIT_ENV)


class ServedRepo:
    """A bare repo that servers export, fed by pushes from a work repo (what a forge holds)."""

    def __init__(self, root: Path) -> None:
        self.base = root
        self.bare = root / "fleet.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True, env=_env())
        self.work = WorkRepo(root.parent / "upstream-work")
        self.work.git("remote", "add", "origin", str(self.bare))

    def push(self, *refspecs: str) -> None:
        self.work.git("push", "-q", "-f", "origin", *(refspecs or ("main",)))

    def commit_and_push(self, message: str, files: Mapping[str, str | bytes] | None = None) -> str:
        sha = self.work.commit(message, files)
        self.push()
        return sha


def _env() -> dict[str, str]:
    return {**os.environ, **GIT_ENV}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, *, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture
def upstream(tmp_path: Path) -> ServedRepo:
    served = ServedRepo(tmp_path / "srv")
    served.commit_and_push("first", {"fleet.yaml": "kind: Fleet\n"})
    return served


class GitDaemon:
    """``git daemon`` exporting a base directory on a loopback port."""

    def __init__(self, base: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                "git",
                "daemon",
                "--export-all",
                "--reuseaddr",
                "--enable=upload-pack",
                f"--base-path={base}",
                "--listen=127.0.0.1",
                f"--port={self.port}",
                "--timeout=30",
                str(base),
            ],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def url(self, name: str = "fleet.git") -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def git_daemon(upstream: ServedRepo) -> Iterator[GitDaemon]:
    daemon = GitDaemon(upstream.base)
    yield daemon
    daemon.stop()


class AcceptLoop:
    """A loopback listener that hands each accepted connection (TCP_NODELAY set) to ``serve``."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def serve(self, conn: socket.socket) -> None:
        """Accept and never answer: what a hung server does."""

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.accepted.append(conn)
            self.serve(conn)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()
        self.listener.close()


class HangingServer(AcceptLoop):
    """Accepts connections and never answers (until stopped)."""


@pytest.fixture
def hanging_server() -> Iterator[HangingServer]:
    server = HangingServer()
    yield server
    server.stop()


GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


@dataclass
class Served:
    """One request the HTTP bridge answered."""

    method: str
    path: str
    status: int
    body_bytes: int


class _BridgeHandler(BaseHTTPRequestHandler):
    """Basic auth in front of ``git http-backend`` run as a CGI program per request."""

    server: _BridgeServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        if self.server.fail_status:
            self._reply(self.server.fail_status, {}, b"forge is having a bad day\n")
            return
        if not self._authorized():
            self._reply(401, {"WWW-Authenticate": 'Basic realm="git"'}, b"unauthorized\n")
            return
        path, _, query = self.path.partition("?")
        done = subprocess.run(
            [GIT_HTTP_BACKEND], input=self._body(), capture_output=True, env=self._cgi_env(path, query)
        )
        head, _, body = done.stdout.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if ": " in line)
        status = int(headers.pop("Status", "200").split()[0])
        self._reply(status, headers, body)

    def _authorized(self) -> bool:
        expected = base64.b64encode(f"{self.server.username}:{self.server.password}".encode()).decode()
        return self.headers.get("Authorization", "") == f"Basic {expected}"

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _cgi_env(self, path: str, query: str) -> dict[str, str]:
        return {
            **_env(),
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "REMOTE_USER": self.server.username,
            "REMOTE_ADDR": "127.0.0.1",
        }

    def _reply(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.server.served.append(
            Served(self.command, self.path, status, len(body))
        )  # before the client sees it
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _BridgeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, *, username: str, password: str) -> None:
        super().__init__(("127.0.0.1", 0), _BridgeHandler)
        self.root = root
        self.username = username
        self.password = password
        self.served: list[Served] = []
        self.fail_status: int | None = None


class HttpGit:
    """Smart HTTP on loopback: ``git http-backend`` behind basic auth, counting what it serves."""

    def __init__(
        self, root: Path, *, username: str = "fleet-bot", password: str = "s3cret-canary-pw"
    ) -> None:
        self.username = username
        self.password = password
        self.server = _BridgeServer(root, username=username, password=password)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    @property
    def served(self) -> list[Served]:
        return self.server.served

    def url(self, name: str = "fleet.git") -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def http_git(upstream: ServedRepo) -> Iterator[HttpGit]:
    server = HttpGit(upstream.base)
    yield server
    server.stop()


def keygen(path: Path) -> Path:
    """A fresh ed25519 key pair at ``path`` and ``path.pub`` (no passphrase)."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True
    )
    return path


class _GitOverSsh(paramiko.ServerInterface):
    """Public-key auth for one key, and ``git-upload-pack '<path>'`` below ``base`` as the only command."""

    def __init__(self, *, authorized: paramiko.PKey, base: Path) -> None:
        self.authorized = authorized
        self.base = base

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return (
            paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        )

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        same = key.get_base64() == self.authorized.get_base64()
        return paramiko.AUTH_SUCCESSFUL if same else paramiko.AUTH_FAILED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        program, path = shlex.split(command.decode())
        if program != "git-upload-pack":
            return False
        process = subprocess.Popen(
            ["git-upload-pack", str(self.base / path.lstrip("/"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        threading.Thread(target=_pump_in, args=(channel, process), daemon=True).start()
        threading.Thread(target=_pump_out, args=(channel, process), daemon=True).start()
        return True


def _pump_in(channel: paramiko.Channel, process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None
    with contextlib.suppress(OSError):
        while data := channel.recv(65536):
            process.stdin.write(data)
            process.stdin.flush()
        process.stdin.close()


def _pump_out(channel: paramiko.Channel, process: subprocess.Popen[bytes]) -> None:
    assert process.stdout is not None
    # The client may hang up first (it has what it needs): then there is nobody left to tell.
    with contextlib.suppress(OSError, EOFError):
        while data := process.stdout.read1(65536):
            channel.sendall(data)
        channel.send_exit_status(process.wait())
        channel.close()


class SshGitServer(AcceptLoop):
    """An SSH server on loopback that lets one client key run ``git-upload-pack`` below ``base``."""

    def __init__(self, *, host_key: Path, authorized: Path, base: Path) -> None:
        self.host_key = paramiko.Ed25519Key.from_private_key_file(str(host_key))
        self.interface = _GitOverSsh(
            authorized=paramiko.Ed25519Key.from_private_key_file(str(authorized)), base=base
        )
        self.transports: list[paramiko.Transport] = []
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn)
        transport.add_server_key(self.host_key)
        self.transports.append(transport)
        with contextlib.suppress(paramiko.SSHException, EOFError):
            transport.start_server(server=self.interface)

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key.get_name()} {self.host_key.get_base64()}\n"

    def stop(self) -> None:
        for transport in self.transports:
            transport.close()
        super().stop()


@pytest.fixture
def ssh_server(upstream: ServedRepo, tmp_path: Path) -> Iterator[SshGitServer]:
    server = SshGitServer(
        host_key=keygen(tmp_path / "host_key"),
        authorized=keygen(tmp_path / "id_client"),
        base=upstream.base,
    )
    yield server
    server.stop()


@pytest.fixture
def ssh_keygen() -> Callable[[Path], Path]:
    return keygen
