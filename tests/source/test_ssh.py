"""SSH transport with a pinned known_hosts: a real SSH server (paramiko) running git-upload-pack on loopback."""

from __future__ import annotations

import contextlib
import shlex
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import paramiko
import pytest

from reconciler.errors import SourceAuthError
from reconciler.source.credentials import SshKeyAuth
from reconciler.source.git import Mirror

if TYPE_CHECKING:
    from tests.source.conftest import ServedRepo


def _keygen(path: Path) -> Path:
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
    while data := process.stdout.read1(65536):
        channel.sendall(data)
    channel.send_exit_status(process.wait())
    channel.close()


class SshGitServer:
    def __init__(self, *, host_key: Path, authorized: Path, base: Path) -> None:
        self.host_key = paramiko.Ed25519Key.from_private_key_file(str(host_key))
        self.interface = _GitOverSsh(
            authorized=paramiko.Ed25519Key.from_private_key_file(str(authorized)), base=base
        )
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.listener.settimeout(0.2)
        self.port = int(self.listener.getsockname()[1])
        self.transports: list[paramiko.Transport] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            self.transports.append(transport)
            with contextlib.suppress(paramiko.SSHException, EOFError):
                transport.start_server(server=self.interface)

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key.get_name()} {self.host_key.get_base64()}\n"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for transport in self.transports:
            transport.close()
        self.listener.close()


@pytest.fixture
def ssh_server(upstream: ServedRepo, tmp_path: Path) -> Iterator[SshGitServer]:
    server = SshGitServer(
        host_key=_keygen(tmp_path / "host_key"),
        authorized=_keygen(tmp_path / "id_client"),
        base=upstream.base,
    )
    yield server
    server.stop()


def _mirror(server: SshGitServer, tmp_path: Path, known_hosts: str) -> Mirror:
    (tmp_path / "known_hosts").write_text(known_hosts)
    auth = SshKeyAuth(
        private_key=tmp_path / "id_client",
        public_key=tmp_path / "id_client.pub",
        known_hosts=tmp_path / "known_hosts",
    )
    url = f"ssh://git@127.0.0.1:{server.port}/fleet.git"
    return Mirror(url, cache_dir=tmp_path / "cache", credentials=auth, timeout=10)


def test_pinned_host_key_is_accepted(upstream: ServedRepo, ssh_server: SshGitServer, tmp_path: Path) -> None:
    sha = upstream.work.git("rev-parse", "HEAD")
    assert _mirror(ssh_server, tmp_path, ssh_server.known_hosts_line()).resolve("main").sha == sha


def test_unknown_host_is_refused(upstream: ServedRepo, ssh_server: SshGitServer, tmp_path: Path) -> None:
    other = "[git.example.test]:22 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
    with pytest.raises(SourceAuthError, match="not trusted"):
        _mirror(ssh_server, tmp_path, other).resolve("main")


def test_changed_host_key_is_refused(upstream: ServedRepo, ssh_server: SshGitServer, tmp_path: Path) -> None:
    changed = paramiko.Ed25519Key.from_private_key_file(str(_keygen(tmp_path / "impostor")))
    line = f"[127.0.0.1]:{ssh_server.port} ssh-ed25519 {changed.get_base64()}\n"
    with pytest.raises(SourceAuthError, match="not trusted"):
        _mirror(ssh_server, tmp_path, line).resolve("main")


def test_unauthorized_client_key_is_an_auth_error(
    upstream: ServedRepo, ssh_server: SshGitServer, tmp_path: Path
) -> None:
    mirror = _mirror(ssh_server, tmp_path, ssh_server.known_hosts_line())
    _keygen(tmp_path / "id_stranger")
    mirror.credentials = SshKeyAuth(
        private_key=tmp_path / "id_stranger",
        public_key=tmp_path / "id_stranger.pub",
        known_hosts=tmp_path / "known_hosts",
    )
    with pytest.raises(SourceAuthError, match="refused the configured credentials"):
        mirror.resolve("main")
