"""Fixtures for the spec tests: a small valid fleet repo (data/base-repo) copied into tmp_path to break."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

BASE_REPO = Path(__file__).parent / "data" / "base-repo"

WriteRepo = Callable[..., Path]


def write_files(root: Path, files: dict[str, str | bytes | None]) -> None:
    for rel, content in files.items():
        path = root / rel
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


@pytest.fixture
def write_repo(tmp_path: Path) -> WriteRepo:
    """A copy of the base repo with ``changes`` applied (``None`` deletes a file); returns its root."""

    def write(changes: dict[str, str | bytes | None] | None = None) -> Path:
        root = tmp_path / "repo"
        shutil.copytree(BASE_REPO, root)
        write_files(root, changes or {})
        return root

    return write
