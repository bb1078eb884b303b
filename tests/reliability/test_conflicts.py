"""Issue 17 item 3: an object whose marks name another bundle is a ``conflict`` naming that owner, and
never blocks unrelated steps (the owner's own prune of it goes on)."""

from __future__ import annotations

from kubernetes import client as kube

from reconciler.core import rollout
from reconciler.core.objects import (
    ANNOTATION_OWNER,
    LABEL_BUNDLE,
    LABEL_FLEET,
    LABEL_STACK,
    ObjectKey,
    owner_annotation,
)
from reconciler.core.plans import Action

AREA = "conflicts"
PLANTED = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: planted}\ndata: {index: ours}\n"


def changes_of(planned, *, cluster: str, name: str) -> set[tuple[str, Action, str]]:
    return {(c.bundle.bundle, c.action, c.reason) for c in planned.plan.changes
            if c.dest == cluster and c.key.name == name}


def test_marks_naming_a_bundle_that_never_applied_the_object_are_a_conflict(applied, captured_logs):
    key = ObjectKey("", "ConfigMap", "apps", "planted")
    marks = {"labels": {LABEL_FLEET: "rely", LABEL_STACK: "apps", LABEL_BUNDLE: "secrets"},
             "annotations": {ANNOTATION_OWNER: owner_annotation(fleet="rely", stack="apps", bundle="secrets", key=key)}}
    core = kube.CoreV1Api(applied.running.api_client("c0"))
    core.create_namespaced_config_map("apps", {"metadata": {"name": "planted", **marks}, "data": {"index": "theirs"}},
                                      field_manager="intruder")
    applied.settle()
    applied.write("stacks/apps/1.0.0/config/cms.yaml",
                  applied.fleet.joinpath("stacks/apps/1.0.0/config/cms.yaml").read_text() + "---\n" + PLANTED)
    applied.keep_config_maps(5)
    planned = applied.plan()
    assert changes_of(planned, cluster="c0", name="planted") == {("config", Action.CONFLICT, "owned by rely/apps/secrets")}
    assert ("config", Action.DELETE, "") in changes_of(planned, cluster="c0", name="cm-5")
    report = applied.apply(planned)
    assert {o.result for o in report.outcomes} == {rollout.Result.SUCCEEDED}
    assert core.read_namespaced_config_map("planted", "apps").data == {"index": "theirs"}
    applied.check(area=AREA, dropped=applied.config_maps_of(["cm-5"]), logs_text=captured_logs.text())


def test_another_stack_declaring_an_object_does_not_take_it_nor_block_its_owners_prune(applied, captured_logs):
    applied.edit("fleet.yaml", "stacks: [{name: apps, version: 1.0.0}]",
                 "stacks: [{name: apps, version: 1.0.0}, {name: other, version: 1.0.0}]")
    applied.write("stacks/other/1.0.0/stack.yaml",
                  "apiVersion: stackfleet.dev/v1alpha1\nkind: Stack\nmetadata: {name: other}\nspec:\n  version: 1.0.0\n"
                  "  bundles:\n  - {name: grabber, manifests: {path: grabber}, layer: addons, namespace: apps}\n")
    applied.write("stacks/other/1.0.0/grabber/cm.yaml",
                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-5}\ndata: {index: grabbed}\n")
    applied.keep_config_maps(5)
    planned = applied.plan()
    assert changes_of(planned, cluster="c1", name="cm-5") == {
        ("grabber", Action.CONFLICT, "owned by rely/apps/config"), ("config", Action.DELETE, "")}
    report = applied.apply(planned)
    assert {o.result for o in report.outcomes} == {rollout.Result.SUCCEEDED}
    applied.check(area=AREA, dropped=applied.config_maps_of(["cm-5"]), logs_text=captured_logs.text())
