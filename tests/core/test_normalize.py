"""Table-driven tests of normalisation: what the API treats as equal compares equal."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core import fieldsets, normalize

QUANTITIES = [
    ("1000m", "1"),
    ("1", "1"),
    ("1Gi", "1073741824"),
    ("1024Mi", "1073741824"),
    ("500m", "0.5"),
    ("0.5", "0.5"),
    ("1e3", "1000"),
    ("1k", "1000"),
    (2, "2"),
    ("1.5Gi", "1610612736"),
    ("not-a-quantity", "not-a-quantity"),
    (True, True),
]


@pytest.mark.parametrize(("given", "expected"), QUANTITIES)
def test_quantity_has_one_spelling(given: Any, expected: Any) -> None:
    assert normalize.quantity(given) == expected


EQUAL = [
    ("cpu millis", {"limits": {"cpu": "1000m"}}, {"limits": {"cpu": 1}}),
    ("memory binary units", {"requests": {"memory": "1Gi"}}, {"requests": {"memory": "1024Mi"}}),
    ("pvc storage", {"storage": "10Gi"}, {"storage": "10240Mi"}),
    ("port as string", {"ports": [{"containerPort": "80"}]}, {"ports": [{"containerPort": 80}]}),
    ("empty map is absent", {"a": 1, "labels": {}}, {"a": 1}),
    ("empty list is absent", {"a": 1, "args": []}, {"a": 1}),
    ("null is absent", {"a": 1, "b": None}, {"a": 1}),
    ("key order", {"a": 1, "b": 2}, {"b": 2, "a": 1}),
    (
        "stringData is base64 data",
        {"apiVersion": "v1", "kind": "Secret", "stringData": {"k": "v"}},
        {"apiVersion": "v1", "kind": "Secret", "data": {"k": "dg=="}},
    ),
]


@pytest.mark.parametrize(("case", "left", "right"), EQUAL, ids=[c[0] for c in EQUAL])
def test_canonical_forms_are_equal(case: str, left: Any, right: Any) -> None:
    assert normalize.canonical(left) == normalize.canonical(right)


DIFFERENT = [
    ("named port stays a name", {"targetPort": "http"}, {"targetPort": 80}),
    ("quantity outside resource maps", {"replicas": "1"}, {"replicas": 1}),
    ("different cpu", {"limits": {"cpu": "1"}}, {"limits": {"cpu": "1001m"}}),
]


@pytest.mark.parametrize(("case", "left", "right"), DIFFERENT, ids=[c[0] for c in DIFFERENT])
def test_canonical_keeps_real_differences(case: str, left: Any, right: Any) -> None:
    assert normalize.canonical(left) != normalize.canonical(right)


OWNED = {
    "f:spec": {
        "f:replicas": {},
        "f:template": {
            "f:spec": {"f:containers": {'k:{"name":"web"}': {".": {}, "f:name": {}, "f:image": {}}}}
        },
    }
}
LIVE = {
    "spec": {
        "replicas": 3,
        "paused": False,
        "template": {
            "spec": {
                "containers": [
                    {"name": "web", "image": "a", "imagePullPolicy": "Always"},
                    {"name": "side", "image": "b"},
                ]
            }
        },
    }
}
PROJECTIONS = [
    ("declared fields only", {"spec": {"paused": True}}, None, {"spec": {"paused": False}}),
    (
        "owned but undeclared field stays",
        {"spec": {}},
        OWNED,
        {"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "web", "image": "a"}]}}}},
    ),
    (
        "list element matched by name; foreign element dropped",
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "x"}]}}}},
        None,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "a"}]}}}},
    ),
]


@pytest.mark.parametrize(
    ("case", "desired", "owned", "expected"), PROJECTIONS, ids=[c[0] for c in PROJECTIONS]
)
def test_project_keeps_declared_and_owned_fields(case: str, desired: Any, owned: Any, expected: Any) -> None:
    assert normalize.project(LIVE, desired=desired, owned=owned) == expected


def test_owned_by_merges_only_our_apply_entries() -> None:
    obj = {
        "metadata": {
            "managedFields": [
                {"manager": "stackfleet", "operation": "Apply", "fieldsV1": {"f:data": {"f:a": {}}}},
                {"manager": "stackfleet", "operation": "Apply", "fieldsV1": {"f:data": {"f:b": {}}}},
                {"manager": "stackfleet", "operation": "Update", "fieldsV1": {"f:data": {"f:c": {}}}},
                {"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:data": {"f:d": {}}}},
            ]
        }
    }
    assert fieldsets.owned_by(obj) == {"f:data": {"f:a": {}, "f:b": {}}}


def test_element_for_matches_by_key_fields() -> None:
    node = {'k:{"containerPort":80,"protocol":"TCP"}': {"f:name": {}}, 'v:"x"': {}}
    found = [
        fieldsets.element_for(node, e)
        for e in ({"containerPort": 80, "protocol": "TCP"}, "x", {"containerPort": 81})
    ]
    assert found == [{"f:name": {}}, {}, None]
