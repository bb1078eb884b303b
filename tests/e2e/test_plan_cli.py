"""``stackfleet plan`` against the reference fleet applied by real ``kubectl apply --server-side``."""

from __future__ import annotations

import json


def steps(plan: dict) -> list[tuple[str, str, str]]:
    """(action, cluster, object) of every actionable change."""
    return sorted((c["action"], c["dest"], f'{c["key"]["kind"]}/{c["key"]["namespace"]}/{c["key"]["name"]}')
                  for c in plan["changes"] if c["step"] is not None)


def test_the_kubectl_applied_fleet_plans_no_changes(kubectl_applied):
    done = kubectl_applied.stackfleet("plan")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no changes" in done.stdout


def test_an_object_edited_with_kubectl_is_exactly_the_one_change(kubectl_applied):
    fleet = kubectl_applied
    live = fleet.kubectl("prod-eu-1", "get", "configmap", "-n", "apps", "-o", "name")
    name = sorted(live.stdout.split())[0].split("/", 1)[1]
    original = json.loads(fleet.kubectl("prod-eu-1", "get", "configmap", "-n", "apps", name, "-o", "json").stdout)
    key = sorted(original["data"])[0]
    meta = original["metadata"]
    restore = {**original, "metadata": {k: meta[k] for k in ("name", "namespace", "labels", "annotations")}}
    edited = fleet.kubectl("prod-eu-1", "patch", "configmap", "-n", "apps", name, "--type", "merge",
                           "-p", json.dumps({"data": {key: "edited by hand"}}))
    assert edited.returncode == 0, edited.stderr
    try:
        code, plan = fleet.plan_json()
        assert code == 2
        assert steps(plan) == [("update", "prod-eu-1", f"ConfigMap/apps/{name}")]
        assert "edited by hand" in next(c["diff"] for c in plan["changes"] if c["step"] is not None)
    finally:
        restored = fleet.kubectl("prod-eu-1", "apply", "--server-side", "--field-manager", "stackfleet",
                                 "--force-conflicts", "-f", "-", stdin=json.dumps(restore))
        assert restored.returncode == 0, restored.stderr


def test_a_commit_bumping_a_stack_for_one_ring_plans_exactly_that_rings_objects(kubectl_applied):
    fleet = kubectl_applied
    fleet.commit_on_branch("bump-ring-1", "clusters/stage-eu-1.yaml",
                           append="  stacks:\n    - {name: platform, version: 1.5.0}\n")
    code, plan = fleet.plan_json(ref="bump-ring-1")
    assert code == 2
    touched = {cluster for _, cluster, _ in steps(plan)}
    assert touched == {"stage-eu-1"}
    bundles = {c["bundle"]["stack"] for c in plan["changes"] if c["step"] is not None}
    assert bundles == {"platform"}


def test_markdown_output_has_a_collapsible_section_per_changed_cluster(kubectl_applied):
    fleet = kubectl_applied
    fleet.commit_on_branch("bump-for-markdown", "clusters/stage-eu-1.yaml",
                           append="  stacks:\n    - {name: platform, version: 1.5.0}\n")
    done = fleet.stackfleet("plan", "-o", "markdown", ref="bump-for-markdown")
    assert done.returncode == 2
    assert "<details>" in done.stdout and "stage-eu-1" in done.stdout
    assert "prod-eu-1" not in done.stdout.split("<details>", 1)[1]


def test_an_unknown_cluster_is_a_usage_error(kubectl_applied):
    done = kubectl_applied.stackfleet("plan", "--cluster", "nope")
    assert done.returncode == 1
    assert "unknown cluster" in done.stderr
