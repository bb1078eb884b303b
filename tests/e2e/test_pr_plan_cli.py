"""``stackfleet plan --base main --head BRANCH`` on the reference fleet, applied once with the same state.

The fleet is applied from ``main`` by ``stackfleet apply`` (so the state holds real inventories), then
each test commits a pull request on a branch and plans it against ``main`` with that state.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sim import fleets, testing
from reconciler.source import opening
from reconciler.spec import loader
from tests.e2e.conftest import Fleet, git, make_repo


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory, fleet_dir: Path) -> Iterator[Fleet]:
    workdir = tmp_path_factory.mktemp("prplan")
    repo = make_repo(fleet_dir, workdir / "fleet")
    with testing.running(clusters=[], workdir=workdir, interval=0.01, tls=True) as running:  # kubectl: tokens over TLS only
        fleets.start(running.server, fleets.layout(loader.load(opening.open_tree(str(repo))).clusters))
        running.server.kubeconfig(running.kubeconfig)
        built = Fleet(repo, running, workdir)
        done = built.stackfleet("apply", "--yes", "--approve", "--approve-stage", "prod-rest")
        assert done.returncode == 0, done.stdout + done.stderr
        running.server.kubeconfig(workdir / "children.kubeconfig")  # the children exist now
        yield built


def kubectl(fleet: Fleet, context: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["kubectl", "--kubeconfig", str(fleet.workdir / "children.kubeconfig"), "--context", context, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def pull_request(fleet: Fleet, branch: str, edits: dict[str, str | None]) -> None:
    """Commit ``edits`` (path -> new text, or None to delete) on ``branch`` off ``main``."""
    git(fleet.repo, "checkout", "-q", "-b", branch, "main")
    for relative, content in edits.items():
        path = fleet.repo / relative
        if content is None:
            git(fleet.repo, "rm", "-q", "-r", relative)
        else:
            path.write_text(content)
    git(fleet.repo, "commit", "-q", "-am", branch)
    git(fleet.repo, "checkout", "-q", "main")


def plan_pr(fleet: Fleet, head: str, *, output: str = "json") -> subprocess.CompletedProcess[str]:
    command = ["stackfleet", "plan", "--fleet", str(fleet.repo), "--base", "main", "--head", head,
               "--kubeconfig", str(fleet.running.kubeconfig), "--state", str(fleet.state), "-o", output]
    return subprocess.run(command, capture_output=True, text=True, env=fleet.env, timeout=120)


def planned(fleet: Fleet, head: str) -> dict:
    done = plan_pr(fleet, head)
    assert done.returncode == 2, done.stderr
    return json.loads(done.stdout)


def edited(fleet: Fleet, relative: str, old: str, new: str) -> str:
    text = (fleet.repo / relative).read_text()
    assert old in text
    return text.replace(old, new)


def test_a_pull_request_bumping_one_ring_names_exactly_that_rings_clusters(applied: Fleet) -> None:
    clusters = "clusters/stage-eu-1.yaml"  # ring 1 is stage-eu-1
    text = (applied.repo / clusters).read_text() + "  stacks:\n    - {name: platform, version: 1.5.0}\n"
    pull_request(applied, "ring-1-to-1.5", {clusters: text})
    plan = planned(applied, "ring-1-to-1.5")
    assert plan["clusters"] == ["stage-eu-1"]
    assert {(b["dest"], b["baseVersion"], b["headVersion"]) for b in plan["bundles"]} == {("stage-eu-1", "1.4.0", "1.5.0")}
    assert {c["dest"] for c in plan["changes"]} == {"stage-eu-1"}
    assert any(c["action"] == "update" and c["diff"] for c in plan["changes"])


def test_a_pull_request_touching_one_bundle_mentions_only_that_bundle(applied: Fleet) -> None:
    apps = "stacks/platform/1.4.0/apps/apps.yaml"
    pull_request(applied, "greeting", {apps: edited(applied, apps, "greeting: ${values.hello.message}",
                                                   "greeting: hi ${values.hello.message}")})
    plan = planned(applied, "greeting")
    assert {b["bundle"]["bundle"] for b in plan["bundles"]} == {"app-config"}
    assert {c["bundle"]["bundle"] for c in plan["changes"]} == {"app-config"}
    assert {c["key"]["name"] for c in plan["changes"] if c["action"] == "update"} == {"app-settings"}
    assert plan["clusters"] == ["prod-eu-1", "prod-eu-2", "prod-us-1", "stage-eu-1"]
    stages = {(a["cluster"], a["reason"]) for a in plan["approvals"] if a["hold"] == "stage"}
    assert stages == {("prod-us-1", "rollout stage platform-stable/prod-rest needs approval")}


def test_a_pull_request_deleting_a_bundle_shows_the_deletions_and_their_approval(applied: Fleet) -> None:
    stack = "stacks/platform/1.4.0/stack.yaml"
    without = edited(applied, stack, "\n    - name: namespace-policies\n      layer: addons\n"
                     "      dependsOn: [app-config]\n      kustomize: {path: policies}\n", "\n")
    pull_request(applied, "drop-policies", {stack: without})
    plan = planned(applied, "drop-policies")
    deletes = [c for c in plan["changes"] if c["action"] == "delete"]
    assert deletes and {c["bundle"]["bundle"] for c in deletes} == {"namespace-policies"}
    assert {c["dest"] for c in deletes} == {"prod-eu-1", "prod-eu-2", "prod-us-1", "stage-eu-1"}
    assert all("bundle left the desired state" in c["approval"] for c in deletes)
    held = {a["cluster"] for a in plan["approvals"] if a["hold"] == "step"}
    assert held == {"prod-eu-1", "prod-eu-2", "prod-us-1", "stage-eu-1"}


def test_drift_present_on_base_is_listed_apart(applied: Fleet) -> None:
    patched = kubectl(applied, "prod-eu-2", "-n", "apps", "patch", "configmap", "app-settings", "--type", "merge",
                              "-p", '{"data":{"region":"moved"}}')
    assert patched.returncode == 0, patched.stderr
    try:
        clusters = "clusters/stage-eu-1.yaml"
        text = (applied.repo / clusters).read_text() + "  stacks:\n    - {name: platform, version: 1.5.0}\n"
        pull_request(applied, "ring-1-with-drift", {clusters: text})
        plan = planned(applied, "ring-1-with-drift")
        assert {c["dest"] for c in plan["changes"]} == {"stage-eu-1"}
        drifted = [(c["dest"], c["key"]["name"], c["drift"]) for c in plan["onBase"]]
        assert drifted == [("prod-eu-2", "app-settings", True)]
        shown = plan_pr(applied, "ring-1-with-drift", output="markdown").stdout
        apart = shown.split("**Already so on base**", 1)
        assert "prod-eu-2" in apart[1] and "prod-eu-2" not in apart[0]
    finally:
        kubectl(applied, "prod-eu-2", "-n", "apps", "patch", "configmap", "app-settings", "--type", "merge",
                        "-p", '{"data":{"region":"eu"}}')


def test_no_change_exits_0_and_markdown_has_no_markup_from_values(applied: Fleet) -> None:
    git(applied.repo, "branch", "-f", "same", "main")
    done = plan_pr(applied, "same", output="markdown")
    assert done.returncode == 0, done.stderr
    assert re.search(r"no change to the desired state", done.stdout)


def test_refs_go_in_base_and_head_not_the_url(applied: Fleet) -> None:
    done = subprocess.run(["stackfleet", "plan", "--fleet", f"{applied.repo.as_uri()}@main", "--base", "main",
                           "--head", "x", "--state", str(applied.state)], capture_output=True, text=True,
                          env=applied.env, timeout=60)
    assert done.returncode == 1 and "--base/--head" in done.stderr
