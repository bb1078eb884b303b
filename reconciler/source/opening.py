"""Open the fleet repo named by ``--fleet PATH|GIT_URL[@REF]`` as a ``FileTree``."""

from __future__ import annotations

import os

from reconciler.errors import SpecError
from reconciler.source.dirtree import DirTree
from reconciler.spec.trees import FileTree


def open_tree(fleet: str) -> FileTree:
    """A directory gives a ``DirTree``; a Git URL is mirrored and read at its ref (see ``source.open``)."""
    if os.path.isdir(fleet):
        return DirTree(fleet)
    try:
        from reconciler.source import open as git_open
    except ImportError:
        raise SpecError(f"{fleet!r} is not a directory") from None
    return git_open.open_tree(fleet)
