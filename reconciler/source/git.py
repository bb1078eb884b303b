"""Git through pygit2: revisions, commit trees read without a checkout, and mirrored remotes.

This is the only module that imports pygit2 (an import-linter contract enforces it).

- ``Revision``: a resolved ref, written ``<ref>@sha1:<sha>``.
- ``CommitTree``: the ``FileTree`` of one commit, read blob by blob from the object database.
- ``Mirror``: a bare mirror of one remote on disk; ``resolve`` lists the remote's refs once and
  fetches only when the wanted ref moved (and then only the missing objects).

Timeouts: libgit2's socket timeouts (connect and every read) stop a server that accepts and never
answers; progress callbacks enforce the whole deadline while data trickles in; and the network work
runs in a worker thread that is abandoned past the deadline (it holds the mirror's lock until it ends,
so nothing reads a half-fetched mirror). A failed fetch updates no ref, so no partial data is used.
The retry/staleness policy lives in ``reconciler.source.sources``.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import pygit2
from pygit2.enums import CredentialType, FileMode, Option

from reconciler.errors import SourceAuthError, SourceError, SourceTimeout, SpecError, UnsafePathError
from reconciler.source import credentials as creds
from reconciler.spec.trees import MAX_FILE_BYTES, clean_path

T = TypeVar("T")

MAX_SYMLINK_HOPS = 40
"""Symlinks followed while resolving one path before it counts as a loop (Linux uses 40 too)."""

_MAX_LINK_BYTES = 4096
SUBJECT_CHARS = 200
NAME_CHARS = 200


@dataclass(frozen=True)
class Revision:
    """A ref resolved to a commit: ``str()`` gives ``<ref>@sha1:<sha>``."""

    ref: str
    sha: str

    def __str__(self) -> str:
        return f"{self.ref}@sha1:{self.sha}"

    @property
    def short(self) -> str:
        return f"{self.ref}@{self.sha[:12]}"

    @classmethod
    def parse(cls, text: str) -> Revision:
        """The inverse of ``str()``."""
        ref, sep, sha = text.rpartition("@sha1:")
        if not sep or not ref or len(sha) != 40:
            raise SourceError(f"not a revision: {text!r} (expected <ref>@sha1:<40 hex digits>)")
        return cls(ref=ref, sha=sha)


class CommitTree:
    """The files of one commit, read from the object database without a work tree.

    Symlinks are followed inside the commit only: one that is absolute, climbs out of the repo or
    loops raises ``UnsafePathError``. Blobs over ``max_file_bytes`` are refused from their header,
    before their content is read.
    """

    _repo: pygit2.Repository
    _root: pygit2.Tree
    _revision: Revision
    max_file_bytes: int

    def __init__(
        self,
        repo: pygit2.Repository,
        revision: Revision,
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
    ) -> None:
        commit = repo.get(revision.sha)
        if not isinstance(commit, pygit2.Commit):
            raise SourceError(f"{revision.sha} is not a commit in {repo.path}", revision=str(revision))
        self._repo = repo
        self._root = commit.tree
        self._revision = revision
        self.max_file_bytes = max_file_bytes

    @property
    def revision(self) -> str:
        return str(self._revision)

    @property
    def commit_revision(self) -> Revision:
        return self._revision

    def read(self, path: str) -> bytes:
        node = self._resolve(path)
        if not isinstance(node, pygit2.Blob):
            raise FileNotFoundError(clean_path(path))
        self._check_size(node.id, path=clean_path(path), limit=self.max_file_bytes)
        return node.data

    def is_file(self, path: str) -> bool:
        return isinstance(self._find(path), pygit2.Blob)

    def is_dir(self, path: str) -> bool:
        return isinstance(self._find(path), pygit2.Tree)

    def list_dir(self, path: str) -> list[str]:
        node = self._resolve(path)
        if not isinstance(node, pygit2.Tree):
            raise NotADirectoryError(clean_path(path))
        return sorted(entry.name for entry in node if entry.filemode != FileMode.COMMIT and entry.name)

    def tree_id(self, path: str) -> str:
        return str(self._resolve(path).id)

    def _find(self, path: str) -> pygit2.Object | None:
        try:
            return self._resolve(path)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def _resolve(self, path: str) -> pygit2.Object:
        """The tree or blob at ``path``, following symlinks that stay inside the commit."""
        pending = _split(clean_path(path))
        done: list[str] = []
        node: pygit2.Object = self._root
        hops = 0
        while pending:
            name = pending.pop(0)
            entry = _child(node, name, at="/".join([*done, name]))
            if entry.filemode != FileMode.LINK:
                done.append(name)
                node = entry
                continue
            hops += 1
            if hops > MAX_SYMLINK_HOPS:
                raise UnsafePathError(f"{clean_path(path)}: symlink loop", path=clean_path(path))
            pending = _split(self._link_target(entry, base="/".join(done))) + pending
            done, node = [], self._root
        return node

    def _link_target(self, entry: pygit2.Object, *, base: str) -> str:
        """Where the symlink ``entry`` in directory ``base`` points, as a repo-relative path."""
        where = posixpath.join(base, entry.name or "")
        self._check_size(entry.id, path=where, limit=_MAX_LINK_BYTES)
        blob = self._repo[entry.id]
        if not isinstance(blob, pygit2.Blob):
            raise UnsafePathError(f"{where}: symlink entry is not a blob", path=where)
        target = blob.data.decode("utf-8", errors="replace")
        joined = posixpath.normpath(posixpath.join(base, target))
        if target.startswith("/") or joined == ".." or joined.startswith("../"):
            raise UnsafePathError(f"{where}: symlink to {target!r} leads outside the fleet repo", path=where)
        return "" if joined == "." else joined

    def _check_size(self, oid: pygit2.Oid, *, path: str, limit: int) -> None:
        _kind, size = self._repo.odb.read_header(oid)
        if size > limit:
            raise SpecError(f"{path}: file is {size} bytes, over the limit of {limit}", path=path)


def _split(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


def _child(node: pygit2.Object, name: str, *, at: str) -> pygit2.Object:
    if not isinstance(node, pygit2.Tree):
        raise NotADirectoryError(at)
    if name not in node:
        raise FileNotFoundError(at)
    entry = node[name]
    if entry.filemode == FileMode.COMMIT:
        raise FileNotFoundError(f"{at} (a submodule)")
    return entry


# ---------------------------------------------------------------------------------------------------
# Mirrors


_SHA = re.compile(r"^[0-9a-f]{40}$")
_PEELED = "^{}"
_ABANDON_GRACE = 2.0
_OPTIONS_LOCK = threading.Lock()


@dataclass(frozen=True)
class FetchStats:
    """What one ``resolve`` cost on the wire: ref listings made and objects/bytes received."""

    listings: int = 0
    fetched: bool = False
    received_objects: int = 0
    received_bytes: int = 0


class Mirror:
    """A bare mirror of ``url`` under ``cache_dir``, fetched with a deadline of ``timeout`` seconds."""

    def __init__(
        self,
        url: str,
        *,
        cache_dir: Path,
        credentials: creds.Credentials | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = url
        self.credentials = credentials
        self.timeout = timeout
        self.path = cache_dir / mirror_dirname(url)
        self._lock = threading.Lock()
        try:
            self._repo = _open_bare(self.path)
        except (OSError, pygit2.GitError) as exc:
            raise SourceError(f"cannot open the mirror of {self.display_url} at {self.path}: {exc}") from None
        self.last_stats = FetchStats()

    @property
    def display_url(self) -> str:
        return creds.redact_url(self.url)

    def resolve(self, ref: str) -> Revision:
        """``ref`` (branch, tag, ``refs/...`` name or 40-hex SHA) as a commit present in the mirror."""
        if _SHA.match(ref) and self.has_commit(ref):
            self.last_stats = FetchStats()
            return Revision(ref=ref, sha=ref)
        if _SHA.match(ref):
            return self._fetch_sha(ref)
        advertised = self.list_refs()
        name = _pick(advertised, ref)
        if name is None:
            raise SourceError(f"{self.display_url} has no branch or tag {ref!r}", ref=ref)
        self._fetch_if_moved(name, advertised[name])
        return Revision(ref=ref, sha=self._commit_of(name))

    def list_refs(self) -> dict[str, str]:
        """The remote's refs (one ref advertisement, no pack): name to object id (peeled tags as ``^{}``)."""

        def listing(callbacks: _Callbacks) -> dict[str, str]:
            remote = self._repo.remotes.create_anonymous(self.url)
            return {head.name: str(head.oid) for head in remote.list_heads(callbacks=callbacks) if head.name}

        return self._network("listing refs", listing)

    def fetch(self, refspecs: list[str]) -> FetchStats:
        """Fetch ``refspecs`` (forced, so moved tags and force-pushed branches follow the remote)."""

        def fetching(callbacks: _Callbacks) -> FetchStats:
            remote = self._repo.remotes.create_anonymous(self.url)
            progress = remote.fetch(refspecs, callbacks=callbacks)
            return FetchStats(
                fetched=True,
                received_objects=progress.received_objects,
                received_bytes=progress.received_bytes,
            )

        return self._network("fetching", fetching)

    def has_commit(self, sha: str) -> bool:
        return isinstance(self._repo.get(sha), pygit2.Commit)

    def descends(self, sha: str, *, from_sha: str) -> bool:
        """Whether commit ``sha`` is ``from_sha`` or one of its descendants (both must be in the mirror)."""
        if sha == from_sha:
            return True
        if not (self.has_commit(sha) and self.has_commit(from_sha)):
            return False
        return bool(self._repo.descendant_of(sha, from_sha))

    def signature(self, sha: str) -> tuple[bytes, bytes] | None:
        """The commit's signature and the signed payload, or ``None`` when it is unsigned."""
        commit = self._repo.get(sha)
        if not isinstance(commit, pygit2.Commit):
            raise SourceError(f"{sha} is not a commit", sha=sha)
        signature, payload = commit.gpg_signature
        return (signature, payload) if signature else None

    def describe(self, sha: str) -> tuple[str, str]:
        """The commit's subject (its message's first line, at most 200 characters) and its author's name."""
        commit = self._repo.get(sha)
        if not isinstance(commit, pygit2.Commit):
            raise SourceError(f"{sha} is not a commit", sha=sha)
        subject = (commit.message.strip().splitlines() or [""])[0][:SUBJECT_CHARS]
        return subject, commit.author.name[:NAME_CHARS]

    def tree(self, revision: Revision, *, max_file_bytes: int = MAX_FILE_BYTES) -> CommitTree:
        return CommitTree(self._repo, revision, max_file_bytes=max_file_bytes)

    def _fetch_if_moved(self, name: str, remote_sha: str) -> None:
        local = self._repo.references.get(_local_name(name))
        if local is not None and str(local.target) == remote_sha and self._repo.get(remote_sha) is not None:
            self.last_stats = FetchStats(listings=1)
            return
        self.last_stats = replace(self.fetch([f"+{name}:{_local_name(name)}"]), listings=1)

    def _fetch_sha(self, sha: str) -> Revision:
        stats = self.fetch(["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"])
        self.last_stats = stats
        if not self.has_commit(sha):
            raise SourceError(f"commit {sha} is on no branch or tag of {self.display_url}", sha=sha)
        return Revision(ref=sha, sha=sha)

    def _commit_of(self, name: str) -> str:
        try:
            return str(self._repo.references[_local_name(name)].peel(pygit2.Commit).id)
        except (KeyError, pygit2.GitError, ValueError) as exc:
            raise SourceError(f"{name} of {self.display_url} does not point at a commit", ref=name) from exc

    def _network(self, what: str, work: Callable[[_Callbacks], T]) -> T:
        """Run ``work`` against the remote within the deadline, with errors typed and redacted."""
        if not self._lock.acquire(timeout=self.timeout):
            raise SourceTimeout(
                f"{what} {self.display_url}: an earlier fetch is still running", url=self.display_url
            )
        callbacks = _Callbacks(self.credentials, deadline=time.monotonic() + self.timeout)

        def locked() -> T:
            try:
                _set_socket_timeouts(self.timeout, credentials=self.credentials)
                return work(callbacks)
            finally:
                self._lock.release()

        try:
            return _within(self.timeout + _ABANDON_GRACE, locked, what=f"{what} {self.display_url}")
        except pygit2.GitError as exc:
            raise _typed_error(exc, what=what, mirror=self) from None


