"""Signed and unsigned commits, made with throwaway GPG and SSH keys, accepted or refused as configured."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reconciler.errors import ConfigError, VerificationError
from reconciler.source.git import Mirror
from reconciler.source.sources import GitSource
from reconciler.source.verify import CommitVerifier, GpgKeys, SshSigners

if TYPE_CHECKING:
    from tests.source.conftest import GitDaemon, ServedRepo


@dataclass
class GpgKey:
    home: Path
    fingerprint: str
    public_key: Path

    def signing_args(self) -> list[str]:
        return ["-c", "gpg.format=openpgp", "-c", f"user.signingkey={self.fingerprint}"]


def _make_gpg_key(home: Path, name: str) -> GpgKey:
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    gen = ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(
        [*gen, "--quick-gen-key", f"{name} <{name}@example.test>", "ed25519", "sign", "never"],
        env=env,
        check=True,
        capture_output=True,
    )
    listing = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--list-keys"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    fingerprint = next(line.split(":")[9] for line in listing.stdout.splitlines() if line.startswith("fpr:"))
    public_key = home / "public.asc"
    exported = subprocess.run(
        ["gpg", "--batch", "--armor", "--export", fingerprint], env=env, check=True, capture_output=True
    )
    public_key.write_bytes(exported.stdout)
    return GpgKey(home, fingerprint, public_key)


def _stop_agent(home: Path) -> None:
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False, capture_output=True)


@pytest.fixture
def gpg_keys(tmp_path: Path) -> Iterator[tuple[GpgKey, GpgKey]]:
    trusted = _make_gpg_key(tmp_path / "gpg-trusted", "trusted")
    stranger = _make_gpg_key(tmp_path / "gpg-stranger", "stranger")
    yield trusted, stranger
    _stop_agent(trusted.home)
    _stop_agent(stranger.home)


def _make_ssh_key(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "signer", "-f", str(path)], check=True
    )
    return path


@pytest.fixture
def ssh_keys(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A trusted key, a stranger's key, and an allowed_signers file naming only the trusted one."""
    trusted = _make_ssh_key(tmp_path / "id_trusted")
    stranger = _make_ssh_key(tmp_path / "id_stranger")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"author@example.test {Path(f'{trusted}.pub').read_text()}")
    return trusted, stranger, allowed


def _gpg_commit(upstream: ServedRepo, key: GpgKey) -> str:
    env = {"GNUPGHOME": str(key.home)}
    upstream.work.git(*key.signing_args(), "commit", "-q", "-S", "--allow-empty", "-m", "signed", env=env)
    upstream.push()
    return upstream.work.git("rev-parse", "HEAD")


def _ssh_commit(upstream: ServedRepo, key: Path) -> str:
    upstream.work.git(
        "-c",
        "gpg.format=ssh",
        "-c",
        f"user.signingkey={key}",
        "commit",
        "-q",
        "-S",
        "--allow-empty",
        "-m",
        "ssh signed",
    )
    upstream.push()
    return upstream.work.git("rev-parse", "HEAD")


def _source(git_daemon: GitDaemon, tmp_path: Path, verifier: CommitVerifier) -> GitSource:
    return GitSource(Mirror(git_daemon.url(), cache_dir=tmp_path / "cache"), ref="main", verifier=verifier)


def test_gpg_signed_head_is_accepted(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path, gpg_keys: tuple[GpgKey, GpgKey]
) -> None:
    trusted, _ = gpg_keys
    sha = _gpg_commit(upstream, trusted)
    status = _source(git_daemon, tmp_path, CommitVerifier(gpg=GpgKeys([trusted.public_key]))).poll()
    assert (status.revision.sha if status.revision else None, status.signer) == (
        sha,
        f"openpgp:{trusted.fingerprint}",
    )


def test_unsigned_head_is_refused_and_last_verified_kept(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path, gpg_keys: tuple[GpgKey, GpgKey]
) -> None:
    trusted, _ = gpg_keys
    verified = _gpg_commit(upstream, trusted)
    source = _source(git_daemon, tmp_path, CommitVerifier(gpg=GpgKeys([trusted.public_key])))
    source.poll()
    upstream.commit_and_push("unsigned change")
    status = source.poll(force=True)
    assert (status.revision.sha if status.revision else None, status.error) == (
        verified,
        f"verification failed: commit is not signed [revision=main@sha1:{upstream.work.git('rev-parse', 'HEAD')}]",
    )


def test_gpg_unknown_key_is_refused(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path, gpg_keys: tuple[GpgKey, GpgKey]
) -> None:
    trusted, stranger = gpg_keys
    _gpg_commit(upstream, stranger)
    status = _source(git_daemon, tmp_path, CommitVerifier(gpg=GpgKeys([trusted.public_key]))).poll()
    assert (status.revision, "unknown key" in (status.error or "")) == (None, True)


def test_ssh_signed_head_is_accepted(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path, ssh_keys: tuple[Path, Path, Path]
) -> None:
    trusted, _, allowed = ssh_keys
    _ssh_commit(upstream, trusted)
    status = _source(git_daemon, tmp_path, CommitVerifier(ssh=SshSigners(allowed))).poll()
    assert status.signer == "ssh:author@example.test"


def test_ssh_unknown_key_is_refused(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path, ssh_keys: tuple[Path, Path, Path]
) -> None:
    _, stranger, allowed = ssh_keys
    _ssh_commit(upstream, stranger)
    status = _source(git_daemon, tmp_path, CommitVerifier(ssh=SshSigners(allowed))).poll()
    assert (status.revision, "unknown key (SSH)" in (status.error or "")) == (None, True)


def test_ssh_signature_with_only_gpg_configured_is_refused(
    upstream: ServedRepo,
    git_daemon: GitDaemon,
    tmp_path: Path,
    gpg_keys: tuple[GpgKey, GpgKey],
    ssh_keys: tuple[Path, Path, Path],
) -> None:
    _ssh_commit(upstream, ssh_keys[0])
    status = _source(git_daemon, tmp_path, CommitVerifier(gpg=GpgKeys([gpg_keys[0].public_key]))).poll()
    assert "no configured key can check" in (status.error or "")


def test_tampered_payload_fails_ssh_verification(ssh_keys: tuple[Path, Path, Path], tmp_path: Path) -> None:
    trusted, _, allowed = ssh_keys
    payload = tmp_path / "payload"
    payload.write_bytes(b"tree abc\n\nreal message\n")
    subprocess.run(
        ["ssh-keygen", "-q", "-Y", "sign", "-f", str(trusted), "-n", "git", str(payload)],
        check=True,
        capture_output=True,
    )
    signature = Path(f"{payload}.sig").read_bytes()
    with pytest.raises(VerificationError, match="bad SSH signature"):
        SshSigners(allowed).verify(signature=signature, payload=b"tree abc\n\nforged message\n", revision="r")


def test_verifier_without_keys_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        CommitVerifier()
