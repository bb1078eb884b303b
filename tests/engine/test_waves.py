"""Steps cut into waves: destination, bundle, wave annotation, stage and apply/delete each start a new one."""

from __future__ import annotations

from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.core.plans import Action, Change
from reconciler.engine import waves

B1, B2 = BundleId("c", "s", "one"), BundleId("c", "s", "two")


def change(step: int, kind: str, *, bundle=B1, dest="c", action=Action.CREATE, wave: int = 0) -> Change:
    group = "apiextensions.k8s.io" if kind == "CustomResourceDefinition" else ""
    obj = {"apiVersion": "v1", "kind": kind,
           "metadata": {"name": f"n{step}", "annotations": {"stackfleet.dev/wave": str(wave)}}}
    return Change(action=action, dest=dest, bundle=bundle, key=ObjectKey(group, kind, "", f"n{step}"), step=step,
                  object=obj)


def test_waves_follow_the_cuts():
    steps = [
        change(1, "CustomResourceDefinition"), change(2, "Namespace"),
        change(3, "ConfigMap"), change(4, "ConfigMap"),
        change(5, "ConfigMap", wave=1),
        change(6, "ConfigMap", bundle=B2),
        change(7, "ConfigMap", bundle=B2, dest="mgmt"),
        change(8, "ConfigMap", bundle=B2, dest="mgmt", action=Action.DELETE),
    ]
    assert [sorted(w.steps) for w in waves.split(steps)] == [[1, 2], [3, 4], [5], [6], [7], [8]]
    assert [w.delete for w in waves.split(steps)] == [False] * 5 + [True]
