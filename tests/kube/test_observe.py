"""Observe: one label-selected LIST per kind; desired objects we do not know yet are looked up only where
they can exist, with one GET or one LIST per kind and namespace."""

from __future__ import annotations

from reconciler.core.objects import ObjectKey, owner_annotation
from reconciler.core.statuses import Reachability
from reconciler.kube import observe


def owned(name: str, *, kind: str = "ConfigMap") -> dict:
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "default"}}
    labels = {"stackfleet.dev/fleet": "f", "stackfleet.dev/stack": "s", "stackfleet.dev/bundle": "b"}
    annotation = owner_annotation(fleet="f", stack="s", bundle="b", key=ObjectKey.of(obj))
    obj["metadata"].update(labels=labels, annotations={"stackfleet.dev/owner": annotation})
    return obj


def test_one_list_per_kind_and_no_get_when_everything_is_known(make_client, sim):
    client = make_client()
    desired = [owned(f"cm-{i}") for i in range(5)] + [owned("svc", kind="Service")]
    desired[-1]["spec"] = {"ports": [{"port": 80}]}
    for obj in desired:
        client.apply(obj)
    before = dict(sim.faults("c0").requests)
    live = observe.observe(client, fleet="f", desired=desired, inventory=[ObjectKey.of(o) for o in desired])
    after = sim.faults("c0").requests
    asked = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    assert asked == {("list", "configmaps"): 1, ("list", "services"): 1}
    assert len(live.objects) == 6


def test_a_single_desired_object_without_our_marks_is_fetched_with_a_get(make_client, sim):
    client = make_client()
    client.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "theirs", "namespace": "default"}})
    live = observe.observe(client, fleet="f", desired=[owned("theirs")], inventory=[])
    assert sim.faults("c0").total("get", "configmaps") == 1
    assert live.get(ObjectKey("", "ConfigMap", "default", "theirs")) is not None


def test_unknown_objects_of_one_kind_and_namespace_are_looked_up_with_one_list_not_a_get_each(make_client, sim):
    client = make_client()
    client.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "theirs", "namespace": "default"}})
    client.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "default"}})
    live = observe.observe(client, fleet="f", desired=[owned("theirs"), *(owned(f"new-{i}") for i in range(9))],
                           inventory=[])
    assert sim.faults("c0").total("get", "configmaps") == 0
    assert sim.faults("c0").total("list", "configmaps") == 2  # ours (label-selected), then the namespace's
    assert live.get(ObjectKey("", "ConfigMap", "default", "theirs")) is not None
    assert live.get(ObjectKey("", "ConfigMap", "default", "new-0")) is None
    assert live.get(ObjectKey("", "ConfigMap", "default", "other")) is None  # not desired: not observed


def test_nothing_is_looked_up_in_a_desired_namespace_that_does_not_exist(make_client, sim):
    client = make_client()
    namespace = owned("fresh", kind="Namespace")
    del namespace["metadata"]["namespace"]
    inside = [owned(f"cm-{i}") for i in range(5)]
    for obj in inside:
        obj["metadata"]["namespace"] = "fresh"
    before = sim.faults("c0").total()
    live = observe.observe(client, fleet="f", desired=[namespace, *inside], inventory=[])
    assert sim.faults("c0").total() - before == 2 + 2 + 1  # discovery, our LIST per kind, the Namespace's GET
    assert sim.faults("c0").total("get", "namespaces") == 1
    assert not live.objects


def test_an_unreadable_cluster_is_unreachable_or_auth_failed(make_client, sim):
    down = make_client("c0", attempts=1)
    sim.faults("c0").down = True
    assert observe.observe(down, fleet="f", desired=[owned("a")], inventory=[]).status is Reachability.UNREACHABLE
    revoked = make_client("c1")
    sim.cluster("c1").token = "revoked"
    assert observe.observe(revoked, fleet="f", desired=[owned("a")], inventory=[]).status is Reachability.AUTH_FAILED
