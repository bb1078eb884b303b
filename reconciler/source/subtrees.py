"""A ``FileTree`` of one directory of another tree: a fleet repo kept in a subdirectory of a Git repo.

``SubTree(tree, "fleets/prod")`` reads ``fleets/prod/<path>`` of ``tree`` for ``<path>``; paths are
cleaned (``trees.clean_path``) before they are joined, so nothing above the subdirectory can be read.
The revision is the underlying one: the same commit, so saved plans, force-push checks and runs
compare it as they compare a whole-repo fleet's.
"""

from __future__ import annotations

from reconciler.errors import SpecError
from reconciler.spec.trees import FileTree, clean_path


class SubTree:
    """The files of ``tree`` below directory ``path`` (repo-relative, POSIX)."""

    def __init__(self, tree: FileTree, path: str) -> None:
        self.base = clean_path(path.strip("/"))
        self.tree = tree
        if self.base and not tree.is_dir(self.base):
            raise SpecError(f"fleet path {self.base!r} is not a directory of {tree.revision}")

    @property
    def revision(self) -> str:
        return self.tree.revision

    def _full(self, path: str) -> str:
        rel = clean_path(path)
        return f"{self.base}/{rel}" if self.base and rel else (self.base or rel)

    def read(self, path: str) -> bytes:
        return self.tree.read(self._full(path))

    def is_file(self, path: str) -> bool:
        return self.tree.is_file(self._full(path))

    def is_dir(self, path: str) -> bool:
        return self.tree.is_dir(self._full(path))

    def list_dir(self, path: str) -> list[str]:
        return self.tree.list_dir(self._full(path))

    def tree_id(self, path: str) -> str:
        return self.tree.tree_id(self._full(path))
