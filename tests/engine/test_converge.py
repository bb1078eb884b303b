"""The reference fleet applied from empty converges; a second apply writes nothing."""

from __future__ import annotations

from reconciler.core import health, rollout
from reconciler.core.objects import ObjectKey
from reconciler.core.plans import Action


def test_reference_fleet_converges_from_empty_with_children_provisioned_in_the_same_apply(world):
    report = world.apply(stages=frozenset({"prod-rest"}))
    assert {o.cluster: o.result for o in report.outcomes} == dict.fromkeys(
        ["mgmt", "dev-eu-1", "dev-us-1", "prod-eu-1", "prod-eu-2", "prod-us-1", "stage-eu-1"],
        rollout.Result.SUCCEEDED,
    )
    planned = world.plan()
    assert planned.plan.summary().actions == {"unchanged": len(planned.plan.changes)}


def test_every_desired_object_is_live_healthy_and_in_the_inventory(world):
    world.apply(stages=frozenset({"prod-rest"}))
    planned = world.plan()
    inventory = world.store.inventories.load_all()
    world.sim.tick()
    connections = world.session().connections
    for bundle in planned.render.bundles:
        held = inventory.get(bundle.dest, bundle.id)
        assert held is not None and held.keys == frozenset(bundle.keys)
        client = connections.client(bundle.dest)
        for key in bundle.keys:
            assert health.check(client.get(key)).health in (health.Health.HEALTHY,), str(key)


def test_second_apply_makes_zero_writes(world):
    world.apply(stages=frozenset({"prod-rest"}))
    before = world.writes()
    planned = world.plan()
    report = world.apply(planned)
    assert not planned.plan.has_changes
    assert report.writes == 0
    assert world.writes() == before


def test_child_bundles_wait_for_their_cluster_api_cluster(world):
    planned = world.plan()
    capi = next(c for c in planned.plan.steps if c.key == ObjectKey("cluster.x-k8s.io", "Cluster", "fleet-clusters", "dev-eu-1"))
    child = [c for c in planned.plan.steps if c.dest == "dev-eu-1"]
    assert capi.dest == "mgmt" and capi.action is Action.CREATE
    assert all(c.step > capi.step for c in child)
    assert "dev-eu-1" not in world.sim.server.clusters  # not provisioned before the apply
    world.apply(planned)
    assert "dev-eu-1" in world.sim.server.clusters
