"""A long-lived session (the daemon's) sees a kind whose CRD someone else created after it first looked:
observe reads discovery again when a kind it needs is missing, instead of planning a create of a custom
resource that is already there (found by the demo: an approval applied with the CLI, then the daemon's
next plan wanted to create prod-us-1's BackupSchedule again)."""

from __future__ import annotations

import time

from reconciler.engine import reconcile
from reconciler.source import opening
from reconciler.spec import loader

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.dev}
spec:
  group: example.dev
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: example.dev/v1
kind: Widget
metadata: {name: one, namespace: default}
spec: {size: 1}
"""


def test_a_kept_session_sees_a_custom_resource_applied_by_another_process(bench_factory, small_fleet) -> None:
    bench = bench_factory(small_fleet("crd-1", CRD), ["crd-1"])
    repo = loader.load(opening.open_tree(str(bench.fleet)))
    kept = bench.session(repo)
    reconcile.plan_fleet(repo, session=kept)  # discovery read before the CRD exists
    bench.apply(approve=True)  # another session (the CLI) creates the CRD and the Widget
    bench.running.tick()
    time.sleep(1.05)  # discovery is read again at most once a second (``Discovery.min_refresh``)
    again = reconcile.plan_fleet(repo, session=kept).plan
    assert [f"{c.action.value} {c.key}" for c in again.steps] == []
