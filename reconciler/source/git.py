"""Git through pygit2: revisions, commit trees read without a checkout, and mirrored remotes.

This is the only module that imports pygit2 (an import-linter contract enforces it).

- ``Revision``: a resolved ref, written ``<ref>@sha1:<sha>``.
- ``CommitTree``: the ``FileTree`` of one commit, read blob by blob from the object database.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import pygit2
from pygit2.enums import FileMode

from reconciler.errors import SourceError, SpecError, UnsafePathError
from reconciler.spec.trees import MAX_FILE_BYTES, clean_path

MAX_SYMLINK_HOPS = 40
"""Symlinks followed while resolving one path before it counts as a loop (Linux uses 40 too)."""

_MAX_LINK_BYTES = 4096


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
        self._root: pygit2.Tree = commit.tree
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
        target = self._repo[entry.id].data.decode("utf-8", errors="replace")
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
