"""Fixtures of the CLI tests: a small fleet (examples/01-minimal) and a sim cluster for its context."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.sim import testing


@dataclass(frozen=True)
class Served:
    fleet: Path
    kubeconfig: Path
    state: Path

    @property
    def args(self) -> list[str]:
        return ["--fleet", str(self.fleet), "--kubeconfig", str(self.kubeconfig), "--state", str(self.state)]


@pytest.fixture
def minimal(tmp_path: Path, repo_root: Path) -> Path:
    return Path(shutil.copytree(repo_root / "examples" / "01-minimal", tmp_path / "fleet"))


@pytest.fixture
def served(minimal: Path, tmp_path: Path) -> Iterator[Served]:
    """The minimal fleet and a kubeconfig of a sim cluster for its one context, ``dev``."""
    with testing.running(clusters=["dev"], workdir=tmp_path) as running:
        yield Served(minimal, running.kubeconfig, tmp_path / "state.db")
