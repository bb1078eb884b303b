"""A read-only view of the files of a fleet repo at one revision.

The loader and the renderers read a fleet repo only through ``FileTree``, so the same code reads a
directory on disk (``reconciler.source.dirtree.DirTree``) or a Git commit without a checkout
(``reconciler.source.git.CommitTree``). Paths are always POSIX, relative to the repo root, and
checked by ``clean_path`` before anything is read.
"""

from __future__ import annotations

import posixpath
from typing import Protocol

from reconciler.errors import UnsafePathError

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Files larger than this are refused before they are read (a fleet repo holds text, not blobs)."""


class FileTree(Protocol):
    """Files of a fleet repo at one revision.

    Implementations refuse (``UnsafePathError``) symlinks that lead outside the repo and symlink
    loops, and (``reconciler.errors.YamlError``/``SpecError``) files over ``MAX_FILE_BYTES``.
    """

    @property
    def revision(self) -> str:
        """``<ref>@sha1:<sha>`` for a commit, ``dir:<absolute path>`` for a directory."""
        ...

    def read(self, path: str) -> bytes:
        """The content of the file at ``path``; ``FileNotFoundError`` when there is none."""
        ...

    def is_file(self, path: str) -> bool: ...

    def is_dir(self, path: str) -> bool: ...

    def list_dir(self, path: str) -> list[str]:
        """Names (not paths) of the entries of directory ``path``, sorted; ``""`` is the root."""
        ...

    def tree_id(self, path: str) -> str:
        """A content hash of the file or directory at ``path`` (a Git tree/blob id where there is one)."""
        ...


def clean_path(path: str, *, base: str = "") -> str:
    """``path`` (relative to directory ``base``) as a normalised repo-relative POSIX path.

    Raises ``UnsafePathError`` for absolute paths, drive letters, backslashes and anything that climbs
    out of the repo with ``..``. ``""`` is the repo root.
    """
    if not isinstance(path, str) or "\x00" in path:
        raise UnsafePathError("path is not a string", path=repr(path))
    if path.startswith("/") or path.startswith("~") or "\\" in path or (len(path) > 1 and path[1] == ":"):
        raise UnsafePathError(f"path {path!r} must be relative to the fleet repo", path=path)
    if any(part == ".." for part in path.split("/")):
        raise UnsafePathError(f"path {path!r} must not contain '..'", path=path)
    joined = posixpath.normpath(posixpath.join(base, path)) if (base or path) else ""
    if joined in (".", ""):
        return ""
    if joined.startswith("../") or joined == ".." or joined.startswith("/"):
        raise UnsafePathError(f"path {path!r} leaves the fleet repo", path=path)
    return joined


def walk_files(tree: FileTree, path: str) -> list[str]:
    """Every file below directory ``path``, as repo-relative paths, sorted."""
    out: list[str] = []
    for name in tree.list_dir(path):
        child = f"{path}/{name}" if path else name
        if tree.is_dir(child):
            out.extend(walk_files(tree, child))
        else:
            out.append(child)
    return out
