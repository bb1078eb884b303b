"""A force-pushed fleet revision: deletions from it need approval, end to end through ``stackfleet plan``
and ``stackfleet apply`` on a real Git repo (``--fleet PATH@main``) and a sim cluster."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import apply as apply_cli
from reconciler.cli import plan as plan_cli

ONE_LEFT = "---\n".join(
    f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: kept-{i}, namespace: default}}\ndata: {{a: '{i}'}}\n"
    for i in range(4)
)
"""Four ConfigMaps that stay (dropping one of five is within the fleet's prune budget)."""
CONFIG_MAPS = ONE_LEFT + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: dropped, namespace: default}\n"


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.dev",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.dev"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


class Cli:
    def __init__(self, bench, tmp_path: Path) -> None:
        self.bench, self.repo = bench, bench.fleet
        self.common = ["--fleet", f"{self.repo}@main", "--kubeconfig", str(bench.running.kubeconfig),
                       "--state", str(tmp_path / "cli-state.db")]
        git(self.repo, "init", "-q", "-b", "main")
        self.commit("fleet", CONFIG_MAPS)

    def commit(self, message: str, config_maps: str, *, amend: bool = False) -> None:
        (self.repo / "stacks/apps/1.0.0/config/objects.yaml").write_text(config_maps.lstrip())
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", message, *(["--amend"] if amend else []))

    def plan(self) -> dict:
        done = CliRunner().invoke(plan_cli.command, [*self.common, "-o", "json"], catch_exceptions=False)
        return {**json.loads(done.output), "exit": done.exit_code}

    def plan_text(self) -> str:
        return CliRunner().invoke(plan_cli.command, self.common, catch_exceptions=False).output

    def apply(self, *extra: str) -> int:
        done = CliRunner().invoke(apply_cli.command, [*self.common, "--yes", *extra], catch_exceptions=False)
        return done.exit_code


@pytest.fixture
def cli(bench_factory, small_fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("STACKFLEET_CACHE_DIR", str(tmp_path / "cache"))
    return Cli(bench_factory(small_fleet("pushed-1", CONFIG_MAPS), ["pushed-1"]), tmp_path)


def deletions(plan: dict) -> list[dict]:
    return [c for c in plan["changes"] if c["action"] == "delete"]


def test_a_deletion_from_a_force_pushed_revision_needs_approval(cli: Cli) -> None:
    assert cli.apply() == 0
    cli.commit("drop one ConfigMap, rewriting history", ONE_LEFT, amend=True)
    plan = cli.plan()
    [delete] = deletions(plan)
    assert plan["forced"] and "force-pushed" in delete["approval"]


def test_a_deletion_from_a_descendant_revision_needs_no_approval(cli: Cli) -> None:
    assert cli.apply() == 0
    cli.commit("drop one ConfigMap", ONE_LEFT)
    plan = cli.plan()
    [delete] = deletions(plan)
    assert not plan["forced"] and not delete["approval"]


def test_the_force_push_stays_until_an_approved_apply_deletes(cli: Cli) -> None:
    assert cli.apply() == 0
    cli.commit("drop one ConfigMap, rewriting history", ONE_LEFT, amend=True)
    held, still_forced = cli.apply(), cli.plan()["forced"]
    approved, after = cli.apply("--approve"), cli.plan()
    deleted = cli.bench.running.faults("pushed-1").total("delete")
    assert (held, still_forced, approved, after["exit"], after["forced"], deleted) == (2, True, 0, 0, False, 1)


def test_the_plan_view_says_the_revision_was_force_pushed(cli: Cli) -> None:
    assert cli.apply() == 0
    cli.commit("drop one ConfigMap, rewriting history", ONE_LEFT, amend=True)
    headline = cli.plan_text().splitlines()[0]
    assert "force-pushed" in headline and "1 need approval" in headline
