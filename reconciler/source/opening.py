"""``--fleet PATH|GIT_URL[@REF]``: open the fleet repo a command names as a ``FileTree``.

An existing directory is read as it is (``DirTree``). Anything else is a Git remote, optionally
followed by ``@REF`` (a branch, tag, ``refs/...`` name or commit SHA; the remote's default branch
when left out): ``https://``, ``http://``, ``git://``, ``ssh://`` and ``file://`` URLs, scp-like
``user@host:path`` (its first ``@`` names the user, not a ref), or a local repo directory with a
``@REF``. The remote is mirrored under ``cache_dir`` (default ``$STACKFLEET_CACHE_DIR``, else
``~/.cache/stackfleet/git``) with credentials from ``STACKFLEET_GIT_*`` (``credentials.from_env``),
and the commit is read without a checkout (``CommitTree``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.errors import SpecError
from reconciler.source import credentials
from reconciler.source.dirtree import DirTree
from reconciler.source.git import Mirror
from reconciler.spec.trees import FileTree

DEFAULT_REF = "HEAD"
_URL_SCHEMES = ("https://", "http://", "git://", "ssh://", "file://")
_SCP_LIKE = re.compile(r"^(?:[^@/:\s]+@)?[^@/:\s]{2,}:(?!//)")


def open_tree(fleet: str, *, cache_dir: Path | None = None, timeout: float = 30) -> FileTree:
    """The files of ``fleet``: a directory as it is, or a Git remote at its ref."""
    if os.path.isdir(fleet):
        return DirTree(fleet)
    url, ref = split_ref(fleet)
    mirror = Mirror(
        url,
        cache_dir=cache_dir or default_cache_dir(),
        credentials=credentials.from_env(os.environ),
        timeout=timeout,
    )
    return mirror.tree(mirror.resolve(ref or DEFAULT_REF))


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
