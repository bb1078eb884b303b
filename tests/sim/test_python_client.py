"""The official kubernetes Python client (typed and DynamicClient) discovers and uses sim clusters."""

from __future__ import annotations

import pytest
from kubernetes import client, dynamic, watch
from kubernetes.client.rest import ApiException

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "labels": {"app": "x"}},
             "data": {"k": "v"}}


def test_version_endpoint(sim):
    info = client.VersionApi(sim.api_client("c0")).get_code()
    assert (info.major, info.minor) == ("1", "37")


def test_dynamic_client_discovers_builtin_kinds(sim):
    dyn = sim.dynamic_client("c0")
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert (deployments.name, deployments.namespaced) == ("deployments", True)


def test_dynamic_client_creates_and_lists(sim):
    configmaps = sim.dynamic_client("c0").resources.get(api_version="v1", kind="ConfigMap")
    configmaps.create(body=CONFIGMAP, namespace="default")
    names = [i.metadata.name for i in configmaps.get(namespace="default", label_selector="app=x").items]
    assert names == ["cfg"]


def test_dynamic_client_server_side_apply(sim):
    configmaps = sim.dynamic_client("c0").resources.get(api_version="v1", kind="ConfigMap")
    applied = configmaps.server_side_apply(body=CONFIGMAP, name="cfg", namespace="default",
                                           field_manager="stackfleet")
    assert [e.manager for e in applied.metadata.managedFields] == ["stackfleet"]


def test_dynamic_client_sees_a_new_crd_after_invalidating_its_cache(sim):
    dyn = sim.dynamic_client("c0")
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    crds.create(body={"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                      "metadata": {"name": "gadgets.example.com"},
                      "spec": {"group": "example.com", "scope": "Cluster",
                               "names": {"kind": "Gadget", "plural": "gadgets"},
                               "versions": [{"name": "v1alpha1", "served": True, "storage": True}]}})
    dyn.resources.invalidate_cache()
    gadgets = dyn.resources.get(api_version="example.com/v1alpha1", kind="Gadget")
    gadgets.create(body={"apiVersion": "example.com/v1alpha1", "kind": "Gadget", "metadata": {"name": "g"}})
    assert [i.metadata.name for i in gadgets.get().items] == ["g"]


def test_typed_client_raises_api_exception_with_status_body(sim):
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(sim.api_client("c0")).read_namespaced_config_map("absent", "default")
    assert (caught.value.status, '"reason":"NotFound"' in caught.value.body) == (404, True)


def test_typed_client_paginates_with_limit_and_continue(sim):
    core = client.CoreV1Api(sim.api_client("c0"))
    for i in range(5):
        core.create_namespaced_config_map("default", {**CONFIGMAP, "metadata": {"name": f"cm{i}"}})
    first = core.list_namespaced_config_map("default", limit=2)
    second = core.list_namespaced_config_map("default", limit=2, _continue=first.metadata._continue)
    names = [i.metadata.name for i in first.items + second.items]
    assert (names, second.metadata.remaining_item_count) == (["cm0", "cm1", "cm2", "cm3"], 1)


def test_watch_streams_added_and_modified_events(sim):
    core = client.CoreV1Api(sim.api_client("c0"))
    start = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", CONFIGMAP)
    core.patch_namespaced_config_map("cfg", "default", {"data": {"k": "w"}})
    events = watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=start,
                                  timeout_seconds=1)
    seen = [(e["type"], e["object"].metadata.name) for e in events]
    assert seen == [("ADDED", "cfg"), ("MODIFIED", "cfg")]


def test_watch_with_field_selector_sees_only_that_object(sim):
    core = client.CoreV1Api(sim.api_client("c0"))
    start = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", CONFIGMAP)
    core.create_namespaced_config_map("default", {**CONFIGMAP, "metadata": {"name": "other"}})
    events = watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version=start,
                                  field_selector="metadata.name=other", timeout_seconds=1)
    assert [e["object"].metadata.name for e in events] == ["other"]


def test_watch_from_a_compacted_resource_version_is_gone(sim):
    cluster = sim.cluster("c0")
    cluster.events = type(cluster.events)(window=2)
    core = client.CoreV1Api(sim.api_client("c0"))
    for i in range(4):
        core.create_namespaced_config_map("default", {**CONFIGMAP, "metadata": {"name": f"cm{i}"}})
    with pytest.raises(ApiException) as caught:
        list(watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version="2",
                                  timeout_seconds=1))
    assert caught.value.status == 410


def test_dynamic_resources_of_both_clusters(sim):
    names = {n: dynamic.DynamicClient(sim.api_client(n)).resources.get(api_version="v1", kind="Namespace")
             .get().items[0].metadata.name for n in ("c0", "c1")}
    assert names == {"c0": "default", "c1": "default"}


def test_python_client_over_tls_trusts_the_generated_ca(tmp_path):
    from reconciler.sim import testing

    with testing.running(clusters=1, tls=True, workdir=tmp_path) as secure:
        api = client.CoreV1Api(secure.api_client("c0"))
        names = {n.metadata.name for n in api.list_namespace().items}
        assert (secure.server.base_url.startswith("https://"), "default" in names) == (True, True)
