"""One failed bundle blocks only its dependents: the cluster's other bundles are still applied."""

from __future__ import annotations

from reconciler.core.statuses import Outcome

CLUSTER = "isolated-1"
STACK = """
apiVersion: stackfleet.dev/v1alpha1
kind: Stack
metadata: {name: apps}
spec:
  version: 1.0.0
  bundles:
    - {name: alpha, layer: addons, manifests: {path: alpha}, healthTimeout: 1s}
    - {name: beta, layer: addons, manifests: {path: beta}}
    - {name: gamma, layer: addons, manifests: {path: gamma}, dependsOn: [alpha]}
"""
LOAD_BALANCER = """apiVersion: v1
kind: Service
metadata: {name: edge}
spec: {type: LoadBalancer, selector: {app: edge}, ports: [{port: 80}]}
"""


def configmap(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{a: '1'}}\n"


def test_a_failed_bundle_skips_its_dependents_and_nothing_else(bench_factory, small_fleet) -> None:
    files = small_fleet(CLUSTER, "")
    files.pop("stacks/apps/1.0.0/config/objects.yaml")
    files.update({
        "stacks/apps/1.0.0/stack.yaml": STACK,
        "stacks/apps/1.0.0/alpha/service.yaml": LOAD_BALANCER + "---\n" + configmap("alpha-late"),
        "stacks/apps/1.0.0/beta/config.yaml": configmap("beta"),
        "stacks/apps/1.0.0/gamma/config.yaml": configmap("gamma"),
    })
    bench = bench_factory(files, [CLUSTER])
    bench.running.controllers.load_balancers = False  # alpha's Service never gets healthy
    [outcome] = bench.apply().outcomes
    done = {(s.change.bundle.bundle, s.change.key.name): s.outcome for s in outcome.unit.steps}
    assert (outcome.result.value, done) == ("failed", {
        ("alpha", "alpha-late"): Outcome.APPLIED,  # ConfigMaps come before Services (kind rank)
        ("alpha", "edge"): Outcome.APPLIED,  # written, then its health gate failed the bundle
        ("beta", "beta"): Outcome.APPLIED,
        ("gamma", "gamma"): Outcome.SKIPPED,
    })
    assert "waiting for a load balancer" in outcome.unit.error
