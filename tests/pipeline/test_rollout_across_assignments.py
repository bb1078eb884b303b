"""ADR 0010 on the reference fleet: each assignment's rollout gates only its own bundles. A first apply
from empty provisions everything whose rollout has no approval gate (a first install is not held by
pauses) and holds prod-rest's platform bundles for approval; later changes wait for pauses too."""

from __future__ import annotations

from reconciler.core.rollout import Result

BUMP = ('{name: platform, version: "~1.4.0"}', '{name: platform, version: "~1.5.0"}')


def results_of(report) -> dict[tuple[str, str], Result]:
    """(cluster, rollout group) -> result."""
    return {(o.cluster, o.stage.split("/")[0]): o.result for o in report.outcomes}


def platform_bundles(bench, cluster: str) -> list[str]:
    held = bench.store.inventories.load_all()
    return sorted(b.bundle.bundle for b in held if b.bundle.cluster == cluster and b.bundle.stack == "platform")


def edit(bench, relative: str, old: str, new: str) -> None:
    path = bench.fleet / relative
    path.write_text(path.read_text().replace(old, new, 1))


def test_a_first_apply_holds_only_prod_rests_platform_for_approval(reference) -> None:
    results = results_of(reference.apply(approve=True))
    held = {unit for unit, result in results.items() if result is not Result.SUCCEEDED}
    assert held == {("prod-us-1", "platform-stable")} and results[held.pop()] is Result.AWAITING_APPROVAL
    assert (platform_bundles(reference, "prod-us-1"), len(platform_bundles(reference, "prod-eu-2"))) == ([], 4)


def test_prod_rests_cluster_base_is_provisioned_while_its_platform_waits(reference) -> None:
    reference.apply(approve=True)
    held = reference.store.inventories.load_all()
    stacks = {b.bundle.stack for b in held if b.bundle.cluster == "prod-us-1" and b.entries}
    assert stacks == {"cluster-base"}


def test_approving_prod_rest_installs_its_platform(reference) -> None:
    reference.apply(approve=True)
    results = results_of(reference.apply(approve=True, stages=frozenset({"platform-stable/prod-rest"})))
    assert results[("prod-us-1", "platform-stable")] is Result.SUCCEEDED
    assert len(platform_bundles(reference, "prod-us-1")) == 4


def test_a_change_to_running_clusters_waits_for_the_pause(reference) -> None:
    reference.apply(approve=True, stages=frozenset({"prod-rest"}))
    edit(reference, "fleet.yaml", *BUMP)
    results = results_of(reference.apply(approve=True))
    assert results[("stage-eu-1", "platform-stable")] is Result.SUCCEEDED
    assert results[("prod-eu-1", "platform-stable")] is results[("prod-eu-2", "platform-stable")] is Result.WAITING


def test_one_cluster_changed_by_two_assignments_honours_the_gated_ones_stage(reference) -> None:
    reference.apply(approve=True, stages=frozenset({"prod-rest"}))
    edit(reference, "fleet.yaml", *BUMP)
    edit(reference, "stacks/cluster-base/1.1.0/baseline/rbac.yaml", "verbs: [get, list, watch]", "verbs: [get, list]")
    results = results_of(reference.apply(approve=True))
    assert (results[("prod-eu-1", "cluster-base")], results[("prod-eu-1", "platform-stable")]) == (
        Result.SUCCEEDED, Result.WAITING)


def test_after_the_approval_nothing_is_left_to_do(reference) -> None:
    reference.apply(approve=True)
    reference.apply(approve=True, stages=frozenset({"platform-stable/prod-rest"}))
    left = [f"{c.dest} {c.action.value} {c.key}: {c.approval}" for c in reference.plan().plan.steps]
    assert left == []
