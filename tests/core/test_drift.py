"""core.drift and core.drift_views: table-driven, plain data, one assert per case.

The live objects mimic what the sim (and kube-apiserver) returns after ``stackfleet`` applied the
desired object and someone else touched it: managedFields entries per manager with FieldsV1 tries.
"""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from reconciler.core import drift, drift_views
from reconciler.core.desired import BundleId, IgnoreRule
from reconciler.core.live import LiveCluster
from reconciler.core.objects import ObjectKey
from reconciler.core.statuses import Reachability

BUNDLE = BundleId("eu-1", "platform", "web")
NOW = "2026-01-02T03:04:05+00:00"
EARLIER = "2026-01-01T00:00:00+00:00"
CANARY = "canary-Zq81-secret-value"


def deployment(*, replicas: int = 2, image: str = "nginx:1.25", cpu: str = "500m") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": image, "resources": {"requests": {"cpu": cpu}}},
                        {"name": "sidecar", "image": "proxy:1"},
                    ]
                },
            },
        },
    }


OURS = {
    "f:metadata": {"f:labels": {"f:app": {}}},
    "f:spec": {
        "f:replicas": {},
        "f:selector": {},
        "f:template": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:containers": {
                    'k:{"name":"web"}': {
                        ".": {},
                        "f:image": {},
                        "f:name": {},
                        "f:resources": {"f:requests": {"f:cpu": {}}},
                    },
                    'k:{"name":"sidecar"}': {".": {}, "f:image": {}, "f:name": {}},
                }
            },
        },
    },
}


def managed(
    manager: str, fields: dict[str, Any], *, operation: str = "Update", time: str = EARLIER
) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": operation,
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }


def live_of(obj: dict[str, Any], *entries: dict[str, Any], ours: dict[str, Any] = OURS) -> dict[str, Any]:
    """``obj`` as the server returns it: server metadata, defaults, status and managedFields."""
    out = copy.deepcopy(obj)
    out["metadata"].update(uid="u-1", resourceVersion="7", creationTimestamp=EARLIER)
    out["metadata"]["managedFields"] = [managed("stackfleet", ours, operation="Apply"), *entries]
    if out["kind"] == "Deployment":
        out["spec"].setdefault("progressDeadlineSeconds", 600)
        out["spec"]["template"]["spec"]["containers"][0].setdefault("imagePullPolicy", "IfNotPresent")
        out["status"] = {"replicas": out["spec"]["replicas"]}
    return out


def without(trie: dict[str, Any], *path: str) -> dict[str, Any]:
    """``trie`` with the node at ``path`` removed (the field moved to another manager)."""
    out = copy.deepcopy(trie)
    node = out
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return out


def scan_one(applied: dict[str, Any], live: dict[str, Any] | None, **kw: Any) -> drift.Report:
    cluster = LiveCluster.reachable("eu-1", objects=[live] if live is not None else [])
    item = drift.Applied("eu-1", BUNDLE, drift.seal(applied), **kw)
    return drift.scan(applied=[item], live={"eu-1": cluster}, first_seen={}, now=NOW)


def kinds(report: drift.Report) -> list[str]:
    return [e.kind.value for e in report.entries]


