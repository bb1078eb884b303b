"""``stackfleet demo --once`` as a new user runs it: the whole story, a summary, exit code 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

STEPS = ("first rollout", "approve platform-stable/prod-rest", "ring 1 to platform 1.5", "drift")


@pytest.fixture(scope="module")
def demo_run(repo_root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler.cli", "demo", "--once", "--port", "0"],
                          cwd=repo_root, capture_output=True, text=True, timeout=180)


def summary_lines(output: str) -> list[str]:
    return output.partition("summary:\n")[2].splitlines()


def test_the_demo_exits_0(demo_run: subprocess.CompletedProcess[str]):
    assert demo_run.returncode == 0, demo_run.stdout[-3000:] + demo_run.stderr[-3000:]


@pytest.mark.parametrize("step", STEPS)
def test_the_summary_reports_each_step_of_the_story_ok(demo_run: subprocess.CompletedProcess[str], step: str):
    assert any(line.split()[:1] == ["ok"] and f" {step}:" in line for line in summary_lines(demo_run.stdout)), demo_run.stdout


def test_the_version_bump_is_written_to_ring_1_only(demo_run: subprocess.CompletedProcess[str]):
    bump = next(line for line in summary_lines(demo_run.stdout) if "ring 1 to platform 1.5:" in line)
    assert "written to stage-eu-1 (write requests seen by the clusters: stage-eu-1)" in bump


def test_the_demo_says_what_to_open_and_what_to_try(demo_run: subprocess.CompletedProcess[str]):
    said = demo_run.stdout
    assert ("/login" in said, "kubectl --kubeconfig" in said, "git -C" in said) == (True, True, True)


def test_the_demo_outside_a_checkout_still_finds_the_shipped_fleet(tmp_path: Path):
    from reconciler.daemon import worlds

    assert (worlds.find_fleet(tmp_path) / "fleet.yaml").is_file()


def test_the_readme_quick_start_begins_with_the_demo(repo_root: Path):
    readme = (repo_root / "README.md").read_text()
    first_block = readme.partition("## Quick start")[2].partition("```sh\n")[2].partition("```")[0]
    assert first_block == "python3 -m pip install -e '.[dev]' && stackfleet demo\n"
