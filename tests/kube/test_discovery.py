"""Discovery is cached per cluster and refreshed on a miss (a kind served after its CRD was created)."""

from __future__ import annotations

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.dev"},
    "spec": {"group": "example.dev", "scope": "Namespaced",
             "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object",
                                                          "x-kubernetes-preserve-unknown-fields": True}}}]},
}


def test_discovery_is_read_once_and_reused(make_client):
    client = make_client()
    assert client.discovery.preferred("Deployment.apps").plural == "deployments"
    assert client.discovery.preferred("ConfigMap").namespaced is True
    assert client.discovery.preferred("Namespace").namespaced is False
    assert client.stats["discovery"] == 2


def test_a_kind_created_by_a_crd_is_found_after_a_refresh(make_client, sim):
    client = make_client()
    assert client.discovery.preferred("Widget.example.dev") is None
    client.apply(CRD)
    sim.tick()
    found = client.discovery.resource("example.dev/v1", "Widget")
    assert found is not None and found.path("ns", "w") == "/apis/example.dev/v1/namespaces/ns/widgets/w"
