"""A metrics server chart registering an aggregated API (tests/data/charts/metrics-apiservice): the
sim reports the APIService Available, defaults its service port and injects its CA as another manager;
none of that is a change or drift."""

from __future__ import annotations

CLUSTER = "metrics-1"


def test_the_apiservice_is_available_with_an_injected_ca_and_nothing_drifts(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "metrics-apiservice", namespace="monitoring",
                                  bundle=", createNamespace: true"), [CLUSTER])
    [outcome] = bench.apply().outcomes
    bench.running.tick()
    cluster = bench.running.cluster(CLUSTER)
    service = cluster.get(cluster.registry.lookup("apiregistration.k8s.io", "v1", "apiservices"), "",
                          "v1beta1.metrics.k8s.io")
    conditions = {c["type"]: (c["status"], c["reason"]) for c in service["status"]["conditions"]}
    owners = sorted(e["manager"] for e in service["metadata"]["managedFields"])
    assert (outcome.result.value, conditions, service["spec"]["service"]["port"], bool(service["spec"]["caBundle"]),
            owners) == ("succeeded", {"Available": ("True", "Passed")}, 443, True,
                        ["cainjector", "kube-controller-manager", "stackfleet"])
    assert (bench.plan().plan.has_changes, bench.drift().entries) == (False, ())


def test_create_namespace_leaves_an_existing_namespace_alone(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "metrics-apiservice", bundle=", createNamespace: true"), [CLUSTER])
    [kept] = [c for c in bench.plan().plan.changes if c.key.kind == "Namespace"]  # "default" is there already
    assert (kept.action.value, kept.why.value if kept.why else "") == ("unchanged", "kept")
