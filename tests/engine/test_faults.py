"""RELIABILITY.md fault rows for apply, prune, cluster and throttle, on a one-cluster fleet."""

from __future__ import annotations

import pytest

from reconciler.core import plans, rollout
from reconciler.core.objects import ObjectKey
from reconciler.core.plans import Action
from reconciler.core.statuses import Outcome, Reachability
from reconciler.engine import reconcile, serverdryruns
from reconciler.errors import StalePlanError
from reconciler.kube.transports import Request, Response

CMS = "stacks/apps/1.0.0/config/cms.yaml"


def live_config_maps(world) -> set[str]:
    client = world.session().connections.client("c0")
    resource = client.discovery.preferred("ConfigMap")
    return {o["metadata"]["name"] for o in client.list(resource, selector="stackfleet.dev/bundle=config")}


def inventory_names(world) -> set[str]:
    return {e.key.name for b in world.store.inventories.load_all() if b.bundle.bundle == "config" for e in b.entries}


def test_a_dry_run_failure_in_a_wave_writes_nothing_of_it_and_prunes_nothing(small):
    small.edit(CMS, "data: {index: '5'}", "data: {index: '5'}\n---\napiVersion: v1\nkind: ConfigMap\n"
               "metadata: {name: ghost, namespace: nowhere}\n")
    report = small.apply()
    assert report.outcomes[0].result is rollout.Result.FAILED
    assert "nowhere" in report.outcomes[0].detail
    assert live_config_maps(small) == set()
    assert inventory_names(small) == set()
    assert {s.outcome for s in report.outcomes[0].unit.steps if s.change.bundle.bundle == "config"} == {Outcome.FAILED}


class CutAfter:
    """A transport that takes the cluster down once ``k`` real writes went through (a network cut)."""

    def __init__(self, inner, faults, k: int) -> None:
        self.inner, self.faults, self.k, self.writes = inner, faults, k, 0

    def send(self, request: Request, *, timeout: float) -> Response:
        answer = self.inner.send(request, timeout=timeout)
        if request.is_write and answer.status < 300:
            self.writes += 1
            self.faults.down = self.writes >= self.k
        return answer

    def close(self) -> None:
        self.inner.close()


def test_a_cut_after_k_of_n_writes_keeps_old_plus_applied_and_the_rerun_converges_without_duplicates(small):
    planned = small.plan()
    session = small.session(planned.repo)
    client = session.connections.client("c0")
    client.transport = CutAfter(client.transport, small.sim.faults("c0"), k=4)  # the Namespace, then 3 ConfigMaps
    report = reconcile.apply_plan(planned, session=session, options=reconcile.ApplyOptions(approve=True))
    assert report.outcomes[0].result is rollout.Result.UNREACHABLE
    assert inventory_names(small) == {"cm-0", "cm-1", "cm-2"}
    small.sim.faults("c0").down = False
    again = small.plan()
    assert sorted(c.key.name for c in again.plan.steps) == ["cm-3", "cm-4", "cm-5"]
    rerun = small.apply(again)
    assert rerun.writes == 3
    assert live_config_maps(small) == inventory_names(small) == {f"cm-{i}" for i in range(6)}


def test_a_denied_delete_keeps_the_object_in_the_inventory_and_is_retried_next_time(small):
    small.apply()
    small.edit(CMS, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-3}", "---\n# dropped\nmetadata: {name: cm-3}")
    small.fleet.joinpath(CMS).write_text(small.fleet.joinpath(CMS).read_text().split("---\n# dropped")[0])
    small.sim.faults("c0").deny_delete("ConfigMap", "apps", "cm-4")
    report = small.apply(approve=True)
    deletes = {s.change.key.name: s.outcome for s in report.outcomes[0].unit.steps if s.change.action is Action.DELETE}
    assert deletes == {"cm-3": Outcome.DELETED, "cm-4": Outcome.FAILED, "cm-5": Outcome.DELETED}
    assert inventory_names(small) == {"cm-0", "cm-1", "cm-2", "cm-4"}
    small.sim.faults("c0").clear()
    small.apply(approve=True)
    assert live_config_maps(small) == inventory_names(small) == {"cm-0", "cm-1", "cm-2"}


def test_a_429_storm_is_ridden_out(small):
    small.settings = type(small.settings)(qps=1000, burst=1000, attempts=12, backoff=0.001)
    faults = small.sim.faults("c0")
    faults.throttle_rate, faults.retry_after = 0.4, 0
    report = small.apply()
    assert report.outcomes[0].result is rollout.Result.SUCCEEDED
    faults.throttle_rate = 0.0
    assert live_config_maps(small) == {f"cm-{i}" for i in range(6)}
    assert not small.plan().plan.has_changes


