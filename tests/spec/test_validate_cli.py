"""``stackfleet validate`` as a user runs it: on the reference fleet, and on a copy with planted mistakes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

STACKFLEET = [sys.executable, "-m", "reconciler.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*STACKFLEET, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_reference_fleet_is_valid(fleet_dir: Path) -> None:
    result = run("validate", str(fleet_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid: 7 clusters, 3 stacks (5 versions), 14 bundles, 3 assignments" in result.stdout


def test_three_planted_mistakes_are_all_named_with_file_and_line(fleet_dir: Path, tmp_path: Path) -> None:
    repo = tmp_path / "fleet"
    shutil.copytree(fleet_dir, repo)
    edit(repo / "clusters/prod-us-1.yaml", "version: 1.0.0", "version: 1.0.7")  # unknown stack version
    edit(repo / "stacks/platform/1.4.0/stack.yaml", "dependsOn: [edge-proxy]", "dependsOn: [namespace-policies]")
    edit(repo / "clusters/dev-eu-1.yaml", "  labels:", "  lables:")  # misspelled field

    result = run("validate", "--fleet", str(repo))

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("clusters/prod-us-1.yaml:19 (spec.stacks.0.version)")
        and "no version of stack 'cluster-base' satisfies '1.0.7'" in line
        for line in lines
    ), result.stdout
    assert any(
        line.startswith("stacks/platform/1.4.0/stack.yaml:42 (spec.bundles.2.dependsOn)")
        and "dependency cycle: app-config -> namespace-policies -> app-config" in line
        for line in lines
    ), result.stdout
    assert any(
        line.startswith("clusters/dev-eu-1.yaml:5 (metadata.lables)") and "unknown field 'lables'" in line
        for line in lines
    ), result.stdout
    assert len(lines) == 3, result.stdout


def test_json_output_lists_problems(fleet_dir: Path, tmp_path: Path) -> None:
    repo = tmp_path / "fleet"
    shutil.copytree(fleet_dir, repo)
    edit(repo / "clusters/dev-eu-1.yaml", "  labels:", "  lables:")
    result = run("validate", str(repo), "-o", "json")
    body = json.loads(result.stdout)
    assert result.returncode == 1
    assert body["valid"] is False
    assert body["problems"][0] | {"message": None} == {
        "file": "clusters/dev-eu-1.yaml",
        "line": 5,
        "field": "metadata.lables",
        "rule": "schema",
        "message": None,
    }


def test_default_fleet_is_the_current_directory(fleet_dir: Path) -> None:
    result = run("validate", cwd=fleet_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(".: valid:")


def test_a_path_that_is_not_a_repo_is_an_error(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "missing"))
    assert result.returncode == 1
    assert "missing" in result.stderr


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
