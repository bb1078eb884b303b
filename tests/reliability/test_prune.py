"""RELIABILITY.md, area prune: only owned, inventoried objects that the desired state dropped are deleted."""

from __future__ import annotations

from kubernetes import client as kube

from reconciler.core.plans import Action
from reconciler.store import stores

AREA = "prune"


def changes_of(planned, *, name: str, cluster: str | None = None) -> list:
    return [c for c in planned.plan.changes if c.key.name == name and (cluster is None or c.dest == cluster)]


def test_an_object_whose_marks_someone_removed_is_skipped_as_not_owned(applied, captured_logs):
    core = kube.CoreV1Api(applied.running.api_client("c0"))
    core.patch_namespaced_config_map("cm-5", "apps", {"metadata": {"labels": {"stackfleet.dev/bundle": None}}})
    applied.settle()  # cm-5 on c0 is now theirs
    applied.keep_config_maps(5)
    planned = applied.plan()
    [skipped] = changes_of(planned, name="cm-5", cluster="c0")
    assert (skipped.action, skipped.reason.split(":")[0]) == (Action.SKIPPED, "not owned")
    applied.apply(planned)
    applied.check(area=AREA, dropped=applied.config_maps_of(["cm-5"], clusters=["c1", "c2"]), logs_text=captured_logs.text())


def test_an_empty_render_prunes_nothing_and_says_it_would_delete_all(applied, captured_logs):
    applied.keep_config_maps(0)
    planned = applied.plan()
    held = [c for c in planned.plan.changes if c.bundle.bundle == "config" and c.key.kind == "ConfigMap"]
    assert {c.action for c in held} == {Action.SKIPPED}
    assert "would delete all 6 objects; needs allowEmpty" in held[0].reason
    applied.apply(planned)
    applied.check(area=AREA, logs_text=captured_logs.text())


def test_deletes_past_the_budget_wait_for_approval(applied, captured_logs):
    applied.keep_config_maps(2)
    planned = applied.plan()
    deletes = [c for c in planned.plan.changes if c.action is Action.DELETE]
    assert len(deletes) == 12 and all(c.approval for c in deletes)
    applied.apply(planned, approve=False)
    applied.check(area=AREA, logs_text=captured_logs.text())
    applied.apply(approve=True)
    applied.check(area=AREA, dropped=applied.config_maps_of(["cm-2", "cm-3", "cm-4", "cm-5"]), logs_text=captured_logs.text())


def test_a_denied_delete_stays_in_the_inventory_and_is_retried(applied, captured_logs):
    applied.keep_config_maps(4)
    applied.running.faults("c1").deny_delete("ConfigMap", "apps", "cm-4")
    applied.apply()
    held = {e.key.name for b in applied.store.inventories.load_all() if b.dest == "c1" for e in b.entries}
    assert "cm-4" in held and "cm-5" not in held
    applied.check(area=AREA, dropped=applied.config_maps_of(["cm-4", "cm-5"]), logs_text=captured_logs.text())
    applied.running.faults("c1").clear()
    retried = applied.plan()
    assert [(c.dest, c.key.name) for c in retried.plan.changes if c.action is Action.DELETE] == [("c1", "cm-4")]
    applied.apply(retried)
    applied.check(area=AREA, dropped=applied.config_maps_of(["cm-4"], clusters=["c1"]), logs_text=captured_logs.text())


def test_a_wiped_store_deletes_nothing_and_adopts_what_carries_our_marks(applied, captured_logs):
    applied.store.close()
    for suffix in ("", "-wal", "-shm"):
        applied.state.with_name(applied.state.name + suffix).unlink(missing_ok=True)
    applied.store = stores.open_store(applied.state)
    applied.keep_config_maps(5)
    applied.edit("stacks/apps/1.0.0/config/cms.yaml", "data: {index: '0'}", "data: {index: 'zero'}")
    planned = applied.plan()
    assert Action.DELETE not in {c.action for c in planned.plan.changes}
    applied.apply(planned)
    held = {(b.dest, e.key.name) for b in applied.store.inventories.load_all() for e in b.entries}
    assert {("c0", f"cm-{i}") for i in range(5)} <= held  # re-adopted: the marks name this fleet and bundle
    assert ("c0", "cm-5") not in held
    applied.check(area=AREA, logs_text=captured_logs.text())
