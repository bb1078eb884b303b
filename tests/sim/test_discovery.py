"""Discovery documents over raw HTTP: legacy, aggregated v2 by content negotiation, OpenAPI, version."""

from __future__ import annotations

import pytest

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

GROUPS = ["apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io", "policy", "coordination.k8s.io",
          "apiextensions.k8s.io", "autoscaling"]


def test_legacy_group_list_names_the_issue_groups(api):
    names = {g["name"] for g in api.get("/apis").json()["groups"]}
    assert set(GROUPS) <= names


@pytest.mark.parametrize(("path", "kind"), [("/api/v1", "Namespace"), ("/apis/apps/v1", "StatefulSet"),
                                            ("/apis/batch/v1", "CronJob"), ("/apis/coordination.k8s.io/v1", "Lease"),
                                            ("/apis/policy/v1", "PodDisruptionBudget")])
def test_resource_lists_serve_the_kinds(api, path, kind):
    assert kind in {r["kind"] for r in api.get(path).json()["resources"]}


def test_aggregated_discovery_is_negotiated(api):
    answer = api.client.get("/apis", headers={"Accept": f"{AGGREGATED},application/json"})
    groups = {item["metadata"]["name"] for item in answer.json()["items"]}
    assert (answer.headers["Content-Type"], answer.json()["kind"], set(GROUPS) <= groups) == (
        AGGREGATED, "APIGroupDiscoveryList", True)


def test_plain_json_accept_gets_the_legacy_document(api):
    answer = api.client.get("/api", headers={"Accept": "application/json"})
    assert (answer.headers["Content-Type"], answer.json()["kind"]) == ("application/json", "APIVersions")


def test_aggregated_core_group_lists_subresources(api):
    answer = api.client.get("/api", headers={"Accept": AGGREGATED})
    resources = {r["resource"]: r for r in answer.json()["items"][0]["versions"][0]["resources"]}
    assert [s["subresource"] for s in resources["namespaces"]["subresources"]] == ["status"]


def test_openapi_v3_index_points_at_group_versions(api):
    paths = api.get("/openapi/v3").json()["paths"]
    document = api.get("/openapi/v3/apis/apps/v1").json()
    assert ("apis/apps/v1" in paths, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}" in document["paths"]) == (
        True, True)


def test_version(api):
    assert api.get("/version").json()["gitVersion"].startswith("v1.37")


def test_unknown_group_is_not_found(api):
    assert api.get("/apis/nope.example.com").status_code == 404
