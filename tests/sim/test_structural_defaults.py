"""Custom resources get their CRD's structural defaults and lose undeclared fields, as kube-apiserver
does: on create, on update and on apply (where nobody owns a default)."""

from __future__ import annotations

import copy
from pathlib import Path

from reconciler.sim import structurals
from reconciler.spec import yamldocs

CRD_FILE = Path(__file__).parents[1] / "data/charts/operator-crds/crds/alertrules.yaml"
CRD = yamldocs.load_one(CRD_FILE.read_bytes(), file=str(CRD_FILE)).data  # a plain = in it: go-yaml semantics
RULES = "/apis/monitoring.example.dev/v1/namespaces/default/alertrules"


def rule(**spec) -> dict:
    return {"apiVersion": "monitoring.example.dev/v1", "kind": "AlertRule", "metadata": {"name": "r"}, "spec": spec}


def schema() -> dict:
    return structurals.version_schema(CRD, "v1")


def test_defaults_fill_absent_fields_and_list_items() -> None:
    out = structurals.default_and_prune(rule(matchers=[{"name": "a"}, {"name": "b", "matchType": "=~"}]), schema())
    assert out["spec"] == {"matchers": [{"name": "a", "matchType": "="}, {"name": "b", "matchType": "=~"}],
                           "severity": "warning", "repeatInterval": "4h"}


def test_undeclared_fields_are_pruned_and_identity_kept() -> None:
    out = structurals.default_and_prune({**rule(severity="page", bogus=1), "extra": True}, schema())
    assert out == {**rule(severity="page", repeatInterval="4h")}


def test_preserve_unknown_fields_keeps_them() -> None:
    node = {"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
    assert structurals.default_and_prune(rule(anything={"x": 1}), node)["spec"] == {"anything": {"x": 1}}


def test_a_create_owns_the_defaults_it_got_as_an_update_does(api) -> None:
    assert api.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD).status_code == 201
    created = api.post(RULES, rule(matchers=[{"name": "a"}], bogus=1), fieldValidation="Ignore", fieldManager="ci")
    [entry] = created.json()["metadata"]["managedFields"]
    assert (created.json()["spec"], sorted(entry["fieldsV1"]["f:spec"])) == (
        {"matchers": [{"name": "a", "matchType": "="}], "severity": "warning", "repeatInterval": "4h"},
        [".", "f:matchers", "f:repeatInterval", "f:severity"])


def test_an_apply_gets_the_defaults_and_owns_none_of_them(api) -> None:
    assert api.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD).status_code == 201
    answer = api.apply(f"{RULES}/r", rule(matchers=[{"name": "a"}]), manager="gitops")
    [entry] = answer.json()["metadata"]["managedFields"]
    assert (answer.status_code, answer.json()["spec"], entry["fieldsV1"]["f:spec"]) == (
        201, {"matchers": [{"name": "a", "matchType": "="}], "severity": "warning", "repeatInterval": "4h"},
        {"f:matchers": {}})


def test_a_default_added_to_the_crd_later_shows_on_read_without_a_write(api) -> None:
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    first = copy.deepcopy(CRD)
    spec_schema = first["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    del spec_schema["severity"]["default"]
    assert api.post(crds, first).status_code == 201
    before = api.post(RULES, rule(severity=None, matchers=[])).json()
    crd = api.get(f"{crds}/{CRD['metadata']['name']}").json()
    crd["spec"]["versions"][0]["schema"] = CRD["spec"]["versions"][0]["schema"]
    assert api.put(f"{crds}/{CRD['metadata']['name']}", crd).status_code == 200
    after = api.get(f"{RULES}/r").json()
    assert ("severity" in before["spec"], after["spec"]["severity"],
            after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]) == (False, "warning", True)
