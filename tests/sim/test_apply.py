"""Server-side apply over HTTP: the 409 body, dry runs, field validation, no-op reapplies, CRDs."""

from __future__ import annotations

from typing import Any

DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"


def deployment(replicas: int = 2, **extra_spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}},
                     **extra_spec}}


def test_conflict_body_names_manager_and_field_like_kube_apiserver(api):
    api.apply(f"{DEPLOYMENTS}/web", deployment(2), manager="mgr")
    body = api.apply(f"{DEPLOYMENTS}/web", deployment(5), manager="other").json()
    assert (body["code"], body["reason"], body["details"]["causes"]) == (409, "Conflict", [
        {"type": "FieldManagerConflict", "message": 'conflict with "mgr"', "field": ".spec.replicas"}])


def test_conflict_with_an_update_owner_names_its_api_version(api):
    api.post(DEPLOYMENTS, deployment(2), fieldManager="kubectl-create")
    body = api.apply(f"{DEPLOYMENTS}/web", deployment(5), manager="other").json()
    assert body["details"]["causes"][0]["message"] == 'conflict with "kubectl-create" using apps/v1'


def test_force_takes_the_field(api):
    api.apply(f"{DEPLOYMENTS}/web", deployment(2), manager="mgr")
    applied = api.apply(f"{DEPLOYMENTS}/web", deployment(5), manager="other", force=True).json()
    assert applied["spec"]["replicas"] == 5


def test_apply_creates_with_201_then_answers_200(api):
    codes = [api.apply(f"{DEPLOYMENTS}/web", deployment(), manager="m").status_code for _ in range(2)]
    assert codes == [201, 200]


def test_identical_reapply_writes_nothing(api):
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
    first = api.apply("/api/v1/namespaces/default/configmaps/c", config, manager="m").json()
    again = api.apply("/api/v1/namespaces/default/configmaps/c", config, manager="m").json()
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_apply_without_field_manager_is_bad_request(api):
    answer = api.patch(f"{DEPLOYMENTS}/web", deployment(), "application/apply-patch+yaml")
    assert (answer.status_code, answer.json()["reason"]) == (400, "BadRequest")


def test_apply_into_missing_namespace_is_not_found(api):
    answer = api.apply("/apis/apps/v1/namespaces/nowhere/deployments/web", deployment(), manager="m")
    assert answer.status_code == 404


def test_dry_run_apply_returns_the_result_and_stores_nothing(api):
    answer = api.apply(f"{DEPLOYMENTS}/web", deployment(), manager="m", dryRun="All")
    assert (answer.status_code, answer.json()["spec"]["replicas"], api.get(f"{DEPLOYMENTS}/web").status_code) == (
        201, 2, 404)


def test_dry_run_update_and_patch_leave_the_object(api):
    stored = api.apply(f"{DEPLOYMENTS}/web", deployment(2), manager="m").json()
    # No resourceVersion: an unconditional update, so a controller's status write in between cannot 409 it.
    meta = {k: v for k, v in stored["metadata"].items() if k != "resourceVersion"}
    put = api.put(f"{DEPLOYMENTS}/web", {**stored, "metadata": meta, "spec": {**stored["spec"], "replicas": 7}},
                  dryRun="All")
    patched = api.patch(f"{DEPLOYMENTS}/web", {"spec": {"replicas": 9}}, "application/merge-patch+json",
                        dryRun="All")
    assert (put.json()["spec"]["replicas"], patched.json()["spec"]["replicas"],
            api.get(f"{DEPLOYMENTS}/web").json()["spec"]["replicas"]) == (7, 9, 2)


def test_dry_run_conflict_is_still_a_conflict(api):
    api.apply(f"{DEPLOYMENTS}/web", deployment(2), manager="mgr")
    assert api.apply(f"{DEPLOYMENTS}/web", deployment(5), manager="other", dryRun="All").status_code == 409


def test_strict_field_validation_rejects_unknown_fields(api):
    answer = api.apply(f"{DEPLOYMENTS}/web", deployment(bogus=1), manager="m", fieldValidation="Strict")
    assert (answer.status_code, 'unknown field "spec.bogus"' in answer.json()["message"]) == (400, True)


def test_ignore_field_validation_accepts_unknown_fields(api):
    answer = api.apply(f"{DEPLOYMENTS}/web", deployment(bogus=1), manager="m", fieldValidation="Ignore")
    assert answer.status_code == 201


def test_managed_fields_are_recorded_per_manager(api):
    api.apply(f"{DEPLOYMENTS}/web", deployment(2), manager="mgr")
    api.patch(f"{DEPLOYMENTS}/web", {"metadata": {"labels": {"team": "a"}}}, "application/merge-patch+json",
              fieldManager="kubectl-label")
    entries = api.get(f"{DEPLOYMENTS}/web").json()["metadata"]["managedFields"]
    owners = {(e["manager"], e["operation"], e["fieldsType"]) for e in entries}
    assert {("mgr", "Apply", "FieldsV1"), ("kubectl-label", "Update", "FieldsV1")} <= owners


def test_defaults_are_filled_and_owned_by_nobody(api):
    stored = api.apply(f"{DEPLOYMENTS}/web", deployment(), manager="m").json()
    applied_fields = stored["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
    assert (stored["spec"]["strategy"]["type"], "f:strategy" in applied_fields) == ("RollingUpdate", False)


def test_crd_is_established_and_serves_its_custom_resources(api):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                                  "schema": {"openAPIV3Schema": {"type": "object",
                                                                 "x-kubernetes-preserve-unknown-fields": True}}}]}}
    created = api.apply("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com", crd,
                        manager="m").json()
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}}
    answer = api.apply("/apis/example.com/v1/namespaces/default/widgets/w", widget, manager="m")
    established = [c["status"] for c in created["status"]["conditions"] if c["type"] == "Established"]
    assert (established, answer.status_code, api.get("/apis/example.com/v1").json()["resources"][0]["name"]) == (
        ["True"], 201, "widgets")


def test_deleting_a_crd_stops_serving_it(api):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "things.example.com"},
           "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Thing", "plural": "things"},
                    "versions": [{"name": "v1", "served": True, "storage": True}]}}
    api.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    api.post("/apis/example.com/v1/things", {"apiVersion": "example.com/v1", "kind": "Thing",
                                             "metadata": {"name": "t"}})
    api.delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/things.example.com")
    assert api.get("/apis/example.com/v1/things").status_code == 404


def test_warn_field_validation_answers_a_warning_header(api):
    answer = api.apply(f"{DEPLOYMENTS}/web", deployment(bogus=1), manager="m", fieldValidation="Warn")
    assert (answer.status_code, answer.headers.get("Warning")) == (201, '299 - "unknown field \\"spec.bogus\\""')
