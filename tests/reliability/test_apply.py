"""RELIABILITY.md, area apply: dry-run first, resumable writes, conflicts and stale plans, CRDs before CRs."""

from __future__ import annotations

import pytest
from kubernetes import client as kube

from reconciler.core import plans, rollout
from reconciler.core.plans import Action
from reconciler.engine import reconcile
from reconciler.errors import StalePlanError
from tests.reliability.conftest import WIDGET_CRD

AREA = "apply"
GHOST = ("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ghost, namespace: '${values.ghost}'}\n"
         "data: {k: v}\n")
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
"""
CRD = WIDGET_CRD + """---
apiVersion: example.dev/v1
kind: Widget
metadata: {name: w1, namespace: apps}
spec: {size: 3}
"""


def outcome(report: reconcile.ApplyReport, cluster: str) -> rollout.Result:
    return next(o.result for o in report.outcomes if o.cluster == cluster)


def live_names(rig, cluster: str, kind: str = "ConfigMap") -> set[str]:
    return {n for (c, k, ns, n) in rig.baseline if (c, k, ns) == (cluster, kind, "apps")}


def test_a_dry_run_failure_writes_nothing_of_its_wave_and_prunes_nothing_there(applied, captured_logs):
    applied.edit("stacks/apps/1.0.0/stack.yaml", "version: 1.0.0\n", "version: 1.0.0\n  values: {ghost: apps}\n")
    applied.write("clusters/c1.yaml", applied.fleet.joinpath("clusters/c1.yaml").read_text()
                  .replace("spec: {", "spec: {values: {ghost: nowhere}, "))
    applied.keep_config_maps(5)
    applied.edit("stacks/apps/1.0.0/config/cms.yaml", "data: {index: '4'}\n", "data: {index: '4'}\n" + GHOST)
    report = applied.apply()
    assert outcome(report, "c1") is rollout.Result.FAILED
    assert {outcome(report, c) for c in ("c0", "c2")} == {rollout.Result.SUCCEEDED}  # I4
    detail = next(o.detail for o in report.outcomes if o.cluster == "c1")
    assert "nowhere" in detail
    applied.check(area=AREA, dropped=applied.config_maps_of(["cm-5"], clusters=["c0", "c2"]),
                  logs_text=captured_logs.text())
    assert live_names(applied, "c1") == {f"cm-{i}" for i in range(6)}  # nothing written, cm-5 not pruned


def test_a_network_cut_after_k_writes_keeps_what_was_applied_and_the_rerun_converges(rig, figures, captured_logs):
    rig.running.faults("c1").down_after_writes(5)
    report = rig.apply()
    assert outcome(report, "c1") is rollout.Result.UNREACHABLE
    assert {outcome(report, c) for c in ("c0", "c2")} == {rollout.Result.SUCCEEDED}
    rig.running.faults("c1").clear()
    held = {e.key.name for b in rig.store.inventories.load_all() if b.dest == "c1" for e in b.entries}
    live = {n for (c, _k, _ns, n), s in rig.live().items() if c == "c1" and s.owned}
    assert held <= live  # the inventory names only what was really applied
    creates_before = rig.running.faults("c1").total("create")
    rig.converge()
    rig.check(area=AREA, logs_text=captured_logs.text())
    owned = {n for (c, _k, _ns, n), s in rig.baseline.items() if c == "c1" and s.owned}
    figures.missing_after_recovery += len({"apps", "app-secret", *(f"cm-{i}" for i in range(6))} - owned)
    assert owned == {"apps", "app-secret", *(f"cm-{i}" for i in range(6))}
    assert rig.running.faults("c1").total("create") - creates_before <= 8 - len(held)


def test_an_immutable_field_change_is_a_clear_error_and_nothing_is_recreated(applied, captured_logs):
    applied.write("stacks/apps/1.0.0/config/web.yaml", DEPLOYMENT)
    applied.converge()
    applied.settle()
    applied.edit("stacks/apps/1.0.0/config/web.yaml", "matchLabels: {app: web}", "matchLabels: {app: web2}")
    applied.edit("stacks/apps/1.0.0/config/web.yaml", "labels: {app: web}", "labels: {app: web2}")
    report = applied.apply()
    assert {o.result for o in report.outcomes} == {rollout.Result.FAILED}
    detail = report.outcomes[0].detail
    assert "web" in detail and "selector" in detail and "immutable" in detail.lower(), detail
    assert applied.running.faults("c0").total("delete", "deployments") == 0
    applied.check(area=AREA, logs_text=captured_logs.text())


def test_a_field_changed_by_another_manager_is_drift_healed_only_where_policy_says(applied, captured_logs):
    applied.edit("stacks/apps/1.0.0/stack.yaml", "{name: config, manifests: {path: config}, ",
                 "{name: config, selfHeal: true, manifests: {path: config}, ")
    applied.converge()
    applied.settle()
    for cluster in ("c0", "c2"):
        core = kube.CoreV1Api(applied.running.api_client(cluster))
        core.patch_namespaced_config_map("cm-0", "apps", {"data": {"index": "changed"}}, field_manager="intruder")
        core.patch_namespaced_secret("app-secret", "apps", {"stringData": {"note": "other"}}, field_manager="intruder")
    applied.settle()
    found = applied.scan_drift()
    drifted = sorted((e.dest, e.key.name) for e in found.entries)
    assert drifted == [("c0", "app-secret"), ("c0", "cm-0"), ("c2", "app-secret"), ("c2", "cm-0")]
    applied.heal(found)
    applied.check(area=AREA, logs_text=captured_logs.text())
    healed = {(c, n): s for (c, _k, _ns, n), s in applied.baseline.items()}
    core = kube.CoreV1Api(applied.running.api_client("c0"))
    assert core.read_namespaced_config_map("cm-0", "apps").data == {"index": "0"}
    assert core.read_namespaced_secret("app-secret", "apps").data["note"] != "other"  # base64 of "other" differs
    assert ("c1", "cm-0") in healed


def test_a_second_bundle_claiming_an_object_fails_naming_the_owner(applied, captured_logs):
    applied.edit("stacks/apps/1.0.0/stack.yaml", "  - {name: secrets,",
                 "  - {name: claimer, manifests: {path: claimer}, layer: addons, namespace: apps}\n  - {name: secrets,")
    applied.write("stacks/apps/1.0.0/claimer/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-0}\n"
                  "data: {index: stolen}\n")
    planned = applied.plan()
    clashes = [f.error for f in planned.render.failures]
    assert len(clashes) == 3 and all("claimer" in e and "config" in e and "cm-0" in e for e in clashes)
    claims = [c for c in planned.plan.changes if c.bundle.bundle == "claimer" and c.key.name == "cm-0"]
    assert {(c.action, c.reason) for c in claims} == {(Action.CONFLICT, "owned by rely/apps/config")}
    applied.apply(planned)
    applied.check(area=AREA, logs_text=captured_logs.text())
    core = kube.CoreV1Api(applied.running.api_client("c0"))
    assert core.read_namespaced_config_map("cm-0", "apps").data == {"index": "0"}


def test_a_saved_plan_is_refused_once_a_live_object_or_the_fleet_moved(applied, figures, captured_logs):
    applied.keep_config_maps(5)
    saved = plans.from_json(plans.to_json(applied.plan().plan))
    core = kube.CoreV1Api(applied.running.api_client("c2"))
    core.patch_namespaced_config_map("cm-5", "apps", {"metadata": {"labels": {"touched": "yes"}}})
    applied.settle()
    for move in ("live", "git"):
        if move == "git":
            applied.edit("stacks/apps/1.0.0/config/cms.yaml", "data: {index: '1'}", "data: {index: 'one'}")
        figures.stale_plans_tried += 1
        with pytest.raises(StalePlanError) as refused:
            reconcile.apply_saved(saved, applied.repo(), session=applied.session())
            figures.stale_plans_applied += 1
        applied.error(refused.value, names=["c2", "cm-5"] if move == "live" else [])
        applied.check(area=AREA, logs_text=captured_logs.text())


def test_custom_resources_wait_for_their_crd_in_the_same_bundle(applied, captured_logs):
    applied.write("stacks/apps/1.0.0/config/widgets.yaml", CRD)
    report = applied.converge()
    assert {o.result for o in report.outcomes} == {rollout.Result.SUCCEEDED}
    steps = [s for o in report.outcomes if o.cluster == "c0" for s in o.unit.steps]
    order = [s.change.key.kind for s in steps if s.change.action is Action.CREATE]
    assert order.index("CustomResourceDefinition") < order.index("Widget")
    applied.check(area=AREA, logs_text=captured_logs.text())
