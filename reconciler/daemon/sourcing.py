"""Git sources from the daemon settings: mirror, credentials, signature verification, poll timing.

A mirror is unlocked when its track is made (``unlock``): a daemon killed during a fetch leaves
``*.lock`` files behind, and libgit2 would refuse every later fetch of that ref.
"""

from __future__ import annotations

from pathlib import Path

from reconciler import logs, settings
from reconciler.daemon.tracks import Track
from reconciler.errors import SourceError
from reconciler.source import credentials, verify
from reconciler.source.git import Mirror, Revision
from reconciler.source.sources import GitSource, Verifier


def track_of(source: settings.Source, *, cache_dir: Path) -> Track:
    """A ``Track`` for one configured source (secrets are read now and registered for redaction)."""
    mirror = Mirror(source.url, cache_dir=cache_dir, credentials=credentials_of(source.credentials),
                    timeout=source.timeout)
    unlock(mirror.path)
    git_source = GitSource(mirror, ref=source.ref, verifier=verifier_of(source.verification))
    return Track(source.name, git_source, poll_seconds=source.poll_interval, jitter=source.poll_jitter)


def resume(track: Track, *, applied: str | None) -> bool:
    """After a restart, judge force-pushes against ``applied`` (the store's last fully applied revision)
    when it is a commit of this track's ref that its mirror holds; True when it was taken."""
    try:
        revision = Revision.parse(applied or "")
    except SourceError:
        return False
    if revision.ref != track.source.ref or not track.source.mirror.has_commit(revision.sha):
        return False
    track.source.mark_applied(revision)
    return True


def unlock(mirror: Path) -> list[Path]:
    """Remove lock files a killed daemon left in its mirror (git refuses to write a locked ref forever).

    Called once at start: the daemon's mirrors live next to its state database and no other process
    writes them, so any lock found then belongs to a process that is gone.
    """
    stale = sorted(mirror.rglob("*.lock"))
    for path in stale:
        path.unlink(missing_ok=True)
        logs.get("stackfleet.daemon").warning("removed a stale lock from the Git mirror", path=str(path))
    return stale


def credentials_of(given: settings.SourceCredentials) -> credentials.Credentials | None:
    if given.ssh_key is not None and given.known_hosts is not None:
        passphrase = _secret(given.ssh_passphrase)
        return credentials.SshKeyAuth(private_key=given.ssh_key, known_hosts=given.known_hosts,
                                      passphrase=passphrase, username=given.username or "git")
    token = _secret(given.token)
    if token is not None:
        return credentials.TokenAuth(token=token, username=given.username or "x-access-token")
    password = _secret(given.password)
    if password is not None and given.username:
        return credentials.BasicAuth(username=given.username, password=password)
    return None


def verifier_of(given: settings.Verification) -> Verifier | None:
    if given.mode == "gpg":
        return verify.CommitVerifier(gpg=verify.GpgKeys(given.keys))
    if given.mode == "ssh":
        return verify.CommitVerifier(ssh=verify.SshSigners(given.keys[0]))
    return None


def _secret(ref: settings.SecretRef | None) -> credentials.Secret | None:
    if ref is None:
        return None
    value = settings.reveal(ref)
    logs.register_secret(value)
    return credentials.Secret(value)
