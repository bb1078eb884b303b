"""Targeting: values precedence, destinations, pause and policy (pure, on repos built in tmp_path)."""

from __future__ import annotations

import pytest

from reconciler.core import targeting, values

STACK = """\
apiVersion: stackfleet.dev/v1alpha1
kind: Stack
metadata: {name: app}
spec:
  version: 1.0.0
  values: {tier: stack, stackOnly: true, replicas: 1, nested: {a: stack, b: stack}}
  bundles:
    - {name: cluster-objects, layer: cluster, target: management, manifests: {path: m}}
    - {name: workload, layer: addons, prune: false, healthTimeout: 90s, manifests: {path: m},
       ignore: [{target: {kind: Deployment}, jsonPointers: [/spec/replicas]}]}
"""
STACK_2 = STACK.replace("version: 1.0.0", "version: 1.1.0")
ASSIGNING_FLEET = """\
apiVersion: stackfleet.dev/v1alpha1
kind: Fleet
metadata: {name: acme}
spec:
  managementCluster: mgmt
  defaults:
    values: {tier: fleet, nested: {a: fleet}}
    selfHeal: true
  assignments:
    - name: prod
      selector: {matchLabels: {env: prod}}
      stacks: [{name: app, version: "~1.0.0", values: {tier: assignment, nested: {b: assignment}}}]
"""
PAUSED = """\
apiVersion: stackfleet.dev/v1alpha1
kind: Cluster
metadata: {name: c2, labels: {env: prod}}
spec:
  connection: {context: c2}
  paused: true
  values: {tier: cluster}
"""


@pytest.fixture
def targets(repo_writer) -> list[targeting.Target]:
    files = {
        "fleet.yaml": ASSIGNING_FLEET,
        "clusters/c2.yaml": PAUSED,
        "stacks/app/1.0.0/stack.yaml": STACK,
        "stacks/app/1.1.0/stack.yaml": STACK_2,
        "stacks/app/1.0.0/m/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        "stacks/app/1.1.0/m/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    }
    return targeting.build(repo_writer.load(files))


def _one(targets: list[targeting.Target], cluster: str, bundle: str) -> targeting.Target:
    return next(t for t in targets if t.id.cluster == cluster and t.id.bundle == bundle)


def test_values_precedence_stack_fleet_assignment_cluster(targets):
    assert dict(_one(targets, "c2", "workload").values) == {
        "tier": "cluster",
        "stackOnly": True,
        "replicas": 1,
        "nested": {"a": "fleet", "b": "assignment"},
    }


def test_explicit_cluster_entry_wins_over_the_selector(targets):
    c1 = _one(targets, "c1", "workload")  # c1 asks ^1.0.0 itself; the selector would give ~1.0.0
    assert (c1.version, c1.source, c1.values["tier"], c1.values["replicas"]) == (
        "1.1.0",
        "cluster",
        "fleet",
        3,
    )


def test_management_target_goes_to_the_management_cluster(targets):
    assert [(t.id.cluster, t.dest) for t in targets if t.id.bundle == "cluster-objects"] == [
        ("c1", "mgmt"),
        ("c2", "mgmt"),
    ]


def test_paused_cluster_is_targeted_and_marked(targets):
    assert [(t.id.cluster, t.paused) for t in targets if t.id.bundle == "workload"] == [
        ("c1", False),
        ("c2", True),
    ]


def test_policy_from_bundle_then_fleet_defaults(targets):
    policy = _one(targets, "c1", "workload").policy
    assert (
        policy.prune,
        policy.self_heal,
        policy.health_timeout_seconds,
        policy.ignore[0].kind,
        policy.ignore[0].pointers,
    ) == (
        False,
        True,
        90.0,
        "Deployment",
        ("/spec/replicas",),
    )


def test_targets_are_ordered_by_destination_then_layer(targets):
    assert [(t.dest, t.layer, t.id.cluster, t.id.bundle) for t in targets] == [
        ("c1", "addons", "c1", "workload"),
        ("c2", "addons", "c2", "workload"),
        ("mgmt", "cluster", "c1", "cluster-objects"),
        ("mgmt", "cluster", "c2", "cluster-objects"),
    ]


MERGES = [
    ({"a": 1}, {"a": 2}, {"a": 2}),
    ({"a": {"b": 1, "c": 1}}, {"a": {"c": 2}}, {"a": {"b": 1, "c": 2}}),
    ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
    ({"a": {"b": 1}}, {"a": None}, {"a": None}),
    ({"a": 1}, {"a": {"b": 2}}, {"a": {"b": 2}}),
]


@pytest.mark.parametrize(("low", "high", "merged"), MERGES)
def test_deep_merge(low, high, merged):
    assert values.merge(low, high) == merged


def test_merge_does_not_change_its_inputs():
    low, high = {"a": {"b": [1]}}, {"a": {"c": 2}}
    merged = values.merge(low, high)
    merged["a"]["b"].append(9)
    assert (low, high) == ({"a": {"b": [1]}}, {"a": {"c": 2}})
