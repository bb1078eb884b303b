"""Commit signature verification against public keys the operator configured.

- OpenPGP: ``gpg --verify`` in a throwaway ``GNUPGHOME`` holding only the configured public keys, so
  "valid" means "made by one of those keys", whatever else the machine trusts.
- SSH: ``ssh-keygen -Y verify`` against an ``allowed_signers`` file (the format git uses for
  ``gpg.ssh.allowedSignersFile``), in the ``git`` namespace.

``CommitVerifier`` picks the right one from the signature's armour. An unsigned commit, a key that is
not configured, or a signature of a kind with no configured keys raise ``VerificationError``; the
source then keeps serving the last verified revision (``reconciler.source.sources``).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ConfigError, VerificationError

PGP_ARMOUR = b"-----BEGIN PGP SIGNATURE-----"
SSH_ARMOUR = b"-----BEGIN SSH SIGNATURE-----"
SSH_NAMESPACE = "git"
_TIMEOUT = 30.0


class GpgKeys:
    """Verifies OpenPGP signatures made by one of ``public_keys`` (armoured or binary key files)."""

    def __init__(self, public_keys: Sequence[Path], *, gpg: str = "gpg") -> None:
        if not public_keys:
            raise ConfigError("OpenPGP verification needs at least one public key")
        self.keys = [Path(key).read_bytes() for key in public_keys]
        self.gpg = gpg

    def verify(self, *, signature: bytes, payload: bytes, revision: str) -> str:
        """The signing key's fingerprint as ``openpgp:<fpr>``; ``VerificationError`` otherwise."""
        with tempfile.TemporaryDirectory(prefix="stackfleet-gpg-") as home:
            self._import(home)
            status = self._status_of(home, signature=signature, payload=payload)
        valid = [line.split()[2] for line in status.splitlines() if line.startswith("[GNUPG:] VALIDSIG ")]
        if not valid:
            reason = "signed by an unknown key" if "NO_PUBKEY" in status else "bad signature"
            raise VerificationError(f"commit is {reason} (OpenPGP)", revision=revision)
        return f"openpgp:{valid[0]}"

    def _import(self, home: str) -> None:
        for key in self.keys:
            _run(
                [self.gpg, "--homedir", home, "--batch", "--quiet", "--import"],
                stdin=key,
                what="importing a key",
            )

    def _status_of(self, home: str, *, signature: bytes, payload: bytes) -> str:
        sig_path = Path(home) / "commit.sig"
        sig_path.write_bytes(signature)
        command = [self.gpg, "--homedir", home, "--batch", "--status-fd", "1", "--verify", str(sig_path), "-"]
        done = subprocess.run(command, input=payload, capture_output=True, timeout=_TIMEOUT, check=False)
        return done.stdout.decode(errors="replace")


class SshSigners:
    """Verifies SSH signatures against an ``allowed_signers`` file (``principal key-type key`` lines)."""

    def __init__(self, allowed_signers: Path, *, ssh_keygen: str = "ssh-keygen") -> None:
        if not allowed_signers.is_file() or not allowed_signers.read_text().strip():
            raise ConfigError(f"allowed_signers file {str(allowed_signers)!r} is missing or empty")
        self.allowed_signers = allowed_signers
        self.ssh_keygen = ssh_keygen

    def verify(self, *, signature: bytes, payload: bytes, revision: str) -> str:
        """The signer as ``ssh:<principal>``; ``VerificationError`` otherwise."""
        with tempfile.TemporaryDirectory(prefix="stackfleet-ssh-") as scratch:
            sig_path = Path(scratch) / "commit.sig"
            sig_path.write_bytes(signature)
            principal = self._principal(sig_path, revision=revision)
            command = [self.ssh_keygen, "-Y", "verify", "-f", str(self.allowed_signers), "-I", principal]
            command += ["-n", SSH_NAMESPACE, "-s", str(sig_path)]
            done = subprocess.run(command, input=payload, capture_output=True, timeout=_TIMEOUT, check=False)
        if done.returncode != 0:
            raise VerificationError("commit has a bad SSH signature", revision=revision)
        return f"ssh:{principal}"

    def _principal(self, sig_path: Path, *, revision: str) -> str:
        command = [
            self.ssh_keygen,
            "-Y",
            "find-principals",
            "-f",
            str(self.allowed_signers),
            "-s",
            str(sig_path),
        ]
        done = subprocess.run(command, capture_output=True, timeout=_TIMEOUT, check=False)
        principals = done.stdout.decode(errors="replace").split()
        if done.returncode != 0 or not principals:
            raise VerificationError("commit is signed by an unknown key (SSH)", revision=revision)
        return principals[0]


@dataclass(frozen=True)
class CommitVerifier:
    """Dispatches a commit signature to the OpenPGP or SSH verifier by its armour."""

    gpg: GpgKeys | None = None
    ssh: SshSigners | None = None

    def __post_init__(self) -> None:
        if self.gpg is None and self.ssh is None:
            raise ConfigError("commit verification is on but no OpenPGP keys or SSH signers are configured")

    def verify(self, *, signature: bytes | None, payload: bytes, revision: str) -> str:
        if not signature:
            raise VerificationError("commit is not signed", revision=revision)
        if signature.lstrip().startswith(PGP_ARMOUR) and self.gpg:
            return self.gpg.verify(signature=signature, payload=payload, revision=revision)
        if signature.lstrip().startswith(SSH_ARMOUR) and self.ssh:
            return self.ssh.verify(signature=signature, payload=payload, revision=revision)
        raise VerificationError(
            "commit signature is of a kind no configured key can check", revision=revision
        )


def _run(command: list[str], *, stdin: bytes, what: str) -> None:
    done = subprocess.run(command, input=stdin, capture_output=True, timeout=_TIMEOUT, check=False)
    if done.returncode != 0:
        raise ConfigError(f"{what} failed: {done.stderr.decode(errors='replace').strip()}")
