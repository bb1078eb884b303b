"""Create, get, list, update, patch and delete against a sim cluster over real HTTP."""

from __future__ import annotations

from typing import Any

CM = "/api/v1/namespaces/default/configmaps"


def configmap(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}},
            "data": data}


def test_create_sets_uid_resource_version_and_creation_timestamp(api):
    created = api.post(CM, configmap("a", x="1")).json()["metadata"]
    assert (bool(created["uid"]), created["resourceVersion"].isdigit(), created["creationTimestamp"][-1]) == (
        True, True, "Z")


def test_resource_versions_grow_per_cluster(api):
    first = int(api.post(CM, configmap("a")).json()["metadata"]["resourceVersion"])
    second = int(api.post(CM, configmap("b")).json()["metadata"]["resourceVersion"])
    assert second > first


def test_create_twice_is_already_exists(api):
    api.post(CM, configmap("a"))
    answer = api.post(CM, configmap("a"))
    assert (answer.status_code, answer.json()["reason"], answer.json()["kind"]) == (409, "AlreadyExists", "Status")


def test_get_missing_is_not_found_status(api):
    answer = api.get(f"{CM}/nope")
    assert (answer.status_code, answer.json()["reason"], answer.json()["message"]) == (
        404, "NotFound", 'configmaps "nope" not found')


def test_namespaced_create_needs_its_namespace(api):
    answer = api.post("/api/v1/namespaces/missing/configmaps", configmap("a"))
    assert (answer.status_code, answer.json()["message"]) == (404, 'namespaces "missing" not found')


def test_update_with_stale_resource_version_conflicts(api):
    created = api.post(CM, configmap("a", x="1")).json()
    api.put(f"{CM}/a", {**created, "data": {"x": "2"}})
    answer = api.put(f"{CM}/a", {**created, "data": {"x": "3"}})
    assert (answer.status_code, answer.json()["reason"]) == (409, "Conflict")


def test_generation_bumps_on_spec_change_only(api):
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"ports": [{"port": 80}], "selector": {"app": "x"}}}
    created = api.post("/api/v1/namespaces/default/services", body).json()
    labelled = api.put("/api/v1/namespaces/default/services/s",
                       {**created, "metadata": {**created["metadata"], "labels": {"a": "b"}}}).json()
    changed = api.put("/api/v1/namespaces/default/services/s",
                      {**labelled, "spec": {**labelled["spec"], "selector": {"app": "y"}}}).json()
    assert [o["metadata"]["generation"] for o in (created, labelled, changed)] == [1, 1, 2]


def test_unchanged_update_keeps_resource_version(api):
    created = api.post(CM, configmap("a", x="1")).json()
    again = api.put(f"{CM}/a", created).json()
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_status_subresource_ignores_spec_and_main_resource_ignores_status(api):
    path = "/api/v1/namespaces/default/services"
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"ports": [{"port": 80}], "selector": {"app": "x"}}}
    created = api.post(path, body).json()
    lb = {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}}
    api.put(f"{path}/s/status", {**created, "spec": {"ports": [{"port": 81}]}, "status": lb})
    after_main = api.put(f"{path}/s", {**api.get(f"{path}/s").json(), "status": {}}).json()
    assert (after_main["status"], after_main["spec"]["ports"][0]["port"]) == (lb, 80)


def test_dry_run_create_stores_nothing(api):
    answer = api.post(CM, configmap("a"), dryRun="All")
    assert (answer.status_code, api.get(f"{CM}/a").status_code) == (201, 404)


def test_dry_run_delete_keeps_the_object(api):
    api.post(CM, configmap("a"))
    api.delete(f"{CM}/a", dryRun="All")
    assert api.get(f"{CM}/a").status_code == 200


def test_delete_with_finalizer_sets_deletion_timestamp_until_finalizer_removed(api):
    body = configmap("a")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    api.post(CM, body)
    marked = api.delete(f"{CM}/a").json()
    api.patch(f"{CM}/a", {"metadata": {"finalizers": None}}, "application/merge-patch+json")
    assert (bool(marked["metadata"].get("deletionTimestamp")), api.get(f"{CM}/a").status_code) == (True, 404)


def test_delete_precondition_on_uid_conflicts(api):
    api.post(CM, configmap("a"))
    answer = api.delete(f"{CM}/a", {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "other"}})
    assert (answer.status_code, api.get(f"{CM}/a").status_code) == (409, 200)


def test_delete_precondition_on_resource_version_conflicts(api):
    api.post(CM, configmap("a"))
    answer = api.delete(f"{CM}/a", {"preconditions": {"resourceVersion": "1"}})
    assert answer.json()["reason"] == "Conflict"


