"""``stackfleet validate <git-url>@<ref>`` validates the reference fleet served by git daemon."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.source.conftest import GitDaemon, ServedRepo


@pytest.fixture
def served_fleet(upstream: ServedRepo, fleet_dir: Path) -> ServedRepo:
    upstream.work.git("rm", "-r", "-q", ".")
    shutil.copytree(fleet_dir, upstream.work.path, dirs_exist_ok=True)
    upstream.commit_and_push("reference fleet")
    return upstream


def _validate(target: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STACKFLEET_CACHE_DIR": str(cache)}
    return subprocess.run(
        ["stackfleet", "validate", target], env=env, capture_output=True, text=True, timeout=120
    )


def test_validate_reference_fleet_from_git(
    served_fleet: ServedRepo, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    done = _validate(f"git://127.0.0.1:{git_daemon.port}/fleet@main", tmp_path)
    assert (done.returncode, "valid:" in done.stdout) == (0, True), done.stderr


def test_validate_broken_branch_names_the_file(
    served_fleet: ServedRepo, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    served_fleet.work.git("checkout", "-q", "-b", "broken")
    served_fleet.work.commit("break a cluster", {"clusters/dev-eu-1.yaml": "apiVersion: [unclosed\n"})
    served_fleet.push("broken")
    done = _validate(f"git://127.0.0.1:{git_daemon.port}/fleet@broken", tmp_path)
    assert (done.returncode, "clusters/dev-eu-1.yaml:2: malformed YAML" in done.stdout) == (1, True)


def test_validate_unknown_ref_is_an_error(
    served_fleet: ServedRepo, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    done = _validate(f"git://127.0.0.1:{git_daemon.port}/fleet@no-such-branch", tmp_path)
    assert (done.returncode, "no branch or tag 'no-such-branch'" in done.stderr) == (1, True)