def test_a_saved_plan_is_refused_when_a_live_object_moved(small):
    small.apply()
    small.edit(CMS, "data: {index: '0'}", "data: {index: 'zero'}")
    saved = plans.from_json(plans.to_json(small.plan().plan))
    client = small.session().connections.client("c0")
    client.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-0", "namespace": "apps"},
                  "data": {"other": "x"}})
    repo = small.repo()
    with pytest.raises(StalePlanError, match="live object changed"):
        reconcile.apply_saved(saved, repo, session=small.session(repo))


def test_a_saved_plan_is_refused_when_the_rendered_content_moved(small):
    small.apply()
    small.edit(CMS, "data: {index: '0'}", "data: {index: 'zero'}")
    saved = plans.from_json(plans.to_json(small.plan().plan))
    small.edit(CMS, "data: {index: 'zero'}", "data: {index: 'nil'}")
    repo = small.repo()
    with pytest.raises(StalePlanError, match="rendered object differs"):
        reconcile.apply_saved(saved, repo, session=small.session(repo))


def test_a_fresh_saved_plan_applies_exactly_its_steps(small):
    small.apply()
    small.edit(CMS, "data: {index: '0'}", "data: {index: 'zero'}")
    saved = plans.from_json(plans.to_json(small.plan().plan))
    repo = small.repo()
    report = reconcile.apply_saved(saved, repo, session=small.session(repo))
    assert [s.change.key.name for s in report.outcomes[0].unit.steps] == ["cm-0"]
    assert report.writes == 1


def test_an_unreachable_cluster_is_never_pruned(small):
    small.apply()
    small.fleet.joinpath(CMS).write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-0}\ndata: {index: '0'}\n")
    small.sim.faults("c0").down = True
    planned = small.plan()
    assert not any(c.action is Action.DELETE for c in planned.plan.changes)
    report = small.apply(planned)
    assert report.outcomes[0].result is rollout.Result.UNREACHABLE
    small.sim.faults("c0").down = False
    assert live_config_maps(small) == {f"cm-{i}" for i in range(6)}


def test_revoked_credentials_are_auth_failed_after_one_request(small):
    small.apply()
    small.sim.cluster("c0").token = "revoked"
    repo = small.repo()
    session = small.session(repo)
    planned = reconcile.plan_fleet(repo, session=session)
    assert planned.live["c0"].status is Reachability.AUTH_FAILED
    assert sum(session.connections.client("c0").stats.values()) == 1
    report = reconcile.apply_plan(planned, session=session)
    assert report.outcomes[0].result is rollout.Result.AUTH_FAILED


def test_a_crd_and_its_custom_resources_in_one_bundle_wait_for_established(world):
    planned = world.plan()
    crd = next(c for c in planned.plan.steps if c.key.kind == "CustomResourceDefinition" and c.dest == "dev-eu-1")
    cr = next(c for c in planned.plan.steps if c.key.kind == "BackupSchedule" and c.dest == "dev-eu-1")
    assert cr.step > crd.step
    report = world.apply(planned)
    assert {o.cluster: o.result for o in report.outcomes}["dev-eu-1"] is rollout.Result.SUCCEEDED
    client = world.session().connections.client("dev-eu-1")
    assert client.get(ObjectKey("ops.acme.dev", "BackupSchedule", cr.key.namespace, cr.key.name)) is not None


def test_what_each_cluster_answered_is_recorded_in_the_store(small):
    small.apply()
    small.sim.cluster("c0").token = "revoked"
    small.plan()
    status = small.store.clusters.get("c0")
    assert status.status is Reachability.AUTH_FAILED and "401" in status.last_error


def test_deletes_over_the_prune_budget_wait_for_approval(small):
    small.apply()
    small.fleet.joinpath(CMS).write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-0}\ndata: {index: '0'}\n")
    report = small.apply(approve=False)
    assert report.outcomes[0].result is rollout.Result.AWAITING_APPROVAL
    assert live_config_maps(small) == {f"cm-{i}" for i in range(6)}
    assert inventory_names(small) == {f"cm-{i}" for i in range(6)}


def test_a_server_dry_run_confirms_a_real_change_and_reports_a_refusal(small):
    small.apply()
    small.edit(CMS, "data: {index: '0'}", "data: {index: 'zero'}")
    small.edit(CMS, "data: {index: '5'}", "data: {index: '5'}\n---\napiVersion: v1\nkind: ConfigMap\n"
               "metadata: {name: ghost, namespace: nowhere}\n")
    planned = small.plan()
    confirmed = serverdryruns.confirm(planned, session=small.session(planned.repo))
    assert sorted(c.key.name for c in confirmed.planned.plan.steps) == ["cm-0", "ghost"]
    assert len(confirmed.errors) == 1 and "nowhere" in confirmed.errors[0]
    assert live_config_maps(small) == {f"cm-{i}" for i in range(6)}


