"""Label and field selectors, table-driven."""

from __future__ import annotations

import pytest

from reconciler.sim import selectors, statuses

OBJ = {"metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web", "tier": "front"}}}

LABEL_CASES = [
    ("", True), ("app=web", True), ("app==web", True), ("app=api", False), ("app!=api", True),
    ("app!=web", False), ("tier in (front,back)", True), ("tier in (back)", False),
    ("tier notin (back)", True), ("tier notin (front, back)", False), ("app", True), ("missing", False),
    ("!missing", True), ("!app", False), ("app=web,tier in (front)", True), ("app=web,tier=back", False),
    ("missing!=x", True), ("missing notin (x)", True),
]

FIELD_CASES = [
    ("metadata.name=web", True), ("metadata.name==web", True), ("metadata.name!=web", False),
    ("metadata.namespace=prod", True), ("metadata.namespace=dev", False),
    ("metadata.name=web,metadata.namespace!=dev", True),
]


@pytest.mark.parametrize(("selector", "expected"), LABEL_CASES)
def test_label_selector(selector, expected):
    assert selectors.labels(selector)(OBJ) is expected


@pytest.mark.parametrize(("selector", "expected"), FIELD_CASES)
def test_field_selector(selector, expected):
    assert selectors.fields(selector)(OBJ) is expected


@pytest.mark.parametrize("selector", ["spec.replicas=1", "status.phase=Running"])
def test_unsupported_field_is_bad_request(selector):
    with pytest.raises(statuses.ApiError) as caught:
        selectors.fields(selector)
    assert (caught.value.code, caught.value.reason) == (400, "BadRequest")


def test_malformed_label_selector_is_bad_request():
    with pytest.raises(statuses.ApiError):
        selectors.labels("a in b")


def test_list_over_http_applies_selectors(api):
    for name, tier in (("a", "front"), ("b", "back"), ("c", None)):
        labels = {"tier": tier} if tier else {}
        api.post("/api/v1/namespaces/default/configmaps",
                 {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}})
    listed = api.get("/api/v1/namespaces/default/configmaps", labelSelector="tier notin (back)",
                     fieldSelector="metadata.name!=c").json()
    assert [i["metadata"]["name"] for i in listed["items"]] == ["a"]
