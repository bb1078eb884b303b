"""House rules of the codebase, checked by the suite: layering, typing of the pure core, lint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"

# Which of our modules may import which third-party engine (DESIGN.md, "only X imports Y").
ALLOWED_IMPORTERS = {
    "pygit2": {"source/git.py"},
    "helm_python": {"render/helm.py"},
}


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=PACKAGE.parent, timeout=600)


def test_import_layers_hold() -> None:
    result = run("lint-imports")
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("library", sorted(ALLOWED_IMPORTERS))
def test_only_the_named_module_imports_an_engine(library: str) -> None:
    pattern = re.compile(rf"^\s*(import|from)\s+{library}\b", re.MULTILINE)
    importers = {
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if pattern.search(path.read_text())
    }
    assert importers <= ALLOWED_IMPORTERS[library], importers


def test_pure_core_is_strictly_typed() -> None:
    result = run(sys.executable, "-m", "mypy", "reconciler/core", "reconciler/spec")
    assert result.returncode == 0, result.stdout[-3000:]


def test_ruff_is_clean() -> None:
    result = run(sys.executable, "-m", "ruff", "check", "reconciler", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout[-3000:]