def mirror_dirname(url: str) -> str:
    """A directory name for the mirror of ``url``: a readable tail and a hash of the credential-free URL."""
    key = creds.strip_userinfo(url).rstrip("/")
    tail = re.sub(r"[^A-Za-z0-9._-]+", "-", key.rsplit("/", 1)[-1].rsplit(":", 1)[-1]).strip("-.") or "repo"
    return f"{tail[:40]}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.git"


def _open_bare(path: Path) -> pygit2.Repository:
    if (path / "HEAD").exists():
        return pygit2.Repository(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".init-", dir=path.parent))
    pygit2.init_repository(str(scratch), bare=True)
    try:
        scratch.rename(path)  # atomic: a concurrent opener sees no half-made repo
    except OSError:
        shutil.rmtree(scratch, ignore_errors=True)  # someone else made it first
    return pygit2.Repository(str(path))


def _pick(advertised: dict[str, str], ref: str) -> str | None:
    """The advertised ref ``ref`` names: ``HEAD`` or a full ``refs/...`` name, else a tag, else a branch
    (git's order)."""
    full = ref == "HEAD" or ref.startswith("refs/")
    candidates = [ref] if full else [f"refs/tags/{ref}", f"refs/heads/{ref}"]
    return next((name for name in candidates if name in advertised), None)


