"""``--fleet PATH|GIT_URL[@REF]``: open the fleet repo a command names as a ``FileTree``.

An existing directory is read as it is (``DirTree``). Anything else is a Git remote, optionally
followed by ``@REF`` (a branch, tag, ``refs/...`` name or commit SHA; the remote's default branch
when left out), and optionally ``:PATH`` after the ref for a fleet in a subdirectory
(``URL@main:fleets/prod``; ``--path`` says the same for any fleet): ``https://``, ``http://``, ``git://``, ``ssh://`` and ``file://`` URLs, scp-like
``user@host:path`` (its first ``@`` names the user, not a ref), or a local repo directory with a
``@REF``. The remote is mirrored under ``cache_dir`` (default ``$STACKFLEET_CACHE_DIR``, else
``~/.cache/stackfleet/git``) with credentials from ``STACKFLEET_GIT_*`` (``credentials.from_env``),
and the commit is read without a checkout (``CommitTree``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.errors import SourceError, SpecError
from reconciler.source import credentials
from reconciler.source.dirtree import DirTree
from reconciler.source.git import Mirror, Revision
from reconciler.source.subtrees import SubTree
from reconciler.spec.trees import FileTree

DEFAULT_REF = "HEAD"
_URL_SCHEMES = ("https://", "http://", "git://", "ssh://", "file://")
_SCP_LIKE = re.compile(r"^(?:[^@/:\s]+@)?[^@/:\s]{2,}:(?!//)")


@dataclass(frozen=True)
class Opened:
    """The files of a fleet, and for a Git remote the mirror and commit they came from."""

    tree: FileTree
    mirror: Mirror | None = None
    revision: Revision | None = None

    def forced_from(self, applied: str | None) -> bool:
        """Whether the commit does not descend from ``applied`` (a revision of the same ref): a force-push.

        A directory, a revision of another ref or nothing applied yet is never a force-push; an applied
        commit the mirror no longer holds cannot be proven an ancestor, so it counts as one.
        """
        if self.mirror is None or self.revision is None or not applied:
            return False
        try:
            base = Revision.parse(applied)
        except SourceError:
            return False
        return base.ref == self.revision.ref and not self.mirror.descends(self.revision.sha, from_sha=base.sha)


def open_tree(fleet: str, *, path: str = "", cache_dir: Path | None = None, timeout: float = 30) -> FileTree:
    """The files of ``fleet``: a directory as it is, or a Git remote at its ref; ``path`` is a subdirectory."""
    return open_fleet(fleet, path=path, cache_dir=cache_dir, timeout=timeout).tree


def open_fleet(fleet: str, *, path: str = "", cache_dir: Path | None = None, timeout: float = 30) -> Opened:
    """``open_tree`` keeping the mirror and the commit, for ancestry checks (``Opened.forced_from``).

    The fleet repo is the directory ``path`` of the tree (``--path``), or the one a Git URL names after
    its ref (``URL@REF:path``); both given, ``path`` is below the URL's.
    """
    if os.path.isdir(fleet):
        return _below(Opened(DirTree(fleet)), path)
    url, ref = split_ref(fleet)
    ref, _, in_url = (ref or "").partition(":")
    below = "/".join(p.strip("/") for p in (in_url, path) if p.strip("/"))
    mirror = Mirror(
        url,
        cache_dir=cache_dir or default_cache_dir(),
        credentials=credentials.from_env(os.environ),
        timeout=timeout,
    )
    revision = mirror.resolve(ref or DEFAULT_REF)
    return _below(Opened(mirror.tree(revision), mirror, revision), below)


def _below(opened: Opened, path: str) -> Opened:
    if not path.strip("/"):
        return opened
    return Opened(SubTree(opened.tree, path), opened.mirror, opened.revision)


def split_ref(fleet: str) -> tuple[str, str | None]:
    """``GIT_URL[@REF]`` as ``(url, ref or None)``; ``SpecError`` when it is neither a URL nor a repo dir."""
    if fleet.startswith(_URL_SCHEMES):
        parts = urlsplit(fleet)
        path, at, ref = parts.path.rpartition("@")
        return (parts._replace(path=path).geturl(), ref or None) if at else (fleet, None)
    if _SCP_LIKE.match(fleet):
        host, _, path = fleet.partition(":")
        repo_path, at, ref = path.rpartition("@")
        return (f"{host}:{repo_path}", ref or None) if at else (fleet, None)
    local, at, ref = fleet.rpartition("@")
    if at and os.path.isdir(local):
        return Path(local).resolve().as_uri(), ref or None
    raise SpecError(f"fleet {credentials.redact(fleet)!r} is neither a directory nor a Git URL[@REF]")


def default_cache_dir() -> Path:
    configured = os.environ.get("STACKFLEET_CACHE_DIR")
    return Path(configured) / "git" if configured else Path.home() / ".cache" / "stackfleet" / "git"