def test_deleting_owner_collects_dependents(api):
    owner = api.post(CM, configmap("owner")).json()
    dependent = configmap("dependent")
    dependent["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}]
    api.post(CM, dependent)
    api.delete(f"{CM}/owner")
    assert api.get(f"{CM}/dependent").status_code == 404


def test_orphan_propagation_keeps_dependents_without_owner_reference(api):
    owner = api.post(CM, configmap("owner")).json()
    dependent = configmap("dependent")
    dependent["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}]
    api.post(CM, dependent)
    api.delete(f"{CM}/owner", propagationPolicy="Orphan")
    assert "ownerReferences" not in api.get(f"{CM}/dependent").json()["metadata"]


def test_deleting_namespace_deletes_its_contents(api):
    api.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    api.post("/api/v1/namespaces/team/configmaps", configmap("a"))
    api.delete("/api/v1/namespaces/team")
    assert api.get("/api/v1/namespaces/team/configmaps/a").status_code == 404


def test_json_patch(api):
    api.post(CM, configmap("a", x="1"))
    patched = api.patch(f"{CM}/a", [{"op": "replace", "path": "/data/x", "value": "2"}],
                        "application/json-patch+json").json()
    assert patched["data"] == {"x": "2"}


def test_merge_patch_removes_null_keys(api):
    api.post(CM, configmap("a", x="1", y="2"))
    patched = api.patch(f"{CM}/a", {"data": {"x": None}}, "application/merge-patch+json").json()
    assert patched["data"] == {"y": "2"}


def test_strategic_merge_patch_merges_containers_by_name(api):
    path = "/apis/apps/v1/namespaces/default/deployments"
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"containers": [{"name": "one", "image": "x"},
                                                          {"name": "two", "image": "y"}]}}}}
    api.post(path, body)
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "two", "image": "z"}]}}}}
    patched = api.patch(f"{path}/d", patch, "application/strategic-merge-patch+json").json()
    images = [c["image"] for c in patched["spec"]["template"]["spec"]["containers"]]
    assert images == ["x", "z"]


def test_unknown_patch_type_is_unsupported_media_type(api):
    api.post(CM, configmap("a"))
    assert api.patch(f"{CM}/a", {}, "text/plain").status_code == 415


def test_post_to_an_object_path_is_method_not_allowed(api):
    answer = api.post(f"{CM}/a", configmap("a"))
    assert (answer.status_code, answer.json()["reason"]) == (405, "MethodNotAllowed")


def test_missing_token_is_unauthorized(sim, make_api):
    answer = make_api(sim.server.url("c0"), "wrong").get("/api/v1/namespaces")
    assert (answer.status_code, answer.json()["reason"]) == (401, "Unauthorized")


def test_clusters_are_isolated(sim, api, make_api):
    api.post(CM, configmap("only-here"))
    other = make_api(sim.server.url("c1"), sim.cluster("c1").token)
    assert other.get(f"{CM}/only-here").status_code == 404


def test_generate_name_makes_a_name(api):
    created = api.post(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "x-"}}).json()
    assert created["metadata"]["name"].startswith("x-") and len(created["metadata"]["name"]) == 7


def test_unknown_resource_is_not_found(api):
    assert api.get("/apis/example.com/v1/namespaces/default/widgets").status_code == 404


def test_delete_collection_by_label(api):
    api.post(CM, configmap("a", labels={"gone": "yes"}))
    api.post(CM, configmap("b"))
    api.delete(CM, labelSelector="gone=yes")
    names = [i["metadata"]["name"] for i in api.get(CM).json()["items"]]
    assert names == ["b"]


def test_list_pagination_walks_every_item_once(api):
    for i in range(7):
        api.post(CM, configmap(f"cm{i}"))
    names, token = [], ""
    while True:
        page = api.get(CM, limit=3, **({"continue": token} if token else {})).json()
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue", "")
        if not token:
            break
    assert names == [f"cm{i}" for i in range(7)]


def test_list_across_namespaces(api):
    api.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    api.post(CM, configmap("a"))
    api.post("/api/v1/namespaces/other/configmaps", configmap("b"))
    listed = api.get("/api/v1/configmaps").json()["items"]
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in listed] == [("default", "a"), ("other", "b")]


def test_scale_subresource_reads_and_writes_replicas(api):
    path = "/apis/apps/v1/namespaces/default/deployments"
    api.post(path, {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                    "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                             "template": {"metadata": {"labels": {"a": "b"}},
                                          "spec": {"containers": [{"name": "c", "image": "x"}]}}}})
    scale = api.get(f"{path}/d/scale").json()
    api.patch(f"{path}/d/scale", {"spec": {"replicas": 5}}, "application/merge-patch+json")
    assert ((scale["kind"], scale["spec"]["replicas"], scale["status"]["selector"]),
            api.get(f"{path}/d").json()["spec"]["replicas"]) == (("Scale", 1, "a=b"), 5)


def test_missing_name_is_invalid(api):
    answer = api.post(CM, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})
    assert (answer.status_code, answer.json()["reason"], answer.json()["details"]["causes"][0]["field"]) == (
        422, "Invalid", "metadata.name")


def test_terminating_namespace_refuses_new_content(api):
    api.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                    "metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    api.delete("/api/v1/namespaces/held")
    answer = api.post("/api/v1/namespaces/held/configmaps", configmap("late"))
    assert (answer.status_code, answer.json()["reason"]) == (403, "Forbidden")


def test_kind_mismatch_is_bad_request(api):
    answer = api.post(CM, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}})
    assert answer.status_code == 400


def test_snapshots_show_exactly_what_changed(sim, api):
    api.post(CM, configmap("same"))
    api.post(CM, configmap("changed"))
    before = sim.cluster("c0").snapshot()
    api.patch(f"{CM}/changed", {"data": {"x": "1"}}, "application/merge-patch+json")
    after = sim.cluster("c0").snapshot()
    assert sorted(k[3] for k in after if after[k] != before.get(k)) == ["changed"]


def test_malformed_limit_is_bad_request(api):
    assert (api.get(CM, limit="ten").status_code, api.get(CM, watch="true", resourceVersion="x").status_code) == (
        400, 400)
