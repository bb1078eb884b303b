"""RELIABILITY.md, area secrets: Secret values are masked in every sink, also when a Secret is invalid."""

from __future__ import annotations

import base64

from kubernetes import client as kube

from reconciler.core import rollout

AREA = "secrets"
PAGES = ("/", "/clusters/c0", "/clusters/c1", "/drift", "/plans", "/revisions", "/events")
API = ("/api/v1/clusters", "/api/v1/clusters/c0", "/api/v1/bundles", "/api/v1/drift", "/api/v1/plans",
       "/api/v1/revisions", "/api/v1/events")


def visit_everything(rig, plan_id: str) -> None:
    """Every page and API answer, each drift entry's page and the saved plan's page, with a read token."""
    with rig.dashboard() as client:
        headers = {"Authorization": f"Bearer {rig.read_token}"}
        for path in (*PAGES, *API, f"/plans/{plan_id}", f"/api/v1/plans/{plan_id}"):
            assert client.get(path, headers=headers).status_code == 200, path
        for entry in client.get("/api/v1/drift", headers=headers).json()["entries"]:
            assert client.get(entry["url"], headers=headers).status_code == 200


def test_secret_values_are_masked_in_plans_reports_drift_pages_rows_and_debug_logs(rig, captured_logs):
    first = rig.plan()
    secret = next(c for c in first.plan.changes if c.key.kind == "Secret")
    assert "masked" in secret.diff or secret.sealed, secret
    rig.converge()
    core = kube.CoreV1Api(rig.running.api_client("c1"))
    core.patch_namespaced_secret("app-secret", "apps", {"data": {"payload": base64.b64encode(b"x").decode()}},
                                 field_manager="intruder")
    found = rig.scan_drift()
    assert [(e.dest, e.key.name) for e in found.entries] == [("c1", "app-secret")]
    rig.keep("diff", found.entries[0].diff)
    rig.store.plans.save("plan-rely-1", rig.plan().plan)
    visit_everything(rig, "plan-rely-1")
    assert any(e.get("level") == "debug" for e in captured_logs.events())  # the scan ran with debug lines on
    rig.check(area=AREA, logs_text=captured_logs.text())


def test_an_invalid_secret_is_refused_without_its_value_in_the_error(applied, captured_logs):
    bad = "!!" + applied.canary + "!!"
    applied.write("stacks/apps/1.0.0/secrets/broken.yaml",
                  f"apiVersion: v1\nkind: Secret\nmetadata: {{name: broken}}\ndata: {{payload: '{bad}'}}\n")
    planned = applied.plan()
    failures = [f for f in planned.render.failures if f.id.bundle == "secrets"]
    assert len(failures) == 3
    assert "file=stacks/apps/1.0.0/secrets/broken.yaml, line=4" in failures[0].error and "payload" in failures[0].error
    for failure in failures:
        applied.keep("errors", failure.error)
    report = applied.apply(planned)
    assert {o.result for o in report.outcomes} == {rollout.Result.UNCHANGED}  # nothing written, nothing pruned
    applied.check(area=AREA, logs_text=captured_logs.text())