def _local_name(name: str) -> str:
    """Where the mirror keeps remote ref ``name`` (the remote's ``HEAD`` must not replace the mirror's)."""
    return "refs/stackfleet/remote-HEAD" if name == "HEAD" else name


def _within(timeout: float, work: Callable[[], T], *, what: str) -> T:
    """``work()`` in a worker thread; past ``timeout`` the thread is abandoned and ``SourceTimeout`` raised."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=run, name=f"stackfleet-git: {what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise SourceTimeout(f"{what} did not finish within {timeout:.0f}s")
    if failure:
        raise failure[0]
    return outcome[0]


def _set_socket_timeouts(seconds: float, *, credentials: creds.Credentials | None) -> None:
    """libgit2's connect and per-read timeouts (process-wide), and its home for the pinned known_hosts."""
    millis = max(1, int(seconds * 1000))
    with _OPTIONS_LOCK:
        pygit2.option(Option.SET_SERVER_CONNECT_TIMEOUT, millis)
        pygit2.option(Option.SET_SERVER_TIMEOUT, millis)
        if isinstance(credentials, creds.SshKeyAuth):
            pygit2.option(Option.SET_HOMEDIR, str(_known_hosts_home(credentials.known_hosts)))


def _known_hosts_home(known_hosts: Path) -> Path:
    """A home directory whose ``.ssh/known_hosts`` is the pinned file (libgit2 checks host keys there)."""
    home = (
        Path(tempfile.gettempdir())
        / f"stackfleet-ssh-{hashlib.sha256(str(known_hosts).encode()).hexdigest()[:12]}"
    )
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    (home / ".ssh" / "known_hosts").write_bytes(known_hosts.read_bytes())
    return home


