"""Cluster API lifecycle on the reference fleet: child add-ons wait for their Cluster (Available, current
generation, control plane and workers at the topology's version); version bumps and downgrades."""

from __future__ import annotations

from typing import Any

from reconciler.core import plan_views, rollout
from reconciler.core.objects import ObjectKey
from reconciler.core.plans import Action
from reconciler.core.statuses import Outcome
from reconciler.core.upgrades import VersionChange
from reconciler.engine import apply, fleetrun, gates, reconcile

CHILDREN = ["dev-eu-1", "dev-us-1", "prod-eu-1", "prod-eu-2", "prod-us-1", "stage-eu-1"]


def mgmt_object(world: Any, plural: str, name: str, *, group: str = "cluster.x-k8s.io") -> dict[str, Any]:
    cluster = world.sim.cluster("mgmt")
    found = cluster.find(cluster.registry.lookup(group, "v1beta1", plural), "fleet-clusters", name)
    assert found is not None, f"{plural}/{name}"
    return found


def snapshot(world: Any, child: str) -> dict[str, Any]:
    """What the management cluster reports about ``child`` right now."""
    capi = mgmt_object(world, "clusters", child)
    kcp = mgmt_object(world, "kubeadmcontrolplanes", f"{child}-control-plane",
                      group="controlplane.cluster.x-k8s.io")
    md = mgmt_object(world, "machinedeployments", f"{child}-md-0")
    available = {c["type"]: c["status"] for c in capi["status"]["v1beta2"]["conditions"]}["Available"]
    return {"available": available,
            "observed": capi["status"]["observedGeneration"] == capi["metadata"]["generation"],
            "control plane": kcp["status"]["version"], "workers": md["spec"]["template"]["spec"]["version"],
            "workers up to date": md["status"]["updatedReplicas"] == md["spec"]["replicas"]}


def apply_watching(world: Any, *, approve: bool = True) -> tuple[reconcile.ApplyReport, dict[str, dict[str, Any]]]:
    """Apply, noting per child what the management cluster reported when the child's first step was written."""
    first: dict[str, dict[str, Any]] = {}

    def on_step(result: apply.StepResult) -> None:
        child = result.change.dest
        if child in CHILDREN and result.outcome is Outcome.APPLIED and child not in first:
            first[child] = snapshot(world, child)

    planned = world.plan()
    options = reconcile.ApplyOptions(approve=approve, on_step=on_step, rollout=fleetrun.Options(
        approved=frozenset({"prod-rest"}), pause_limit=1e9, sleep=lambda _: None))
    return reconcile.apply_plan(planned, session=world.session(planned.repo), options=options), first


def test_from_empty_each_childs_addons_start_after_its_cluster_is_available_at_its_generation(world):
    report, first = apply_watching(world)
    assert {o.cluster: o.result for o in report.outcomes} == dict.fromkeys(["mgmt", *CHILDREN],
                                                                             rollout.Result.SUCCEEDED)
    versions = {"prod-us-1": "v1.30.6"}  # pinned to cluster-base 1.0.0; the rest run 1.1.0
    assert first == {child: {"available": "True", "observed": True, "control plane": versions.get(child, "v1.31.2"),
                             "workers": versions.get(child, "v1.31.2"), "workers up to date": True}
                     for child in CHILDREN}


def test_a_version_bump_is_planned_as_such_and_holds_the_addons_until_the_upgrade_is_done(world):
    world.apply(stages=frozenset({"prod-rest"}))
    world.sim.controllers.capi.upgrade_after = 0.3  # each rollout phase (control plane, workers) takes a while
    world.edit("clusters/prod-us-1.yaml", "version: 1.0.0", "version: 1.1.0")
    planned = world.plan()
    moved = [c for c in planned.plan.steps if c.kubernetes is not None]
    assert [(c.dest, c.key.kind, c.kubernetes, c.approval) for c in moved] == [
        ("mgmt", "Cluster", VersionChange("prod-us-1", "v1.30.6", "v1.31.2"), "")]
    assert "Kubernetes v1.30.6 → v1.31.2 on prod-us-1" in plan_views.text(planned.plan)
    report, first = apply_watching(world)
    assert {o.cluster: o.result for o in report.outcomes}["prod-us-1"] is rollout.Result.SUCCEEDED
    assert first == {"prod-us-1": {"available": "True", "observed": True, "control plane": "v1.31.2",
                                   "workers": "v1.31.2", "workers up to date": True}}


def test_a_downgrade_is_refused_unless_approved(world):
    world.apply(stages=frozenset({"prod-rest"}))
    world.edit("clusters/prod-eu-1.yaml", "  values:\n", "  stacks:\n    - {name: cluster-base, version: 1.0.0}\n"
                                                       "  values:\n")
    planned = world.plan()
    downgrade = next(c for c in planned.plan.steps if c.kubernetes is not None)
    assert (downgrade.dest, downgrade.kubernetes, downgrade.approval) == (
        "mgmt", VersionChange("prod-eu-1", "v1.31.2", "v1.30.6"),
        "Kubernetes v1.31.2 → v1.30.6 on prod-eu-1 is a downgrade (Kubernetes does not support downgrading a "
        "control plane)")
    report, _ = apply_watching(world, approve=False)
    outcome = next(o for o in report.outcomes if o.cluster == "prod-eu-1")
    assert outcome.result is rollout.Result.AWAITING_APPROVAL
    assert mgmt_object(world, "clusters", "prod-eu-1")["spec"]["topology"]["version"] == "v1.31.2"
    skipped = [s for s in outcome.unit.steps if s.change.key == downgrade.key]
    assert [(s.outcome, s.error) for s in skipped] == [(Outcome.SKIPPED, f"needs approval: {downgrade.approval}")]


def test_a_skip_of_two_minor_versions_needs_approval(world):
    world.apply(stages=frozenset({"prod-rest"}))
    world.edit("stacks/cluster-base/1.1.0/stack.yaml", "version: v1.31.2", "version: v1.33.0")
    planned = world.plan()
    skips = sorted((c.kubernetes.cluster, c.approval) for c in planned.plan.steps if c.kubernetes is not None)
    assert skips == [(child, f"Kubernetes v1.31.2 → v1.33.0 on {child} skips minor versions (a control plane "
                             "upgrades one minor version at a time)") for child in CHILDREN if child != "prod-us-1"]
    assert all(c.action is Action.UPDATE for c in planned.plan.steps if c.kubernetes is not None)



def test_a_cluster_whose_control_plane_reports_not_ready_is_not_healthy(world):
    world.apply(stages=frozenset({"prod-rest"}))
    world.sim.controllers.stop()  # nothing rewrites the status below
    mgmt = world.sim.cluster("mgmt")
    kcps = mgmt.registry.lookup("controlplane.cluster.x-k8s.io", "v1beta1", "kubeadmcontrolplanes")
    kcp = mgmt.find(kcps, "fleet-clusters", "prod-eu-1-control-plane")
    mgmt.write_status(kcps, kcp, {**kcp["status"], "ready": False}, manager="capi-kubeadm-control-plane")
    client = world.session().connections.client("mgmt")
    key = ObjectKey("cluster.x-k8s.io", "Cluster", "fleet-clusters", "prod-eu-1")
    clock = iter(range(1000))
    gate = gates.wait_healthy(client, {key: client.get(key)}, timeout=3,
                              timing=gates.Timing(clock=lambda: float(next(clock)), sleep=lambda _: None))
    assert (gate.ok, gate.reason) == (False, f"health timeout after 3s: {key} is Progressing (control plane not ready)")
