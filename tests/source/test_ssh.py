"""SSH transport with a pinned known_hosts: a real SSH server (paramiko) running git-upload-pack on loopback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import paramiko
import pytest

from reconciler.errors import SourceAuthError
from reconciler.source.credentials import SshKeyAuth
from reconciler.source.git import Mirror

if TYPE_CHECKING:
    from tests.source.conftest import ServedRepo, SshGitServer


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


def test_changed_host_key_is_refused(
    upstream: ServedRepo, ssh_server: SshGitServer, tmp_path: Path, ssh_keygen: Callable[[Path], Path]
) -> None:
    changed = paramiko.Ed25519Key.from_private_key_file(str(ssh_keygen(tmp_path / "impostor")))
    line = f"[127.0.0.1]:{ssh_server.port} ssh-ed25519 {changed.get_base64()}\n"
    with pytest.raises(SourceAuthError, match="not trusted"):
        _mirror(ssh_server, tmp_path, line).resolve("main")


def test_unauthorized_client_key_is_an_auth_error(
    upstream: ServedRepo, ssh_server: SshGitServer, tmp_path: Path, ssh_keygen: Callable[[Path], Path]
) -> None:
    mirror = _mirror(ssh_server, tmp_path, ssh_server.known_hosts_line())
    ssh_keygen(tmp_path / "id_stranger")
    mirror.credentials = SshKeyAuth(
        private_key=tmp_path / "id_stranger",
        public_key=tmp_path / "id_stranger.pub",
        known_hosts=tmp_path / "known_hosts",
    )
    with pytest.raises(SourceAuthError, match="refused the configured credentials"):
        mirror.resolve("main")
