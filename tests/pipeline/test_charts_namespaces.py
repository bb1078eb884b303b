"""``createNamespace`` (as ``helm --create-namespace``): the ingress chart installs into a namespace nobody
created by hand; the namespace yields to a bundle that renders it and is never pruned."""

from __future__ import annotations

from reconciler.core.plans import Action
from reconciler.core.reasons import Reason

CLUSTER = "fresh-1"


def test_the_release_namespace_is_created_and_then_nothing_is_planned_or_drifted(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "ingress-webhook", namespace="ingress", bundle=", createNamespace: true"),
                          [CLUSTER])
    [outcome] = bench.apply().outcomes
    cluster = bench.running.cluster(CLUSTER)
    namespace = cluster.find(cluster.registry.lookup("", "v1", "namespaces"), "", "ingress")
    assert (outcome.result.value, namespace is not None) == ("succeeded", True)
    assert (bench.plan().plan.has_changes, bench.drift().entries) == (False, ())


def test_without_it_the_chart_cannot_go_into_a_missing_namespace(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "ingress-webhook", namespace="ingress"), [CLUSTER])
    [outcome] = bench.apply().outcomes
    assert outcome.result.value == "failed"


def test_a_created_namespace_is_kept_when_the_bundle_stops_creating_it(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "operator-crds", namespace="monitoring", bundle=", createNamespace: true"),
                          [CLUSTER])
    bench.apply()
    stack = bench.fleet / "stacks/apps/1.0.0/stack.yaml"
    stack.write_text(stack.read_text().replace(", createNamespace: true", ""))
    [kept] = [c for c in bench.plan().plan.changes if c.key.kind == "Namespace"]
    assert (kept.action, kept.why) == (Action.SKIPPED, Reason.KEPT)


def test_a_namespace_another_bundle_renders_is_not_created_twice(bench_factory, charted) -> None:
    files = charted(CLUSTER, "operator-crds", namespace="monitoring", bundle=", createNamespace: true")
    stack = "stacks/apps/1.0.0/stack.yaml"
    files[stack] += "    - {name: base, layer: addons, manifests: {path: base}}\n"
    files["stacks/apps/1.0.0/base/ns.yaml"] = "apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n"
    bench = bench_factory(files, [CLUSTER])
    render = bench.plan().render
    owners = [b.id.bundle for b in render.bundles for o in b.objects if o["kind"] == "Namespace"]
    assert (owners, render.failures) == (["base"], ())
