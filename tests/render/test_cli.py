"""``stackfleet render``: formats, filters, exit codes, and ``--revision`` on a real Git repo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from reconciler.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "render"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "T",
    "GIT_AUTHOR_EMAIL": "t@example.test",
    "GIT_COMMITTER_NAME": "T",
    "GIT_COMMITTER_EMAIL": "t@example.test",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["render", *args])
    return result.exit_code, result.stdout, result.stderr


def test_yaml_for_one_cluster_is_the_golden_file():
    code, out, _ = run("--fleet", str(ROOT / "fleet"), "--cluster", "prod-eu-1")
    assert (code, out) == (0, (GOLDEN / "prod-eu-1.yaml").read_text())


def test_json_lists_bundles_with_hashes_and_objects():
    code, out, _ = run(
        "--fleet", str(ROOT / "fleet"), "--cluster", "mgmt", "--bundle", "capi-cluster", "-o", "json"
    )
    body = json.loads(out)
    rows = [
        (b["dest"], b["cluster"], b["bundle"], len(b["objects"]), b["contentHash"][:7])
        for b in body["bundles"]
    ]
    assert (code, rows[0], len(rows), body["failures"]) == (
        0,
        ("mgmt", "dev-eu-1", "capi-cluster", 1, "sha256:"),
        6,
        [],
    )


def test_unknown_cluster_is_a_usage_error():
    code, _, err = run("--fleet", str(ROOT / "fleet"), "--cluster", "nope")
    assert (code, "unknown cluster 'nope'; known: dev-eu-1, dev-us-1, mgmt" in err) == (2, True), err


def test_a_failing_bundle_is_reported_and_the_rest_printed(tmp_path: Path):
    fleet_dir = tmp_path / "fleet"
    shutil.copytree(ROOT / "fleet", fleet_dir)
    apps = fleet_dir / "stacks/platform/1.5.0/apps/apps.yaml"
    apps.write_text(
        apps.read_text()
        + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: ${values.nope}\n"
    )
    code, out, err = run("--fleet", str(fleet_dir), "--cluster", "dev-eu-1")
    printed = {d["metadata"]["name"] for d in yaml.safe_load_all(out)}
    assert (
        code,
        "undefined variable ${values.nope}" in err,
        "platform@1.5.0/app-config" in err,
        "edge-edge-proxy" in printed,
    ) == (
        1,
        True,
        True,
        True,
    )


@pytest.fixture
def git_fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    shutil.copytree(ROOT / "fleet", work)
    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "fleet"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)
    monkeypatch.setenv("STACKFLEET_CACHE_DIR", str(tmp_path / "mirrors"))
    return work


def test_revision_renders_the_commit_not_the_working_tree(git_fleet: Path):
    cluster = git_fleet / "clusters/prod-eu-1.yaml"
    cluster.write_text(cluster.read_text().replace("replicas: 3", "replicas: 7"))
    _, committed, _ = run("--fleet", str(git_fleet), "--revision", "main", "--cluster", "prod-eu-1")
    _, working, _ = run("--fleet", str(git_fleet), "--cluster", "prod-eu-1")
    assert (committed == (GOLDEN / "prod-eu-1.yaml").read_text(), "replicas: 7" in working) == (True, True)


def test_secret_values_are_masked_unless_asked_for(tmp_path: Path):
    fleet_dir = tmp_path / "fleet"
    shutil.copytree(ROOT / "fleet", fleet_dir)
    apps = fleet_dir / "stacks/platform/1.5.0/apps/apps.yaml"
    canary = "canary-4f1d2c"
    apps.write_text(
        apps.read_text()
        + f"---\napiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData: {{token: {canary}}}\n"
    )
    args = ("--fleet", str(fleet_dir), "--cluster", "dev-eu-1", "--bundle", "app-config")
    _, masked_yaml, _ = run(*args)
    _, masked_json, _ = run(*args, "-o", "json")
    _, clear, _ = run(*args, "--show-secrets")
    assert (
        canary in masked_yaml,
        canary in masked_json,
        "<masked sha256:" in masked_yaml,
        canary in clear,
    ) == (
        False,
        False,
        True,
        True,
    )
