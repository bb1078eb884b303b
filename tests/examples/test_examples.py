"""Every example under examples/ is exercised: it validates, and its README's commands are true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.source.dirtree import DirTree
from reconciler.spec import loader

EXAMPLES = sorted(p for p in (Path(__file__).resolve().parents[2] / "examples").iterdir() if p.is_dir())


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_valid(example: Path) -> None:
    repo = loader.load(DirTree(example))
    assert repo.clusters


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_readme_commands_succeed(example: Path) -> None:
    readme = (example / "README.md").read_text()
    commands = re.findall(r"^stackfleet (.+)$", readme, flags=re.MULTILINE)
    assert commands, f"{example.name}/README.md shows no stackfleet command"
    for command in commands:
        args = command.split()
        result = subprocess.run(
            [sys.executable, "-m", "reconciler.cli", *args],
            cwd=example.parents[1],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"stackfleet {command}\n{result.stdout}\n{result.stderr}"
