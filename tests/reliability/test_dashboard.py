"""RELIABILITY.md, area dashboard: no page without a token (but health), hostile text escaped, CSP set."""

from __future__ import annotations

from kubernetes import client as kube
from starlette.routing import Mount, Route

from reconciler.web import apps

AREA = "dashboard"
OPEN = {"/healthz", "/readyz", "/login", "/logout", "/login/oidc", "/login/oidc/callback"}  # the login routes
HOSTILE = "<script>alert('owned')</script>"


def concrete_paths() -> list[tuple[str, str]]:
    """(method, path) of every route of the app, path parameters filled in."""
    found: list[tuple[str, str]] = []
    for route in apps.routes():
        if isinstance(route, Mount) and route.path == "/api/v1":
            found += [(m, "/api/v1" + fill(r.path)) for r in route.routes if isinstance(r, Route) for m in r.methods]
        elif isinstance(route, Route):
            found += [(m, fill(route.path)) for m in route.methods]
    return sorted({(m, p) for m, p in found if m != "HEAD"})


def fill(path: str) -> str:
    for name, value in {"name": "c0", "cluster": "c0", "owner": "c0", "stack": "apps", "bundle": "config",
                        "plan_id": "p1", "provider": "github"}.items():
        path = path.replace("{" + name + "}", value)
    return path


def test_every_route_but_health_refuses_a_request_without_a_token(applied, figures, captured_logs):
    paths = [(m, p) for m, p in concrete_paths() if p not in OPEN and not p.startswith("/hooks/")]
    with applied.dashboard() as client:
        codes = {(m, p): client.request(m, p).status_code for m, p in paths}
        health = client.get("/healthz")
    figures.bad_inputs_tried += len(codes)
    figures.bad_inputs_rejected += sum(1 for c in codes.values() if c == 401)
    assert {k: c for k, c in codes.items() if c != 401} == {}
    assert len(codes) >= 15 and health.status_code == 200
    applied.check(area=AREA, logs_text=captured_logs.text())


def test_hostile_text_in_a_drift_diff_is_escaped_under_a_strict_csp(applied, captured_logs):
    core = kube.CoreV1Api(applied.running.api_client("c0"))
    core.patch_namespaced_config_map("cm-0", "apps", {"data": {"index": HOSTILE}}, field_manager="intruder")
    [entry] = applied.scan_drift().entries
    assert HOSTILE in entry.diff
    headers = {"Authorization": f"Bearer {applied.read_token}"}
    with applied.dashboard() as client:
        url = client.get("/api/v1/drift", headers=headers).json()["entries"][0]["url"]
        answers = [client.get(p, headers=headers) for p in ("/", "/drift", "/clusters/c0", url)]
    for answer in answers:
        assert answer.status_code == 200
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "<script>alert" not in answer.text
    assert "&lt;script&gt;alert" in answers[-1].text
    applied.check(area=AREA, logs_text=captured_logs.text())