class _Callbacks(pygit2.RemoteCallbacks):
    """Credentials (offered once: a refusal is final), host key checks, and the overall deadline."""

    def __init__(self, credentials: creds.Credentials | None, *, deadline: float) -> None:
        super().__init__()
        self._credentials = credentials
        self._deadline = deadline
        self._offered = False

    def credentials(
        self, url: str, username_from_url: str | None, allowed_types: CredentialType
    ) -> pygit2.Username | pygit2.UserPass | pygit2.Keypair:
        if self._credentials is None:
            raise SourceAuthError(f"{creds.redact_url(url)} asks for credentials and none are configured")
        if self._offered:
            raise SourceAuthError(f"{creds.redact_url(url)} refused the configured credentials")
        self._offered = True
        return _pygit2_credentials(self._credentials, username_from_url=username_from_url)

    def certificate_check(self, certificate: None, valid: bool, host: bytes) -> bool:
        # TLS: the system's verification; SSH: libgit2's check against the pinned known_hosts.
        if not valid:
            raise SourceAuthError(
                f"host key or certificate of {host.decode(errors='replace')} is not trusted"
            )
        return True

    def transfer_progress(self, stats: object) -> None:
        self._check_deadline()

    def sideband_progress(self, string: str) -> None:
        self._check_deadline()

    def _check_deadline(self) -> None:
        if time.monotonic() > self._deadline:
            raise SourceTimeout("the remote is too slow: deadline passed mid-transfer")


def _pygit2_credentials(
    credentials: creds.Credentials, *, username_from_url: str | None
) -> pygit2.UserPass | pygit2.Keypair:
    if isinstance(credentials, creds.TokenAuth):
        return pygit2.UserPass(credentials.username, credentials.token.reveal())
    if isinstance(credentials, creds.BasicAuth):
        return pygit2.UserPass(credentials.username, credentials.password.reveal())
    passphrase = credentials.passphrase.reveal() if credentials.passphrase else ""
    return pygit2.Keypair(
        username_from_url or credentials.username,
        str(credentials.public_key) if credentials.public_key else None,
        str(credentials.private_key),
        passphrase,
    )


def _typed_error(exc: pygit2.GitError, *, what: str, mirror: Mirror) -> SourceError:
    text = creds.redact(str(exc), secrets=creds.secrets_of(mirror.credentials))
    message = f"{what} {mirror.display_url} failed: {text}"
    lowered = text.lower()
    if "timed out" in lowered or "timeout" in lowered:
        return SourceTimeout(message, url=mirror.display_url)
    if any(word in lowered for word in ("401", "403", "authentication", "credentials", "unauthorized")):
        return SourceAuthError(message, url=mirror.display_url)
    return SourceError(message, url=mirror.display_url)
