"""``--fleet PATH|GIT_URL[@REF]``: directories, remote URLs with and without refs, scp-like URLs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reconciler.errors import SpecError
from reconciler.source.dirtree import DirTree
from reconciler.source.opening import open_tree, split_ref

if TYPE_CHECKING:
    from tests.source.conftest import GitDaemon, ServedRepo


@pytest.mark.parametrize(
    ("fleet", "expected"),
    [
        ("https://git.example.test/org/fleet.git", ("https://git.example.test/org/fleet.git", None)),
        (
            "https://git.example.test/org/fleet.git@v1.2.0",
            ("https://git.example.test/org/fleet.git", "v1.2.0"),
        ),
        ("https://bot:tok@git.example.test/fleet@main", ("https://bot:tok@git.example.test/fleet", "main")),
        (
            "ssh://git@git.example.test:2222/fleet.git@refs/pull/3/head",
            ("ssh://git@git.example.test:2222/fleet.git", "refs/pull/3/head"),
        ),
        ("git://127.0.0.1:9418/fleet@main", ("git://127.0.0.1:9418/fleet", "main")),
        ("file:///srv/git/fleet.git@main", ("file:///srv/git/fleet.git", "main")),
        ("git@github.com:org/fleet.git", ("git@github.com:org/fleet.git", None)),
        ("git@github.com:org/fleet.git@release", ("git@github.com:org/fleet.git", "release")),
        ("github.com:org/fleet@main", ("github.com:org/fleet", "main")),
    ],
)
def test_split_ref(fleet: str, expected: tuple[str, str | None]) -> None:
    assert split_ref(fleet) == expected


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="neither a directory nor a Git URL"):
        open_tree(str(tmp_path / "nope"))


def test_password_is_redacted_from_the_error() -> None:
    with pytest.raises(SpecError) as caught:
        split_ref("nonsense with spaces https://u:canary-pw@x/y")
    assert "canary-pw" not in str(caught.value)


def test_directory_gives_a_dir_tree(tmp_path: Path) -> None:
    assert isinstance(open_tree(str(tmp_path)), DirTree)


def test_git_url_with_ref_reads_that_commit(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    upstream.work.git("tag", "v1")
    upstream.push("refs/tags/v1")
    upstream.commit_and_push("later", {"fleet.yaml": "kind: Fleet\nlater: true\n"})
    tree = open_tree(f"{git_daemon.url()}@v1", cache_dir=tmp_path / "cache")
    assert tree.read("fleet.yaml") == b"kind: Fleet\n"


def test_git_url_without_ref_reads_the_default_branch(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    sha = upstream.commit_and_push("head", {"fleet.yaml": "kind: Fleet\nhead: true\n"})
    tree = open_tree(git_daemon.url(), cache_dir=tmp_path / "cache")
    assert tree.revision == f"HEAD@sha1:{sha}"


def test_local_repo_dir_with_ref(upstream: ServedRepo, tmp_path: Path) -> None:
    sha = upstream.work.git("rev-parse", "HEAD")
    tree = open_tree(f"{upstream.bare}@main", cache_dir=tmp_path / "cache")
    assert tree.revision == f"main@sha1:{sha}"


def test_cache_dir_comes_from_the_environment(
    upstream: ServedRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STACKFLEET_CACHE_DIR", str(tmp_path / "envcache"))
    open_tree(f"{upstream.bare.as_uri()}@main")
    assert len(list((tmp_path / "envcache" / "git").iterdir())) == 1