def test_steps_waiting_on_a_step_that_needs_approval_wait_too(small):
    client = small.session().connections.client("c0")
    client.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}})  # exists, not ours
    report = small.apply(approve=False)
    assert report.outcomes[0].result is rollout.Result.AWAITING_APPROVAL
    steps = {s.change.key.name: s for s in report.outcomes[0].unit.steps}
    assert steps["apps"].outcome is Outcome.SKIPPED and steps["apps"].error.startswith("needs approval")
    assert "needs approval" in steps["cm-0"].error
    assert live_config_maps(small) == set()
    assert small.apply(approve=True).outcomes[0].result is rollout.Result.SUCCEEDED


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: 'nginx:1.27'}]}
"""


def test_an_immutable_field_change_is_a_clear_error_and_nothing_is_deleted_or_recreated(small):
    small.fleet.joinpath("stacks/apps/1.0.0/config/web.yaml").write_text(DEPLOYMENT)
    small.apply()
    client = small.session().connections.client("c0")
    key = ObjectKey("apps", "Deployment", "apps", "web")
    uid = client.get(key)["metadata"]["uid"]
    small.fleet.joinpath("stacks/apps/1.0.0/config/web.yaml").write_text(DEPLOYMENT.replace("app: web", "app: www"))
    small.edit(CMS, "data: {index: '0'}", "data: {index: 'zero'}")
    report = small.apply()
    assert report.outcomes[0].result is rollout.Result.FAILED
    assert "spec.selector: field is immutable" in report.outcomes[0].detail
    assert client.get(key)["metadata"]["uid"] == uid
    assert client.get(ObjectKey("", "ConfigMap", "apps", "cm-0"))["data"] == {"index": "0"}  # same wave: not written


def test_a_field_taken_by_another_manager_is_drift_corrected_only_with_self_heal(small):
    small.apply()
    other = small.sim.dynamic_client("c0").resources.get(api_version="v1", kind="ConfigMap")
    other.patch(name="cm-0", namespace="apps", body={"data": {"index": "by hand"}},
                content_type="application/merge-patch+json", field_manager="kubectl-edit")
    client = small.session().connections.client("c0")
    planned = small.plan()
    assert [(c.key.name, c.drift) for c in planned.plan.steps] == [("cm-0", True)]
    report = small.apply(planned)
    assert report.outcomes[0].result is rollout.Result.UNCHANGED
    assert "selfHeal is off" in report.outcomes[0].unit.steps[0].error
    assert client.get(ObjectKey("", "ConfigMap", "apps", "cm-0"))["data"] == {"index": "by hand"}
    small.edit("stacks/apps/1.0.0/stack.yaml", "manifests: {path: config}", "manifests: {path: config}, selfHeal: true")
    assert small.apply().writes == 1
    assert client.get(ObjectKey("", "ConfigMap", "apps", "cm-0"))["data"] == {"index": "0"}


def test_a_server_dry_run_of_a_cold_plan_skips_what_earlier_steps_create(small):
    planned = small.plan()
    confirmed = serverdryruns.confirm(planned, session=small.session(planned.repo))
    assert confirmed.errors == ()
    assert len(confirmed.planned.plan.steps) == 7
    assert small.writes() == 1  # the Namespace's dry-run (a PATCH); the ConfigMaps wait for it


def test_objects_applied_by_someone_else_with_our_marks_join_the_inventory_and_can_be_pruned(small):
    planned = small.plan()
    client = small.session().connections.client("c0")
    for bundle in planned.render.bundles:  # as `kubectl apply --server-side --field-manager stackfleet` would
        for obj in bundle.objects:
            client.apply(obj)
    small.sim.tick()
    planned = small.plan()
    assert not planned.plan.has_changes and inventory_names(small) == set()
    assert small.apply(planned).writes == 0
    assert inventory_names(small) == {f"cm-{i}" for i in range(6)}
    small.edit(CMS, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-5}", "---\n# dropped\nmetadata: {name: cm-5}")
    small.fleet.joinpath(CMS).write_text(small.fleet.joinpath(CMS).read_text().split("---\n# dropped")[0])
    assert [(c.action, c.key.name) for c in small.plan().plan.steps] == [(Action.DELETE, "cm-5")]
