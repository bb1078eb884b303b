"""Fixtures of the daemon tests: a fleet repo served by ``git daemon`` on loopback and a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.demo.repos import GitDaemon, Upstream
from reconciler.store import stores


@pytest.fixture
def upstream(tmp_path: Path, repo_root: Path) -> Upstream:
    return Upstream.create(tmp_path / "srv", seed=repo_root / "examples" / "01-minimal")


@pytest.fixture
def git_server(upstream: Upstream) -> Iterator[GitDaemon]:
    with GitDaemon(upstream.root) as served:
        yield served


@pytest.fixture
def store(tmp_path: Path) -> Iterator[stores.Store]:
    opened = stores.open_store(tmp_path / "state.db")
    yield opened
    opened.close()
