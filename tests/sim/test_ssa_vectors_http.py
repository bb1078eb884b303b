"""Every server-side apply vector of tests/data/ssa-vectors replayed over HTTP, defaulting off.

Follows "Replaying a vector" in the vectors' README: applies are PATCHes with
``application/apply-patch+yaml``; updates are POST (create) or PUT (replace); conflicts are compared
as sets of (manager, operation, field); the object is compared without server-set metadata; managed
fields are matched by (manager, operation) and compared as sets of parsed paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.sim import testing

VECTORS_DIR = Path(__file__).parents[1] / "data" / "ssa-vectors"
VECTORS = sorted(VECTORS_DIR.glob("*.json"))
SERVER_SET = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")


def fieldsv1_paths(node: dict[str, Any], prefix: tuple[Any, ...] = ()) -> set[tuple[Any, ...]]:
    out: set[tuple[Any, ...]] = set()
    for key, child in node.items():
        if key == ".":
            out.add(prefix)
            continue
        path = (*prefix, _element(key))
        out |= fieldsv1_paths(child, path) if child else {path}
    return out


def _element(key: str) -> Any:
    if key[:2] in ("k:", "v:"):
        return (key[:2], json.dumps(json.loads(key[2:]), sort_keys=True))
    return key


def managed_by_owner(entries: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[str, set[Any]]]:
    return {(e["manager"], e["operation"]): (e.get("apiVersion", ""), fieldsv1_paths(e.get("fieldsV1") or {}))
            for e in entries}


def without_server_set(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj["metadata"].items() if k not in SERVER_SET}
    return {**obj, "metadata": meta}


def conflict_set(status: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(manager, operation, field) of each cause; Update owners are named with "using <apiVersion>"."""
    out = set()
    for cause in status["details"]["causes"]:
        message = cause["message"]
        manager = message.split('"')[1]
        out.add((manager, "Update" if " using " in message else "Apply", cause["field"]))
    return out


@pytest.fixture(scope="module")
def server() -> Iterator[testing.RunningSim]:
    with testing.running(clusters=[], defaulting=False, controllers=False) as sim:
        yield sim


def object_path(cluster: Any, obj: dict[str, Any]) -> str:
    rt = cluster.registry.by_kind(obj["apiVersion"], obj["kind"])
    assert rt is not None, f"sim does not serve {obj['apiVersion']} {obj['kind']}"
    base = f"/api/{rt.version}" if not rt.group else f"/apis/{rt.group}/{rt.version}"
    namespace = obj["metadata"].get("namespace", "default")
    return f"{base}/namespaces/{namespace}/{rt.plural}" if rt.namespaced else f"{base}/{rt.plural}"


def send(api: Any, collection: str, step: dict[str, Any]) -> Any:
    obj, name = step["object"], step["object"]["metadata"]["name"]
    if step["op"] == "apply":
        return api.apply(f"{collection}/{name}", obj, manager=step["manager"], force=bool(step.get("force")))
    if api.get(f"{collection}/{name}").status_code == 404:
        return api.post(collection, obj, fieldManager=step["manager"])
    return api.put(f"{collection}/{name}", obj, fieldManager=step["manager"])


def check_step(api: Any, collection: str, step: dict[str, Any], where: str) -> None:
    answer, expected = send(api, collection, step), step["expected"]
    if expected["result"] == "conflict":
        assert answer.status_code == 409, f"{where}: expected a conflict, got {answer.status_code} {answer.text}"
        wanted = {(c["manager"], c["operation"], c["field"]) for c in expected["conflicts"]}
        assert conflict_set(answer.json()) == wanted, where
    else:
        assert answer.status_code in (200, 201), f"{where}: {answer.status_code} {answer.text}"
    stored = api.get(f"{collection}/{step['object']['metadata']['name']}").json()
    assert without_server_set(stored) == expected["object"], f"{where}: stored object"
    actual = managed_by_owner(stored["metadata"].get("managedFields") or [])
    assert actual == managed_by_owner(expected["managedFields"]), f"{where}: managedFields"


def test_the_vectors_are_there():
    assert len(VECTORS) >= 40, f"no SSA vectors found in {VECTORS_DIR}"


@pytest.mark.parametrize("path", VECTORS or [VECTORS_DIR / "missing.json"], ids=lambda p: p.stem)
def test_vector_replays_over_http(path: Path, server: testing.RunningSim, make_api: Any) -> None:
    vector = json.loads(path.read_text())
    cluster = server.server.add_cluster(vector["name"])
    api = make_api(server.server.url(vector["name"]), cluster.token)
    collection = object_path(cluster, vector["steps"][0]["object"])
    for number, step in enumerate(vector["steps"], start=1):
        check_step(api, collection, step, f"{vector['name']} step {number} ({step['op']} by {step['manager']})")


WEBHOOK_VECTORS = [p for p in VECTORS if "admissionregistration" in json.loads(p.read_text())["schemaType"]]
WEBHOOK_DEFAULTS = {
    "failurePolicy": "Fail",
    "matchPolicy": "Equivalent",
    "namespaceSelector": {},
    "objectSelector": {},
    "timeoutSeconds": 10,
}
"""kube-apiserver's defaults of a v1 webhook (pkg/apis/admissionregistration/v1/defaults.go)."""


def with_webhook_defaults(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as kube-apiserver stores it: webhook, rule and service-reference defaults filled in."""
    hooks = []
    for hook in obj.get("webhooks") or []:
        client = dict(hook.get("clientConfig") or {})
        if "service" in client:
            client["service"] = {"port": 443, **client["service"]}
        rules = [{"scope": "*", **rule} for rule in hook.get("rules") or []]
        hooks.append({**WEBHOOK_DEFAULTS, **hook, "clientConfig": client, "rules": rules})
    return {**obj, "webhooks": hooks}


@pytest.fixture(scope="module")
def defaulting_server() -> Iterator[testing.RunningSim]:
    with testing.running(clusters=[], defaulting=True, controllers=False) as sim:
        yield sim


def test_there_are_webhook_vectors():
    assert len(WEBHOOK_VECTORS) >= 2


@pytest.mark.parametrize("path", WEBHOOK_VECTORS, ids=lambda p: p.stem)
def test_webhook_vector_replays_with_defaulting(
    path: Path, defaulting_server: testing.RunningSim, make_api: Any
) -> None:
    """Defaults are owned by nobody, so the managed fields are the vector's; the object gains the defaults."""
    vector = json.loads(path.read_text())
    cluster = defaulting_server.server.add_cluster(vector["name"])
    api = make_api(defaulting_server.server.url(vector["name"]), cluster.token)
    collection = object_path(cluster, vector["steps"][0]["object"])
    for number, step in enumerate(vector["steps"], start=1):
        where = f"{vector['name']} step {number}"
        answer, expected = send(api, collection, step), step["expected"]
        assert answer.status_code in (200, 201), f"{where}: {answer.status_code} {answer.text}"
        stored = api.get(f"{collection}/{step['object']['metadata']['name']}").json()
        assert without_server_set(stored) == with_webhook_defaults(expected["object"]), where
        actual = managed_by_owner(stored["metadata"].get("managedFields") or [])
        assert actual == managed_by_owner(expected["managedFields"]), f"{where}: managedFields"