REPLICAS_TAKEN = live_of(
    deployment(replicas=5),
    managed("kubectl-patch", {"f:spec": {"f:replicas": {}}}, time="2026-01-01T10:00:00Z"),
    ours=without(OURS, "f:spec", "f:replicas"),
)
IMAGE_TAKEN = live_of(
    deployment(image="nginx:1.26"),
    managed(
        "kubectl-set",
        {"f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"web"}': {"f:image": {}}}}}}},
    ),
    ours=without(OURS, "f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"web"}', "f:image"),
)
FOREIGN_LABEL = live_of(
    {**deployment(), "metadata": {**deployment()["metadata"], "labels": {"app": "web", "team": "x"}}},
    managed("kubectl-label", {"f:metadata": {"f:labels": {"f:team": {}}}}),
)
DEFAULT_CHANGED = live_of(
    {**deployment(), "spec": {**deployment()["spec"], "progressDeadlineSeconds": 100}},
    managed("kubectl-patch", {"f:spec": {"f:progressDeadlineSeconds": {}}}),
)
EXTRA_CONTAINER = copy.deepcopy(live_of(deployment()))
EXTRA_CONTAINER["spec"]["template"]["spec"]["containers"].append({"name": "debug", "image": "busybox"})
EXTRA_CONTAINER["metadata"]["managedFields"].append(
    managed(
        "kubectl-debug",
        {
            "f:spec": {
                "f:template": {"f:spec": {"f:containers": {'k:{"name":"debug"}': {".": {}, "f:image": {}}}}}
            }
        },
    )
)
LABEL_REMOVED = live_of(
    {**deployment(), "metadata": {**deployment()["metadata"], "labels": {}}},
    managed("kubectl-edit", {"f:spec": {}}, time="2026-01-01T11:00:00Z"),
    ours=without(OURS, "f:metadata"),
)

DETECTION = [
    pytest.param(deployment(), live_of(deployment()), [], id="unchanged-is-no-drift"),
    pytest.param(deployment(), REPLICAS_TAKEN, ["modified"], id="owned-field-changed-by-another-manager"),
    pytest.param(deployment(), None, ["missing"], id="deleted-out-of-band-is-missing"),
    pytest.param(deployment(), FOREIGN_LABEL, [], id="field-of-another-manager-is-not-drift"),
    pytest.param(deployment(), DEFAULT_CHANGED, [], id="server-defaulted-field-changed-is-not-drift"),
    pytest.param(deployment(), EXTRA_CONTAINER, [], id="list-element-of-another-manager-is-not-drift"),
    pytest.param(deployment(), IMAGE_TAKEN, ["modified"], id="named-list-element-field-changed"),
    pytest.param(deployment(), LABEL_REMOVED, ["modified"], id="owned-label-removed-behind-our-back"),
    pytest.param(
        deployment(cpu="1"), live_of(deployment(cpu="1000m")), [], id="equal-quantities-are-no-drift"
    ),
]


@pytest.mark.parametrize(("applied", "live", "expected"), DETECTION)
def test_detection(applied: dict[str, Any], live: dict[str, Any] | None, expected: list[str]) -> None:
    assert kinds(scan_one(applied, live)) == expected


ATTRIBUTION = [
    pytest.param(
        REPLICAS_TAKEN, [("/spec/replicas", "kubectl-patch", "Update")], id="new-owner-of-the-field"
    ),
    pytest.param(
        IMAGE_TAKEN,
        [("/spec/template/spec/containers/1/image", "kubectl-set", "Update")],
        id="owner-of-a-list-element-field (views sort containers by name)",
    ),
    pytest.param(
        LABEL_REMOVED,
        [("/metadata/labels", "kubectl-edit", "Update")],
        id="removed-field-goes-to-the-last-writer",
    ),
]


@pytest.mark.parametrize(("live", "expected"), ATTRIBUTION)
def test_attribution(live: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    entry = scan_one(deployment(), live).entries[0]
    assert [(f.path, f.manager.name, f.manager.operation) for f in entry.fields] == expected


def secret(value: str, *, field: str = "data") -> dict[str, Any]:
    encoded = base64.b64encode(value.encode()).decode() if field == "data" else value
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "apps"},
        field: {"password": encoded},
    }


SECRET_OURS = {"f:data": {"f:password": {}}}
SECRET_CHANGED = live_of(
    secret(CANARY + "-new"),
    managed("kubectl-edit", {"f:data": {"f:password": {}}}),
    ours={},
)


def secret_sinks(report: drift.Report) -> str:
    return drift_views.text(report, detail=True) + drift_views.markdown(report) + drift_views.json(report)


SECRETS = [
    pytest.param(secret(CANARY), live_of(secret(CANARY), ours=SECRET_OURS), 0, id="same-secret-is-no-drift"),
    pytest.param(
        secret(CANARY, field="stringData"),
        live_of(secret(CANARY), ours=SECRET_OURS),
        0,
        id="stringData-equals-data",
    ),
    pytest.param(secret(CANARY), SECRET_CHANGED, 1, id="changed-secret-is-drift"),
]


@pytest.mark.parametrize(("applied", "live", "expected"), SECRETS)
def test_secret_drift(applied: dict[str, Any], live: dict[str, Any], expected: int) -> None:
    assert len(scan_one(applied, live).entries) == expected


@pytest.mark.parametrize(
    "encode", [lambda v: v, lambda v: base64.b64encode(v.encode()).decode()], ids=["plain", "b64"]
)
def test_secret_values_reach_no_view(encode: Any) -> None:
    report = scan_one(secret(CANARY), SECRET_CHANGED)
    assert encode(CANARY) not in secret_sinks(report) + json.dumps(drift.seal(secret(CANARY)))


def test_sealed_objects_keep_no_secret_value() -> None:
    assert CANARY not in json.dumps(drift.seal(secret(CANARY, field="stringData")))


def test_ignore_rules_hide_fields() -> None:
    rule = IgnoreRule(pointers=("/spec/replicas",), kind="Deployment")
    assert scan_one(deployment(), REPLICAS_TAKEN, ignore=(rule,)).entries == ()


def test_unreachable_cluster_is_listed_not_reported() -> None:
    down = LiveCluster.unreachable("eu-1", reason="connection refused", status=Reachability.UNREACHABLE)
    item = drift.Applied("eu-1", BUNDLE, deployment())
    report = drift.scan(applied=[item], live={"eu-1": down}, first_seen={}, now=NOW)
    assert (report.entries, dict(report.unreachable)) == ((), {"eu-1": "unreachable: connection refused"})


def test_first_seen_is_kept() -> None:
    cluster = LiveCluster.reachable("eu-1", objects=[])
    item = drift.Applied("eu-1", BUNDLE, deployment())
    key = ObjectKey("apps", "Deployment", "apps", "web")
    report = drift.scan(
        applied=[item], live={"eu-1": cluster}, first_seen={("eu-1", BUNDLE, key): EARLIER}, now=NOW
    )
    assert (report.entries[0].first_seen, report.entries[0].last_seen) == (EARLIER, NOW)


def test_self_heal_lists_only_self_heal_bundles() -> None:
    healing = BundleId("eu-1", "platform", "healing")
    cluster = LiveCluster.reachable("eu-1", objects=[])
    other = {**deployment(), "metadata": {"name": "api", "namespace": "apps"}}
    items = [
        drift.Applied("eu-1", BUNDLE, deployment()),
        drift.Applied("eu-1", healing, other, self_heal=True),
    ]
    report = drift.scan(applied=items, live={"eu-1": cluster}, first_seen={}, now=NOW)
    assert [e.bundle for e in drift.to_heal(report.entries)] == [healing]


VIEWS = [
    pytest.param(lambda r: drift_views.text(r), "kubectl-patch (Update)", id="text-names-the-manager"),
    pytest.param(lambda r: drift_views.markdown(r), "| eu-1 | eu-1/platform/web |", id="markdown-table-row"),
    pytest.param(lambda r: json.loads(drift_views.json(r))["counts"]["modified"], 1, id="json-counts"),
    pytest.param(lambda r: drift_views.text(r, detail=True), "-  replicas: 5", id="text-detail-has-the-diff"),
]


@pytest.mark.parametrize(("view", "expected"), VIEWS)
def test_views(view: Any, expected: Any) -> None:
    shown = view(scan_one(deployment(), REPLICAS_TAKEN))
    assert expected in shown if isinstance(expected, str) else shown == expected


def test_markdown_escapes_markup_outside_code_fences() -> None:
    hostile = {**deployment(), "metadata": {"name": "<script>x</script>", "namespace": "apps"}}
    shown = drift_views.markdown(scan_one(hostile, None))
    outside = "".join(shown.split("```")[0::2])
    assert "<script>" not in outside


def test_no_drift_headline() -> None:
    assert drift_views.text(scan_one(deployment(), live_of(deployment()))).startswith(
        "No drift in 1 object(s)"
    )
