"""House rules of the codebase, checked by the suite: layering, strict typing of the package, lint, the closed vocabulary."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from enum import StrEnum
from pathlib import Path

import pytest

from reconciler.core import plans, reasons, rollout, statuses

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


def test_the_package_is_strictly_typed() -> None:
    result = run(sys.executable, "-m", "mypy", "--strict", "reconciler")
    assert result.returncode == 0, result.stdout[-3000:]


def test_ruff_is_clean() -> None:
    result = run(sys.executable, "-m", "ruff", "check", "reconciler", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout[-3000:]


VOCABULARY = (
    *(v for v in vars(statuses).values() if isinstance(v, type) and issubclass(v, StrEnum) and v is not StrEnum),
    reasons.Reason, rollout.Result, plans.Action,
)


def _compared_texts(tree: ast.AST) -> list[tuple[int, str]]:
    """``(line, text)`` of every string literal that is an operand of a comparison (``==``, ``in``, ...)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        for operand in (node.left, *node.comparators):
            items = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [operand]
            found += [(node.lineno, i.value) for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]
    return found


def test_no_status_or_reason_is_compared_as_text() -> None:
    """ADR 0013: code tests enum members; the text of a member appears in a comparison nowhere in the
    package (the sim is left out: it speaks the Kubernetes API's own verbs and patch operations)."""
    words = {m.value for enum in VOCABULARY for m in enum}
    compared = [
        f"{path.relative_to(PACKAGE)}:{line} compares {text!r}"
        for path in sorted(PACKAGE.rglob("*.py")) if path.relative_to(PACKAGE).parts[0] != "sim"
        for line, text in _compared_texts(ast.parse(path.read_text(encoding="utf-8")))
        if text in words
    ]
    assert compared == []
