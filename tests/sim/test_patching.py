"""JSON patch, JSON merge patch and strategic merge patch as the sim applies them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.sim import patching

Obj = dict[str, Any]
DEPLOYMENT = "io.k8s.api.apps.v1.Deployment"


def live() -> Obj:
    containers = [
        {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}], "args": ["--x"]},
        {"name": "proxy", "image": "envoy:1"},
    ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a/x"]},
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": containers, "tolerations": [{"key": "k"}]}},
        },
    }


def strategic(patch: Obj) -> Obj:
    return patching.apply_patch(
        live(), patch, content_type=patching.STRATEGIC_MERGE_PATCH, type_name=DEPLOYMENT
    )


def pod(obj: Obj) -> Obj:
    return obj["spec"]["template"]["spec"]


def containers(patch_containers: list[Obj], **extra: Any) -> Obj:
    return {"spec": {"template": {"spec": {"containers": patch_containers, **extra}}}}


STRATEGIC = [
    ("scalar-replaced", {"spec": {"replicas": 5}}, lambda o: o["spec"]["replicas"], 5),
    ("null-deletes", {"metadata": {"labels": {"app": None}}}, lambda o: o["metadata"]["labels"], {}),
    (
        "keyed-list-item-merged",
        containers([{"name": "app", "image": "app:2"}]),
        lambda o: (pod(o)["containers"][0]["image"], pod(o)["containers"][0]["args"]),
        ("app:2", ["--x"]),
    ),
    (
        "keyed-list-item-appended",
        containers([{"name": "new", "image": "n:1"}]),
        lambda o: [c["name"] for c in pod(o)["containers"]],
        ["app", "proxy", "new"],
    ),
    (
        "keyed-list-item-deleted",
        containers([{"name": "proxy", "$patch": "delete"}]),
        lambda o: [c["name"] for c in pod(o)["containers"]],
        ["app"],
    ),
    (
        "keyed-list-replaced",
        containers([{"name": "only", "image": "o:1"}, {"$patch": "replace"}]),
        lambda o: [c["name"] for c in pod(o)["containers"]],
        ["only"],
    ),
    (
        "nested-keyed-list-merged",
        containers([{"name": "app", "env": [{"name": "B", "value": "2"}]}]),
        lambda o: [e["name"] for e in pod(o)["containers"][0]["env"]],
        ["A", "B"],
    ),
    (
        "atomic-list-replaced",
        containers([], tolerations=[{"key": "z"}]),
        lambda o: pod(o)["tolerations"],
        [{"key": "z"}],
    ),
    (
        "set-merged",
        {"metadata": {"finalizers": ["b/y", "a/x"]}},
        lambda o: o["metadata"]["finalizers"],
        ["a/x", "b/y"],
    ),
    (
        "delete-from-primitive-list",
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/x"]}},
        lambda o: o["metadata"]["finalizers"],
        [],
    ),
    (
        "map-replaced",
        {"metadata": {"labels": {"$patch": "replace", "team": "blue"}}},
        lambda o: o["metadata"]["labels"],
        {"team": "blue"},
    ),
    (
        "retain-keys",
        {"spec": {"$retainKeys": ["template"], "template": {}}},
        lambda o: sorted(o["spec"]),
        ["template"],
    ),
    (
        "set-element-order-ignored",
        containers([{"name": "app", "image": "app:3"}], **{"$setElementOrder/containers": [{"name": "app"}]}),
        lambda o: "$setElementOrder/containers" in pod(o),
        False,
    ),
]


@pytest.mark.parametrize(("name", "patch", "probe", "expected"), STRATEGIC, ids=[s[0] for s in STRATEGIC])
def test_strategic_merge_patch(name: str, patch: Obj, probe: Any, expected: Any) -> None:
    assert probe(strategic(patch)) == expected


MERGE = [
    ("adds", {"spec": {"paused": True}}, lambda o: o["spec"]["paused"], True),
    ("null-deletes", {"spec": {"replicas": None}}, lambda o: "replicas" in o["spec"], False),
    (
        "lists-replaced-whole",
        containers([{"name": "x"}]),
        lambda o: pod(o)["containers"],
        [{"name": "x"}],
    ),
]


@pytest.mark.parametrize(("name", "patch", "probe", "expected"), MERGE, ids=[m[0] for m in MERGE])
def test_merge_patch(name: str, patch: Obj, probe: Any, expected: Any) -> None:
    result = patching.apply_patch(live(), patch, content_type=patching.MERGE_PATCH, type_name=DEPLOYMENT)
    assert probe(result) == expected


def test_json_patch_applies_operations() -> None:
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels/x", "value": "y"},
    ]
    result = patching.apply_patch(live(), ops, content_type=patching.JSON_PATCH, type_name=None)
    assert (result["spec"]["replicas"], result["metadata"]["labels"]["x"]) == (3, "y")


def test_json_patch_failing_test_op_is_invalid() -> None:
    with pytest.raises(patching.InvalidPatch):
        patching.json_patch(live(), [{"op": "test", "path": "/spec/replicas", "value": 99}])


def test_json_patch_of_missing_path_is_invalid() -> None:
    with pytest.raises(patching.InvalidPatch):
        patching.json_patch(live(), [{"op": "remove", "path": "/spec/nothing"}])


def test_unknown_content_type_is_invalid() -> None:
    with pytest.raises(patching.InvalidPatch):
        patching.apply_patch(live(), {}, content_type="application/xml", type_name=None)


def test_content_type_parameters_are_ignored() -> None:
    content_type = f"{patching.MERGE_PATCH}; charset=utf-8"
    result = patching.apply_patch(
        live(), {"spec": {"replicas": 1}}, content_type=content_type, type_name=None
    )
    assert result["spec"]["replicas"] == 1


def test_deduced_types_merge_like_a_merge_patch() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"a": 1, "l": [1, 2]}}
    result = patching.strategic_merge_patch(widget, {"spec": {"b": 2, "l": [3]}}, type_name=None)
    assert result["spec"] == {"a": 1, "b": 2, "l": [3]}


@pytest.mark.parametrize("content_type", [patching.MERGE_PATCH, patching.STRATEGIC_MERGE_PATCH])
def test_patches_leave_the_input_alone(content_type: str) -> None:
    obj = live()
    before = copy.deepcopy(obj)
    patching.apply_patch(
        obj, containers([{"name": "app", "image": "z"}]), content_type=content_type, type_name=DEPLOYMENT
    )
    assert obj == before


def test_absurdly_nested_strategic_patch_is_invalid() -> None:
    deep: Obj = {}
    for _ in range(5000):
        deep = {"x": deep}
    with pytest.raises(patching.InvalidPatch):
        patching.strategic_merge_patch({"spec": {}}, {"spec": deep}, type_name=None)
