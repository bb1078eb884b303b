"""An ignore rule keeps the field out of what we apply: an autoscaler owns the ingress controller's
``spec.replicas``, and an image change must still roll out (without a conflict on replicas)."""

from __future__ import annotations

from reconciler.sim.clusters import Write

CLUSTER = "scaled-1"
IGNORE = ", ignore: [{target: {kind: Deployment}, jsonPointers: [/spec/replicas]}]"


def test_an_ignored_field_owned_by_an_autoscaler_is_left_alone_and_the_image_rolls_out(bench_factory,
                                                                                       charted) -> None:
    bench = bench_factory(charted(CLUSTER, "ingress-webhook", bundle=IGNORE), [CLUSTER])
    bench.apply()
    cluster = bench.running.cluster(CLUSTER)
    deployments = cluster.registry.lookup("apps", "v1", "deployments")

    def autoscale(obj: dict) -> dict:
        obj["spec"]["replicas"] = 5
        return obj

    cluster.patch(deployments, "default", "web-controller", autoscale,
                  Write(manager="horizontal-pod-autoscaler", subresource="scale"))
    values = bench.fleet / "stacks/apps/1.0.0/charts/ingress-webhook/values.yaml"
    values.write_text(values.read_text().replace("controller:v1.11.0", "controller:v1.11.1"))
    [outcome] = bench.apply().outcomes
    live = cluster.get(deployments, "default", "web-controller")
    [ours] = [e for e in live["metadata"]["managedFields"] if e["manager"] == "stackfleet"]
    assert (outcome.result.value, live["spec"]["replicas"], live["spec"]["template"]["spec"]["containers"][0]["image"],
            "f:replicas" in ours["fieldsV1"]["f:spec"]) == (
        "succeeded", 5, "registry.example.dev/ingress/controller:v1.11.1", False)
    assert (bench.plan().plan.has_changes, bench.drift().entries) == (False, ())


def test_a_create_keeps_the_ignored_field(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "ingress-webhook", bundle=IGNORE), [CLUSTER])
    bench.apply()
    cluster = bench.running.cluster(CLUSTER)
    live = cluster.get(cluster.registry.lookup("apps", "v1", "deployments"), "default", "web-controller")
    assert live["spec"]["replicas"] == 2


def test_an_ignored_field_only_we_own_keeps_its_live_value(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "ingress-webhook"), [CLUSTER])
    bench.apply()
    stack = bench.fleet / "stacks/apps/1.0.0/stack.yaml"
    stack.write_text(stack.read_text().replace("releaseName: web}", "releaseName: web}" + IGNORE))
    values = bench.fleet / "stacks/apps/1.0.0/charts/ingress-webhook/values.yaml"
    values.write_text(values.read_text().replace("replicas: 2", "replicas: 3").replace("v1.11.0", "v1.11.1"))
    bench.apply()
    cluster = bench.running.cluster(CLUSTER)
    live = cluster.get(cluster.registry.lookup("apps", "v1", "deployments"), "default", "web-controller")
    assert (live["spec"]["replicas"], live["spec"]["template"]["spec"]["containers"][0]["image"]) == (
        2, "registry.example.dev/ingress/controller:v1.11.1")
