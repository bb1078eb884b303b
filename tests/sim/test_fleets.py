"""Sim clusters for the reference fleet repo: contexts up front, children via Cluster API or at once."""

from __future__ import annotations

from reconciler.sim import fleets
from reconciler.sim.server import SimServer
from reconciler.source import opening
from reconciler.spec import loader


def reference_layout(fleet_dir) -> fleets.Layout:
    return fleets.layout(loader.load(opening.open_tree(str(fleet_dir))).clusters)


def test_layout_of_the_reference_fleet(fleet_dir):
    plan = reference_layout(fleet_dir)
    assert (plan.contexts, {c[1:3] for c in plan.children}) == (["mgmt"], {("mgmt", "fleet-clusters")})


def test_children_wait_for_cluster_api_by_default(fleet_dir):
    server = SimServer()
    fleets.start(server, reference_layout(fleet_dir))
    assert sorted(server.clusters) == ["mgmt"]
    server.stop()


def test_provision_starts_children_and_writes_their_secrets(fleet_dir):
    server = SimServer()
    plan = reference_layout(fleet_dir)
    fleets.start(server, plan, provision=True)
    mgmt = server.clusters["mgmt"]
    secrets = mgmt.registry.lookup("", "v1", "secrets")
    names = sorted(o["metadata"]["name"] for o in mgmt.objects(secrets, "fleet-clusters"))
    server.stop()
    assert (sorted(server.clusters), names) == (
        sorted(["mgmt", *(c[0] for c in plan.children)]), sorted(c[3] for c in plan.children))
