"""The README's two commands stay true: CI runs its test command as written, and every command name and
option the README's command-line section shows exists.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from reconciler.cli.main import COMMANDS


def blocks(repo_root: Path) -> list[str]:
    quick = (repo_root / "README.md").read_text().partition("## Quick start")[2].partition("## Concepts")[0]
    return re.findall(r"```sh\n(.*?)```", quick, flags=re.S)


def test_the_quick_start_has_the_demo_command_and_the_test_command(repo_root: Path):
    demo, tests = blocks(repo_root)
    assert (demo.strip(), tests.strip().endswith("python3 -m pip install -e '.[dev]' && python3 -m pytest -q")) == (
        "python3 -m pip install -e '.[dev]' && stackfleet demo", True)


def test_ci_runs_the_readme_test_command_as_written(repo_root: Path):
    tests = blocks(repo_root)[1].strip()
    apt, _, python = tests.partition(" && ")
    ci = (repo_root / ".ci" / "run").read_text()
    ci_apt = next(line for line in ci.splitlines() if line.startswith("apt-get install"))
    packages = [w for w in shlex.split(apt)[2:] if not w.startswith("-")]
    ci_packages = [w for w in shlex.split(ci_apt.partition(">")[0])[2:] if not w.startswith("-")]
    assert (ci_packages, python in ci.splitlines()) == (packages, True)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_in_the_readme_table(repo_root: Path, name: str):
    assert f"| `stackfleet {name}" in (repo_root / "README.md").read_text()
