"""CommitTree reads a commit's files from the object database, and refuses what leaves the repo."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygit2
import pytest

from reconciler.errors import SpecError, UnsafePathError
from reconciler.source.git import CommitTree, Revision
from reconciler.spec.trees import walk_files

if TYPE_CHECKING:
    from tests.source.conftest import WorkRepo


def _tree(work_repo, *, max_file_bytes: int = 1024) -> CommitTree:
    sha = work_repo.git("rev-parse", "HEAD")
    repo = pygit2.Repository(str(work_repo.path))
    return CommitTree(repo, Revision("main", sha), max_file_bytes=max_file_bytes)


@pytest.fixture
def fleet_commit(work_repo: WorkRepo) -> WorkRepo:
    work_repo.write({"fleet.yaml": "kind: Fleet\n", "stacks/web/1.0.0/stack.yaml": "kind: Stack\n"})
    work_repo.write({"clusters/a.yaml": "kind: Cluster\n", "big.yaml": "x" * 5000})
    work_repo.symlink("stacks/web/current", "1.0.0")
    work_repo.symlink("stacks/web/1.0.0/shared.yaml", "../../../fleet.yaml")
    work_repo.commit("fleet")
    return work_repo


def test_read_returns_blob_content(fleet_commit: WorkRepo) -> None:
    assert _tree(fleet_commit).read("clusters/a.yaml") == b"kind: Cluster\n"


def test_revision_is_ref_at_sha(fleet_commit: WorkRepo) -> None:
    sha = fleet_commit.git("rev-parse", "HEAD")
    assert _tree(fleet_commit).revision == f"main@sha1:{sha}"


def test_revision_parses_back() -> None:
    text = "main@sha1:" + "a" * 40
    assert str(Revision.parse(text)) == text


def test_missing_file_is_not_found(fleet_commit: WorkRepo) -> None:
    with pytest.raises(FileNotFoundError):
        _tree(fleet_commit).read("clusters/b.yaml")


def test_list_dir_root_is_sorted(fleet_commit: WorkRepo) -> None:
    assert _tree(fleet_commit).list_dir("") == ["big.yaml", "clusters", "fleet.yaml", "stacks"]


def test_is_dir_and_is_file(fleet_commit: WorkRepo) -> None:
    tree = _tree(fleet_commit)
    assert (tree.is_dir("stacks/web"), tree.is_file("stacks/web"), tree.is_file("fleet.yaml")) == (
        True,
        False,
        True,
    )


def test_symlinked_directory_inside_repo_is_followed(fleet_commit: WorkRepo) -> None:
    assert _tree(fleet_commit).read("stacks/web/current/stack.yaml") == b"kind: Stack\n"


def test_symlink_climbing_inside_repo_is_followed(fleet_commit: WorkRepo) -> None:
    assert _tree(fleet_commit).read("stacks/web/1.0.0/shared.yaml") == b"kind: Fleet\n"


def test_walk_files_sees_every_file(fleet_commit: WorkRepo) -> None:
    assert "stacks/web/current/stack.yaml" in walk_files(_tree(fleet_commit, max_file_bytes=10_000), "")


def test_oversized_blob_is_refused(fleet_commit: WorkRepo) -> None:
    with pytest.raises(SpecError, match="over the limit"):
        _tree(fleet_commit).read("big.yaml")


def test_tree_id_is_the_git_object_id(fleet_commit: WorkRepo) -> None:
    expected = fleet_commit.git("rev-parse", "HEAD:stacks/web/1.0.0")
    assert _tree(fleet_commit).tree_id("stacks/web/1.0.0") == expected


def test_tree_id_of_symlinked_dir_is_its_target(fleet_commit: WorkRepo) -> None:
    tree = _tree(fleet_commit)
    assert tree.tree_id("stacks/web/current") == tree.tree_id("stacks/web/1.0.0")


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("escape.yaml", "../outside.yaml"),
        ("deep/escape.yaml", "../../etc/passwd"),
        ("absolute.yaml", "/etc/passwd"),
    ],
)
def test_symlink_leaving_repo_is_refused(work_repo: WorkRepo, link: str, target: str) -> None:
    work_repo.symlink(link, target)
    work_repo.commit("bad link")
    with pytest.raises(UnsafePathError, match="outside"):
        _tree(work_repo).read(link)


def test_symlink_loop_is_refused(work_repo: WorkRepo) -> None:
    work_repo.symlink("a", "b")
    work_repo.symlink("b", "a")
    work_repo.commit("loop")
    with pytest.raises(UnsafePathError, match="loop"):
        _tree(work_repo).read("a")


def test_dotdot_path_is_refused_before_reading(fleet_commit: WorkRepo) -> None:
    with pytest.raises(UnsafePathError):
        _tree(fleet_commit).read("stacks/../fleet.yaml")


def test_is_file_reports_unsafe_symlink(work_repo: WorkRepo) -> None:
    work_repo.symlink("escape.yaml", "../x")
    work_repo.commit("bad link")
    with pytest.raises(UnsafePathError):
        _tree(work_repo).is_file("escape.yaml")
