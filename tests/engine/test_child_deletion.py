"""Deleting a child cluster from the reference fleet (its clusters/<name>.yaml removed): approval first,
the child's own objects before its Cluster API Cluster, the Cluster gone, then its inventory and records
retired; an unreachable child is abandoned with a note; an unreachable child still in the fleet keeps
its inventory."""

from __future__ import annotations

from typing import Any

from reconciler.core import rollout
from reconciler.core.objects import ObjectKey
from reconciler.core.plans import Action, Plan
from reconciler.core.reasons import Reason

CHILD = "prod-eu-2"
CAPI_CLUSTER = ObjectKey("cluster.x-k8s.io", "Cluster", "fleet-clusters", CHILD)


def mentions(plan: Plan, name: str) -> list[Any]:
    return ([c for c in plan.changes if name in (c.dest, c.bundle.cluster)]
            + [r for r in plan.clusters if r.name == name]
            + [b for b in plan.bundles if name in (b.dest, b.bundle.cluster)])


def held_by(world: Any, name: str) -> list[Any]:
    return [b for b in world.store.inventories.load_all() if name in (b.dest, b.bundle.cluster)]


def converged_without_child(world: Any) -> None:
    world.apply(stages=frozenset({"prod-rest"}))
    (world.fleet / "clusters" / f"{CHILD}.yaml").unlink()


def test_the_plan_deletes_the_childs_objects_first_and_its_cluster_with_approval(world):
    converged_without_child(world)
    planned = world.plan()
    inside = [c for c in planned.plan.steps if c.dest == CHILD]
    capi = next(c for c in planned.plan.steps if c.key == CAPI_CLUSTER)
    assert {c.action for c in inside} == {Action.DELETE} and len(inside) == sum(
        len(b.keys) for b in held_by(world, CHILD) if b.dest == CHILD)
    assert (capi.dest, capi.action, max(c.step for c in inside) < capi.step) == ("mgmt", Action.DELETE, True)
    assert set(capi.after) & {c.step for c in inside}
    assert f"deletes child cluster {CHILD} (Cluster API deprovisions it)" in capi.approval


def test_without_approval_nothing_is_deleted_and_the_inventory_stays(world):
    converged_without_child(world)
    before = sorted((b.dest, str(b.bundle), len(b.keys)) for b in held_by(world, CHILD))
    report = world.apply(approve=False, stages=frozenset({"prod-rest"}))
    assert {o.cluster: o.result for o in report.outcomes}[CHILD] is rollout.Result.AWAITING_APPROVAL
    assert CHILD in world.sim.server.clusters
    assert sorted((b.dest, str(b.bundle), len(b.keys)) for b in held_by(world, CHILD)) == before


def test_deleting_a_child_after_approval_removes_it_everywhere_and_the_next_plan_is_clean(world):
    converged_without_child(world)
    report = world.apply(stages=frozenset({"prod-rest"}))
    assert {o.cluster: o.result for o in report.outcomes}[CHILD] is rollout.Result.SUCCEEDED
    mgmt = world.sim.cluster("mgmt")
    secrets = mgmt.registry.lookup("", "v1", "secrets")
    assert (CHILD in world.sim.server.clusters, world.session().connections.client("mgmt").get(CAPI_CLUSTER),
            mgmt.find(secrets, "fleet-clusters", f"{CHILD}-kubeconfig")) == (False, None, None)
    assert held_by(world, CHILD) == []
    assert CHILD not in [c.name for c in world.store.clusters.all()]
    planned = world.plan()
    assert (mentions(planned.plan, CHILD), planned.plan.has_changes) == ([], False)


def test_an_unreachable_child_that_left_the_fleet_is_abandoned_with_a_note_then_retired(world):
    converged_without_child(world)
    world.sim.faults(CHILD).down = True
    planned = world.plan()
    inside = [c for c in planned.plan.changes if c.dest == CHILD]
    assert {(c.action, c.why) for c in inside} == {(Action.SKIPPED, Reason.ABANDONED)}
    assert all(c.reason.startswith("abandoned with its cluster, which is deleted through Cluster API: cluster "
                                   f"{CHILD} is ") for c in inside)
    world.apply(planned, stages=frozenset({"prod-rest"}))
    assert CHILD not in world.sim.server.clusters and held_by(world, CHILD) == []
    assert mentions(world.plan().plan, CHILD) == []


def test_an_unreachable_cluster_that_still_exists_keeps_its_inventory(world):
    world.apply(stages=frozenset({"prod-rest"}))
    before = sorted((b.dest, str(b.bundle), len(b.keys)) for b in held_by(world, CHILD))
    world.sim.faults(CHILD).down = True
    planned = world.plan()
    assert {c.action for c in planned.plan.changes if c.dest == CHILD} == {Action.SKIPPED}
    world.apply(planned, stages=frozenset({"prod-rest"}))
    assert sorted((b.dest, str(b.bundle), len(b.keys)) for b in held_by(world, CHILD)) == before
    assert CHILD in world.sim.server.clusters


def test_a_child_whose_cluster_is_already_gone_is_retired_by_the_next_apply(world):
    """A run that crashed after the Cluster went, or a Cluster deleted by hand: nothing is left to delete."""
    converged_without_child(world)
    mgmt = world.session().connections.client("mgmt")
    mgmt.delete(CAPI_CLUSTER, uid=mgmt.get(CAPI_CLUSTER)["metadata"]["uid"])
    for _ in range(10):
        world.sim.tick()  # the simulated Cluster API deletes workers, control plane, child, then the finalizer
    assert mgmt.get(CAPI_CLUSTER) is None
    planned = world.plan()
    assert [c for c in planned.plan.steps if CHILD in (c.cluster, c.bundle.cluster)] == []
    world.apply(planned, approve=False, stages=frozenset({"prod-rest"}))
    assert held_by(world, CHILD) == [] and mentions(world.plan().plan, CHILD) == []


def test_dropping_only_a_childs_cluster_layer_warns_that_the_child_stays_in_the_fleet(world):
    world.apply(stages=frozenset({"prod-rest"}))
    stack = world.fleet / "stacks/cluster-base/1.0.0/stack.yaml"  # prod-us-1 pins cluster-base 1.0.0
    text = stack.read_text()
    stack.write_text(text[:text.index("    - name: capi-cluster")] + text[text.index("    - name: baseline"):])
    planned = world.plan()
    capi = next(c for c in planned.plan.steps if c.key.name == "prod-us-1" and c.key.kind == "Cluster")
    assert capi.action is Action.DELETE
    assert ("deletes child cluster prod-us-1 (Cluster API deprovisions it) while prod-us-1 stays in the fleet: its "
            "add-ons cannot be applied afterwards; remove cluster prod-us-1 from the fleet to delete it with its "
            "add-ons first") in capi.approval
