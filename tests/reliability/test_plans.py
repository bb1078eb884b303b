"""Issue 17 item 1: a saved plan is authenticated, and every step is re-checked at apply time.

An attacker edits a plan file to delete objects we do not own, giving the live uid and
resourceVersion so the stale check passes. The edited file is refused by its MAC; the same steps in a
plan carrying a valid MAC (a stolen key, or a planner bug) are refused by the re-check against the
live marks and the inventory. Nothing of it is deleted (I1), nothing owned goes (I2)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from kubernetes import client as kube

from reconciler.core import plans, signatures
from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.core.plans import Action, Change
from reconciler.engine import reconcile
from reconciler.errors import RefusedStepError, TamperedPlanError

AREA = "plans"


def delete_step(rig, *, cluster: str, namespace: str, name: str, number: int) -> Change:
    """A delete step for ConfigMap namespace/name on ``cluster``, with its live uid and resourceVersion."""
    live = kube.CoreV1Api(rig.running.api_client(cluster)).read_namespaced_config_map(name, namespace)
    return Change(action=Action.DELETE, dest=cluster, bundle=BundleId(cluster, "apps", "config"),
                  key=ObjectKey("", "ConfigMap", namespace, name), step=number, live_uid=live.metadata.uid,
                  live_resource_version=live.metadata.resource_version)


def with_steps(plan: plans.Plan, *extra: Change) -> plans.Plan:
    return dataclasses.replace(plan, changes=(*plan.changes, *extra))


def attacks(rig) -> dict[str, Change]:
    return {
        "bystander": delete_step(rig, cluster="c0", namespace="theirs", name="bystander", number=101),
        "unowned object": delete_step(rig, cluster="c0", namespace="apps", name="cm-2", number=102),
        "owned object still declared": delete_step(rig, cluster="c1", namespace="apps", name="cm-1", number=103),
    }


def disown(rig, *, cluster: str, name: str) -> None:
    """Someone else takes ConfigMap apps/name: our marks removed (it stays in our inventory)."""
    core = kube.CoreV1Api(rig.running.api_client(cluster))
    marks = {"labels": {k: None for k in ("stackfleet.dev/fleet", "stackfleet.dev/stack", "stackfleet.dev/bundle")},
             "annotations": {"stackfleet.dev/owner": None}}
    core.patch_namespaced_config_map(name, "apps", {"metadata": marks})


def test_an_edited_plan_file_is_refused_by_its_mac(applied, figures, captured_logs):
    applied.keep_config_maps(5)
    key = applied.store.keys.plan_key()
    signed = signatures.to_json(applied.plan().plan, key=key)
    assert signatures.from_json(signed, key=key).steps  # the untouched file is accepted
    document = json.loads(signed)
    edits = {
        "delete added": {**document, "changes": [*document["changes"],
                                                 attacks(applied)["bystander"].to_dict()]},
        "mac removed": {k: v for k, v in document.items() if k != "mac"},
        "other store's key": json.loads(signatures.to_json(applied.plan().plan, key=b"k" * 32)),
    }
    for name, edited in edits.items():
        figures.tampered_plans_tried += 1
        with pytest.raises(TamperedPlanError) as refused:
            saved = signatures.from_json(json.dumps(edited), key=key)
            reconcile.apply_saved(saved, applied.repo(), session=applied.session())
            figures.tampered_plans_applied += 1
        applied.error(refused.value, names=[])
        assert "MAC" in str(refused.value), name
    applied.check(area=AREA, logs_text=captured_logs.text())


@pytest.mark.parametrize("attack", ["unowned object", "owned object still declared"])
def test_a_step_the_marks_or_the_inventory_do_not_allow_is_refused_even_with_a_valid_mac(
        applied, figures, captured_logs, attack):
    disown(applied, cluster="c0", name="cm-2")
    applied.settle()
    key = applied.store.keys.plan_key()
    step = attacks(applied)[attack]
    forged = signatures.to_json(with_steps(applied.plan().plan, step), key=key)
    writes = applied.writes()
    figures.tampered_plans_tried += 1
    with pytest.raises(RefusedStepError) as refused:
        reconcile.apply_saved(signatures.from_json(forged, key=key), applied.repo(), session=applied.session())
        figures.tampered_plans_applied += 1
    applied.error(refused.value, names=[step.dest, str(step.key), f"step {step.step}"])
    assert applied.writes() == writes
    applied.check(area=AREA, logs_text=captured_logs.text())


def test_an_honest_saved_plan_still_applies(applied, captured_logs):
    applied.keep_config_maps(5)
    key = applied.store.keys.plan_key()
    saved = signatures.from_json(signatures.to_json(applied.plan().plan, key=key), key=key)
    done = reconcile.apply_saved(saved, applied.repo(), session=applied.session())
    assert not done.failed and [c.action for c in saved.steps] == [Action.DELETE] * 3
    applied.check(area=AREA, dropped=applied.config_maps_of(["cm-5"]), logs_text=captured_logs.text())
