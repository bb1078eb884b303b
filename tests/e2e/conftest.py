"""End-to-end fixtures: the reference fleet in a Git repo, sim clusters, real ``kubectl`` and the
``stackfleet`` CLI as subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from reconciler.render import fleet as fleet_render
from reconciler.sim import fleets, testing
from reconciler.source import opening
from reconciler.spec import loader


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.dev",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.dev"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


class Fleet:
    """A Git repo of the reference fleet (branch ``main``), the sim serving it and the CLI to drive it."""

    def __init__(self, repo: Path, running: testing.RunningSim, workdir: Path) -> None:
        self.repo, self.running, self.workdir = repo, running, workdir
        self.state = workdir / "state.db"
        self.env = {**os.environ, "STACKFLEET_CACHE_DIR": str(workdir / "cache"), "NO_COLOR": "1"}

    def stackfleet(self, *args: str, ref: str = "main") -> subprocess.CompletedProcess[str]:
        command = ["stackfleet", *args, "--fleet", f"{self.repo}@{ref}", "--kubeconfig", str(self.running.kubeconfig),
                   "--state", str(self.state)]
        return subprocess.run(command, capture_output=True, text=True, env=self.env, timeout=120)

    def kubectl(self, context: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        command = ["kubectl", "--kubeconfig", str(self.running.kubeconfig), "--context", context, *args]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60)

    def plan_json(self, ref: str = "main") -> tuple[int, dict]:
        done = self.stackfleet("plan", "-o", "json", ref=ref)
        return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}

    def commit_on_branch(self, branch: str, relative: str, *, append: str) -> None:
        """Commit ``append`` added to ``relative`` on a new branch (``main`` stays where it is)."""
        git(self.repo, "checkout", "-q", "-b", branch)
        with (self.repo / relative).open("a") as handle:
            handle.write(append)
        git(self.repo, "commit", "-q", "-am", f"{relative}: {append.strip()}")
        git(self.repo, "checkout", "-q", "main")

    def writes(self) -> int:
        return sum(c.faults.total(verb) for c in self.running.server.clusters.values()
                   for verb in ("create", "update", "patch", "delete"))


def make_repo(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    git(target, "init", "-q", "-b", "main")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "reference fleet")
    return target


def apply_with_kubectl(built: Fleet) -> None:
    """Render the fleet and pipe each destination's objects to ``kubectl apply --server-side``."""
    repo = loader.load(opening.open_tree(str(built.repo)))
    rendered = fleet_render.render(repo)
    by_dest: dict[str, list[dict]] = {}
    for bundle in rendered.bundles:
        by_dest.setdefault(bundle.dest, []).extend(bundle.objects)
    for dest in sorted(by_dest, key=lambda d: d != "mgmt"):
        stream = yaml.safe_dump_all(by_dest[dest], sort_keys=False)
        for _ in range(3):  # custom resources are refused until their CRD is established
            done = built.kubectl(dest, "apply", "--server-side", "--field-manager", "stackfleet",
                                 "--force-conflicts", "-f", "-", stdin=stream)
            if done.returncode == 0:
                break
            built.running.tick()
        assert done.returncode == 0, done.stderr


@pytest.fixture
def bare(tmp_path: Path, fleet_dir: Path) -> Iterator[Fleet]:
    """The reference fleet repo and its sim clusters, nothing applied (children provisioned by the apply)."""
    repo = make_repo(fleet_dir, tmp_path / "fleet")
    with testing.running(clusters=[], workdir=tmp_path, interval=0.01) as running:
        fleets.start(running.server, fleets.layout(loader.load(opening.open_tree(str(repo))).clusters))
        running.server.kubeconfig(running.kubeconfig)
        yield Fleet(repo, running, tmp_path)


@pytest.fixture(scope="module")
def kubectl_applied(tmp_path_factory: pytest.TempPathFactory, fleet_dir: Path) -> Iterator[Fleet]:
    """The reference fleet applied by real kubectl (children provisioned up front)."""
    workdir = tmp_path_factory.mktemp("e2e")
    repo = make_repo(fleet_dir, workdir / "fleet")
    with testing.running(clusters=[], workdir=workdir, interval=0.01, tls=True) as running:  # kubectl sends tokens only over TLS
        fleets.start(running.server, fleets.layout(loader.load(opening.open_tree(str(repo))).clusters), provision=True)
        running.server.kubeconfig(running.kubeconfig)
        built = Fleet(repo, running, workdir)
        apply_with_kubectl(built)
        running.tick()
        yield built
