"""The loader reads a fleet repo straight from a Git commit, with no checkout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pygit2
import pytest

from reconciler.errors import ValidationFailed
from reconciler.source.git import CommitTree, Revision
from reconciler.spec import loader


def git(*args: str, cwd: Path) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout.strip()


@pytest.fixture
def fleet_repo(fleet_dir: Path, tmp_path: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(fleet_dir, work)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "fleet", cwd=work)
    return work


def tree_at(work: Path, ref: str = "HEAD") -> CommitTree:
    sha = git("rev-parse", ref, cwd=work)
    return CommitTree(pygit2.Repository(str(work / ".git")), Revision(ref="main", sha=sha))


def test_reference_fleet_loads_from_a_commit(fleet_repo: Path) -> None:
    repo = loader.load(tree_at(fleet_repo))
    assert repo.summary() == "7 clusters, 3 stacks (5 versions), 14 bundles, 3 assignments"
    assert repo.revision.startswith("main@sha1:")


def test_the_commit_not_the_work_tree_is_read(fleet_repo: Path) -> None:
    before = tree_at(fleet_repo)
    (fleet_repo / "clusters" / "dev-eu-1.yaml").write_text("kind: [broken\n")
    assert loader.load(before).clusters["dev-eu-1"].model.metadata.labels["ring"] == "0"


def test_problems_in_a_commit_name_file_and_line(fleet_repo: Path) -> None:
    path = fleet_repo / "clusters" / "dev-eu-1.yaml"
    path.write_text(path.read_text().replace("  labels:", "  lables:"))
    git("commit", "-q", "-am", "typo", cwd=fleet_repo)
    with pytest.raises(ValidationFailed) as failed:
        loader.load(tree_at(fleet_repo))
    assert [str(p) for p in failed.value.problems] == [
        "clusters/dev-eu-1.yaml:5 (metadata.lables): unknown field 'lables'"
    ]


def test_symlink_out_of_the_repo_in_a_commit_is_refused(fleet_repo: Path) -> None:
    (fleet_repo / "clusters" / "leak.yaml").symlink_to("../../../../etc/passwd")
    git("add", "-A", cwd=fleet_repo)
    git("commit", "-q", "-m", "leak", cwd=fleet_repo)
    with pytest.raises(ValidationFailed) as failed:
        loader.load(tree_at(fleet_repo))
    assert [p.rule for p in failed.value.problems] == ["unsafe-path"]
    assert "root:" not in str(failed.value)
