"""Server-side apply cases written from the Kubernetes documentation on server-side apply.

Each case runs a few requests against the built-in schema and checks one thing: who owns what,
what was removed or kept, how lists and maps merge, conflicts and force.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from reconciler.sim import ssa
from reconciler.sim.ssa import fieldpaths, validation

NOW = "2026-01-01T00:00:00Z"
LATER = "2026-01-01T00:05:00Z"
Obj = dict[str, Any]


def deployment(spec: Obj | None = None, **meta: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", **meta},
        "spec": spec or {},
    }


def pod_spec(*containers: Obj, **extra: Any) -> Obj:
    return {"template": {"spec": {"containers": list(containers), **extra}}}


def nginx(**extra: Any) -> Obj:
    return {"name": "nginx", "image": "nginx:1.25", **extra}


@dataclass(frozen=True)
class Step:
    op: str
    manager: str
    obj: Obj
    force: bool = False


def apply(manager: str, obj: Obj, *, force: bool = False) -> Step:
    return Step("apply", manager, obj, force)


def update(manager: str, obj: Obj) -> Step:
    return Step("update", manager, obj)


def run(steps: list[Step], schema: ssa.Schema | None = None) -> Obj:
    manager = ssa.FieldManager(schema or ssa.builtin_schema())
    live: Obj | None = None
    for step in steps:
        if step.op == "apply":
            live = manager.apply(live, step.obj, manager=step.manager, force=step.force, now=NOW).object
        else:
            live = manager.update(live, step.obj, manager=step.manager, now=NOW).object
    assert live is not None
    return live


def owned(obj: Obj, manager: str, operation: str = "Apply") -> set[str]:
    """The dotted paths (``spec.replicas``) ``manager`` owns."""
    for entry in obj["metadata"].get("managedFields", []):
        if (entry["manager"], entry["operation"]) == (manager, operation):
            return {fieldpaths.to_string(p) for p in fieldpaths.decode(entry["fieldsV1"])}
    return set()


def owners(obj: Obj) -> list[tuple[str, str]]:
    return [(e["manager"], e["operation"]) for e in obj["metadata"].get("managedFields", [])]


def containers(obj: Obj) -> list[str]:
    return [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]]


@dataclass(frozen=True)
class Case:
    name: str
    steps: list[Step]
    probe: Callable[[Obj], Any]
    expected: Any


CASES = [
    Case(
        "applier-owns-exactly-what-it-sent",
        [apply("ci", deployment({"replicas": 2}, labels={"app": "web"}))],
        lambda o: owned(o, "ci"),
        {".metadata.labels.app", ".spec.replicas"},
    ),
    Case(
        "dropping-a-field-you-alone-own-removes-it",
        [apply("ci", deployment({"replicas": 2, "paused": False})), apply("ci", deployment({"replicas": 2}))],
        lambda o: "paused" in o["spec"],
        False,
    ),
    Case(
        "dropping-a-shared-field-keeps-it-for-the-other-owner",
        [
            apply("ci", deployment({"replicas": 2})),
            apply("ops", deployment({"replicas": 2})),
            apply("ci", deployment({}, labels={"a": "b"})),
        ],
        lambda o: (
            o["spec"].get("replicas"),
            ".spec.replicas" in owned(o, "ops"),
            ".spec.replicas" in owned(o, "ci"),
        ),
        (2, True, False),
    ),
    Case(
        "force-moves-ownership-to-the-forcing-applier",
        [apply("ci", deployment({"replicas": 2})), apply("ops", deployment({"replicas": 5}), force=True)],
        lambda o: (o["spec"]["replicas"], owned(o, "ops"), owners(o)),
        (5, {".spec.replicas"}, [("ops", "Apply")]),
    ),
    Case(
        "an-update-takes-fields-without-conflict",
        [apply("ci", deployment({"replicas": 2})), update("kubectl-scale", deployment({"replicas": 7}))],
        lambda o: (owned(o, "kubectl-scale", "Update"), owned(o, "ci")),
        ({".spec.replicas"}, set()),
    ),
    Case(
        "an-applier-that-drops-a-field-now-owned-by-a-controller-leaves-the-value",
        [
            apply("ci", deployment({"replicas": 2, "paused": False})),
            update("hpa", deployment({"replicas": 9, "paused": False})),
            apply("ci", deployment({"paused": False})),
        ],
        lambda o: o["spec"]["replicas"],
        9,
    ),
    Case(
        "containers-merge-by-name-across-appliers",
        [
            apply("ci", deployment(pod_spec(nginx()))),
            apply("mesh", deployment(pod_spec({"name": "proxy", "image": "envoy"}))),
        ],
        containers,
        ["nginx", "proxy"],
    ),
    Case(
        "each-applier-owns-only-its-own-container",
        [
            apply("ci", deployment(pod_spec(nginx()))),
            apply("mesh", deployment(pod_spec({"name": "proxy", "image": "envoy"}))),
        ],
        lambda o: owned(o, "mesh"),
        {
            '.spec.template.spec.containers[name="proxy"]',
            '.spec.template.spec.containers[name="proxy"].name',
            '.spec.template.spec.containers[name="proxy"].image',
        },
    ),
    Case(
        "an-applier-removing-its-container-removes-only-that-container",
        [
            apply("ci", deployment(pod_spec(nginx()))),
            apply("mesh", deployment(pod_spec({"name": "proxy", "image": "envoy"}))),
            apply("mesh", deployment({}, labels={"mesh": "on"})),
        ],
        containers,
        ["nginx"],
    ),
    Case(
        "finalizers-are-a-set-merged-across-appliers",
        [
            apply("ci", deployment(finalizers=["a.example.com/x"])),
            apply("backup", deployment(finalizers=["b.example.com/y", "a.example.com/x"])),
        ],
        lambda o: o["metadata"]["finalizers"],
        ["a.example.com/x", "b.example.com/y"],
    ),
    Case(
        "labels-merge-per-key",
        [apply("ci", deployment(labels={"app": "web"})), apply("ops", deployment(labels={"team": "blue"}))],
        lambda o: o["metadata"]["labels"],
        {"app": "web", "team": "blue"},
    ),
    Case(
        "an-atomic-list-is-owned-as-one-field",
        [apply("ci", deployment(pod_spec(nginx(args=["--a", "--b"]))))],
        lambda o: {p for p in owned(o, "ci") if "args" in p},
        {'.spec.template.spec.containers[name="nginx"].args'},
    ),
    Case(
        "port-protocol-defaults-to-tcp-in-the-key",
        [apply("ci", deployment(pod_spec(nginx(ports=[{"containerPort": 80}]))))],
        lambda o: (
            '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"]'
            in owned(o, "ci")
        ),
        True,
    ),
    Case(
        "an-update-that-changes-nothing-records-no-manager",
        [apply("ci", deployment({"replicas": 2})), update("noop", deployment({"replicas": 2}))],
        owners,
        [("ci", "Apply")],
    ),
    Case(
        "an-apply-of-only-identity-records-no-manager",
        [
            apply("ci", deployment({"replicas": 2})),
            apply("empty", {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
        ],
        owners,
        [("ci", "Apply")],
    ),
    Case(
        "apply-entries-come-before-update-entries",
        [update("creator", deployment({"paused": True})), apply("ci", deployment({"replicas": 2}))],
        owners,
        [("ci", "Apply"), ("creator", "Update")],
    ),
    Case(
        "identity-fields-are-never-owned",
        [update("creator", deployment({"replicas": 1}))],
        lambda o: (
            owned(o, "creator", "Update") & {".apiVersion", ".kind", ".metadata.name", ".metadata.namespace"}
        ),
        set(),
    ),
    Case(
        "custom-resources-without-schema-merge-maps-per-key",
        [
            apply(
                "a",
                {
                    "apiVersion": "example.com/v1",
                    "kind": "Widget",
                    "metadata": {"name": "w"},
                    "spec": {"x": 1},
                },
            ),
            apply(
                "b",
                {
                    "apiVersion": "example.com/v1",
                    "kind": "Widget",
                    "metadata": {"name": "w"},
                    "spec": {"y": 2},
                },
            ),
        ],
        lambda o: o["spec"],
        {"x": 1, "y": 2},
    ),
    Case(
        "custom-resources-without-schema-own-lists-whole",
        [
            apply(
                "a",
                {
                    "apiVersion": "example.com/v1",
                    "kind": "Widget",
                    "metadata": {"name": "w"},
                    "spec": {"l": [1, 2]},
                },
            )
        ],
        lambda o: owned(o, "a"),
        {".spec", ".spec.l"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case) -> None:
    assert case.probe(run(case.steps)) == case.expected


@dataclass(frozen=True)
class ConflictCase:
    name: str
    steps: list[Step]
    conflicting: Step
    expected: set[tuple[str, str, str]]


CONFLICTS = [
    ConflictCase(
        "changing-a-value-another-applier-owns",
        [apply("ci", deployment({"replicas": 2}))],
        apply("ops", deployment({"replicas": 3})),
        {("ci", "Apply", ".spec.replicas")},
    ),
    ConflictCase(
        "changing-a-value-an-updater-owns",
        [apply("ci", deployment({"replicas": 2})), update("kubectl-scale", deployment({"replicas": 4}))],
        apply("ci", deployment({"replicas": 2})),
        {("kubectl-scale", "Update", ".spec.replicas")},
    ),
    ConflictCase(
        "apply-and-update-entries-of-one-manager-are-separate-owners",
        [apply("ci", deployment({"replicas": 2})), update("ci", deployment({"replicas": 4}))],
        apply("ci", deployment({"replicas": 2})),
        {("ci", "Update", ".spec.replicas")},
    ),
    ConflictCase(
        "an-atomic-list-conflicts-whole",
        [apply("ci", deployment(pod_spec(nginx(args=["--a"]))))],
        apply("ops", deployment(pod_spec(nginx(args=["--b"])))),
        {("ci", "Apply", '.spec.template.spec.containers[name="nginx"].args')},
    ),
    ConflictCase(
        "an-atomic-map-conflicts-whole",
        [apply("ci", deployment(pod_spec(nginx(), nodeSelector={"disk": "ssd"})))],
        apply("ops", deployment(pod_spec(nginx(), nodeSelector={"zone": "a"}))),
        {("ci", "Apply", ".spec.template.spec.nodeSelector")},
    ),
    ConflictCase(
        "a-label-selector-is-atomic",
        [apply("ci", deployment({"selector": {"matchLabels": {"app": "web"}}}))],
        apply("ops", deployment({"selector": {"matchLabels": {"app": "web", "tier": "x"}}})),
        {("ci", "Apply", ".spec.selector")},
    ),
    ConflictCase(
        "every-conflict-is-reported",
        [apply("ci", deployment({"replicas": 2, "paused": False}))],
        apply("ops", deployment({"replicas": 3, "paused": True})),
        {("ci", "Apply", ".spec.replicas"), ("ci", "Apply", ".spec.paused")},
    ),
]


@pytest.mark.parametrize("case", CONFLICTS, ids=lambda c: c.name)
def test_conflict(case: ConflictCase) -> None:
    manager = ssa.FieldManager(ssa.builtin_schema())
    live = run(case.steps)
    step = case.conflicting
    with pytest.raises(ssa.ApplyConflict) as caught:
        manager.apply(live, step.obj, manager=step.manager, force=False, now=NOW)
    assert {(c.manager, c.operation, c.field) for c in caught.value.causes} == case.expected


MESSAGES = [
    (
        "one-conflict",
        [apply("ci", deployment({"replicas": 2}))],
        deployment({"replicas": 3}),
        'Apply failed with 1 conflict: conflict with "ci": .spec.replicas',
    ),
    (
        "update-owner-named-with-its-api-version",
        [apply("ci", deployment({"replicas": 2})), update("kubectl-scale", deployment({"replicas": 4}))],
        deployment({"replicas": 3}),
        'Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas',
    ),
    (
        "several-conflicts-grouped-by-owner",
        [apply("ci", deployment({"replicas": 2, "paused": False}))],
        deployment({"replicas": 3, "paused": True}),
        'Apply failed with 2 conflicts: conflicts with "ci"\n- .spec.paused\n- .spec.replicas',
    ),
]


@pytest.mark.parametrize(("name", "steps", "config", "message"), MESSAGES, ids=[m[0] for m in MESSAGES])
def test_conflict_message(name: str, steps: list[Step], config: Obj, message: str) -> None:
    with pytest.raises(ssa.ApplyConflict) as caught:
        ssa.FieldManager(ssa.builtin_schema()).apply(run(steps), config, manager="ops", force=False, now=NOW)
    assert str(caught.value) == message


def test_a_conflicting_apply_leaves_the_object_alone() -> None:
    live = run([apply("ci", deployment({"replicas": 2}))])
    before = copy.deepcopy(live)
    with pytest.raises(ssa.ApplyConflict):
        ssa.FieldManager(ssa.builtin_schema()).apply(
            live, deployment({"replicas": 3, "paused": True}), manager="ops", force=False, now=NOW
        )
    assert live == before


def test_reapplying_the_same_config_changes_nothing() -> None:
    manager = ssa.FieldManager(ssa.builtin_schema())
    config = deployment(pod_spec(nginx()), labels={"app": "web"})
    first = manager.apply(None, config, manager="ci", force=False, now=NOW).object
    assert manager.apply(first, config, manager="ci", force=False, now=LATER) == ssa.Outcome(
        first, False, False
    )


def test_a_same_value_apply_by_a_new_manager_changes_only_managed_fields() -> None:
    manager = ssa.FieldManager(ssa.builtin_schema())
    first = manager.apply(None, deployment({"replicas": 2}), manager="ci", force=False, now=NOW).object
    outcome = manager.apply(first, deployment({"replicas": 2}), manager="ops", force=False, now=LATER)
    assert (outcome.changed, outcome.content_changed) == (True, False)


def test_the_acting_owner_gets_the_request_time() -> None:
    manager = ssa.FieldManager(ssa.builtin_schema())
    first = manager.apply(None, deployment({"replicas": 2}), manager="ci", force=False, now=NOW).object
    second = manager.apply(first, deployment({"replicas": 3}), manager="ci", force=False, now=LATER).object
    assert [e["time"] for e in second["metadata"]["managedFields"]] == [LATER]


def test_server_set_metadata_is_carried_over_from_live() -> None:
    manager = ssa.FieldManager(ssa.builtin_schema())
    first = manager.apply(None, deployment({"replicas": 2}), manager="ci", force=False, now=NOW).object
    first["metadata"].update(uid="u-1", resourceVersion="7", generation=1)
    config = deployment({"replicas": 3}, uid="forged", resourceVersion="1")
    meta = manager.apply(first, config, manager="ci", force=False, now=NOW).object["metadata"]
    assert (meta["uid"], meta["resourceVersion"], meta["generation"]) == ("u-1", "7", 1)


def _defaulting_manager() -> ssa.FieldManager:
    from reconciler.sim import defaults

    return ssa.FieldManager(
        ssa.builtin_schema(),
        defaults=lambda o: defaults.apply_defaults(o, allocate_cluster_ip=lambda: "10.0.0.9"),
    )


def test_fields_defaulted_after_an_apply_are_owned_by_nobody() -> None:
    obj = (
        _defaulting_manager()
        .apply(None, deployment(pod_spec(nginx())), manager="ci", force=False, now=NOW)
        .object
    )
    assert (obj["spec"]["replicas"], ".spec.replicas" in owned(obj, "ci")) == (1, False)


def test_a_create_by_update_owns_the_defaults() -> None:
    obj = (
        _defaulting_manager()
        .update(None, deployment(pod_spec(nginx())), manager="kubectl-create", now=NOW)
        .object
    )
    assert ".spec.replicas" in owned(obj, "kubectl-create", "Update")


def test_a_registered_crd_keys_its_map_lists() -> None:
    schema = ssa.builtin_schema().copy()
    items = {"type": "object", "properties": {"name": {"type": "string"}, "size": {"type": "integer"}}}
    listing = {
        "type": "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
        "items": items,
    }
    root = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"disks": listing}}}}
    ssa.register_crd(
        schema,
        {
            "spec": {
                "group": "example.com",
                "names": {"kind": "Vm"},
                "versions": [{"name": "v1", "schema": {"openAPIV3Schema": root}}],
            }
        }
    )

    def vm(disks: list[Obj]) -> Obj:
        return {
            "apiVersion": "example.com/v1",
            "kind": "Vm",
            "metadata": {"name": "v"},
            "spec": {"disks": disks},
        }

    obj = run(
        [apply("a", vm([{"name": "root", "size": 1}])), apply("b", vm([{"name": "data", "size": 2}]))], schema
    )
    assert [d["name"] for d in obj["spec"]["disks"]] == ["root", "data"]


def test_a_keyed_item_without_its_key_is_invalid() -> None:
    with pytest.raises(ssa.InvalidObject):
        run([apply("ci", deployment(pod_spec({"image": "nginx"})))])


def test_duplicate_keys_are_invalid() -> None:
    with pytest.raises(ssa.InvalidObject):
        run([apply("ci", deployment(pod_spec(nginx(), nginx())))])


UNKNOWN = [
    ("known-fields", deployment(pod_spec(nginx())), []),
    ("unknown-spec-field", deployment({"replicaz": 1}), [".spec.replicaz"]),
    (
        "unknown-container-field",
        deployment(pod_spec(nginx(imagePolicy="x"))),
        [".spec.template.spec.containers[0].imagePolicy"],
    ),
    ("labels-take-any-key", deployment(labels={"anything.example.com/x": "y"}), []),
]


@pytest.mark.parametrize(("name", "obj", "expected"), UNKNOWN, ids=[u[0] for u in UNKNOWN])
def test_unknown_fields(name: str, obj: Obj, expected: list[str]) -> None:
    assert ssa.unknown_fields(obj, "io.k8s.api.apps.v1.Deployment") == expected


def _service_with_status(**status: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"type": "ClusterIP"},
        "status": status,
    }


def test_the_main_resource_ignores_status_in_an_applied_config() -> None:
    obj = run([apply("ci", _service_with_status(loadBalancer={"ingress": [{"ip": "1.2.3.4"}]}))])
    assert ("status" in obj, owned(obj, "ci")) == (False, {".spec.type"})


def test_a_status_update_owns_only_status_as_a_subresource_entry() -> None:
    manager = ssa.FieldManager(ssa.builtin_schema())
    live = manager.apply(None, _service_with_status(), manager="ci", force=False, now=NOW).object
    new = {**live, "spec": {"type": "NodePort"}, "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}}
    obj = manager.update(live, new, manager="lb-controller", now=NOW, subresource="status").object
    entry = next(e for e in obj["metadata"]["managedFields"] if e["manager"] == "lb-controller")
    assert (obj["spec"]["type"], entry["subresource"], list(entry["fieldsV1"])) == (
        "ClusterIP",
        "status",
        ["f:status"],
    )


def test_reapplying_a_config_with_status_is_a_noop_once_status_is_set() -> None:
    manager = ssa.FieldManager(ssa.builtin_schema())
    config = _service_with_status(loadBalancer={"ingress": [{"ip": "0.0.0.0"}]})
    live = manager.apply(None, config, manager="ci", force=False, now=NOW).object
    lb = {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}
    live = manager.update(live, {**live, "status": lb}, manager="lb", now=NOW, subresource="status").object
    assert manager.apply(live, config, manager="ci", force=False, now=LATER).changed is False


def test_an_update_with_duplicate_keys_owns_the_list_whole() -> None:
    env = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]
    obj = run([update("kubectl-create", deployment(pod_spec(nginx(env=env))))])
    assert '.spec.template.spec.containers[name="nginx"].env' in owned(obj, "kubectl-create", "Update")


def test_unknown_fields_can_be_dropped() -> None:
    obj = deployment({"replicas": 1, "replicaz": 2}, bogus="x")
    kept = validation.without_unknown(ssa.builtin_schema(), obj, "io.k8s.api.apps.v1.Deployment")
    assert kept == deployment({"replicas": 1})


def test_absurdly_nested_objects_are_invalid_not_a_crash() -> None:
    deep: Obj = {}
    for _ in range(5000):
        deep = {"x": deep}
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": deep}
    with pytest.raises(ssa.InvalidObject):
        ssa.FieldManager(ssa.builtin_schema()).apply(None, widget, manager="a", force=False, now=NOW)


def _crd_schema() -> ssa.Schema:
    spec_props = {
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "args": {"type": "array", "items": {"type": "string"}},
        "selector": {
            "type": "object",
            "x-kubernetes-map-type": "atomic",
            "additionalProperties": {"type": "string"},
        },
        "limits": {"type": "object", "additionalProperties": {"type": "string"}},
        "port": {"x-kubernetes-int-or-string": True},
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "size": {"type": "integer"},
    }
    root = {"type": "object", "properties": {"spec": {"type": "object", "properties": spec_props}}}
    version = {"name": "v1", "schema": {"openAPIV3Schema": root}, "subresources": {"status": {}}}
    crd = {"spec": {"group": "example.com", "names": {"kind": "Gadget"}, "versions": [version]}}
    schema = ssa.builtin_schema().copy()
    ssa.register_crd(schema, crd)
    return schema


def gadget(**spec: Any) -> Obj:
    return {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": spec}


CRD_CASES = [
    ("set-items-owned-by-value", gadget(tags=["a"]), {'.spec.tags[="a"]'}),
    ("lists-atomic-by-default", gadget(args=["x"]), {".spec.args"}),
    ("atomic-map-owned-whole", gadget(selector={"a": "b"}), {".spec.selector"}),
    ("granular-map-owned-per-key", gadget(limits={"cpu": "1"}), {".spec.limits.cpu"}),
    ("int-or-string-is-a-leaf", gadget(port="http"), {".spec.port"}),
    (
        "preserved-unknown-fields-are-deduced",
        gadget(extra={"a": {"b": 1}}),
        {".spec.extra.a", ".spec.extra.a.b"},
    ),
    ("status-ignored-on-the-main-resource", {**gadget(size=1), "status": {"ready": True}}, {".spec.size"}),
]


@pytest.mark.parametrize(("name", "config", "expected"), CRD_CASES, ids=[c[0] for c in CRD_CASES])
def test_registered_crd_semantics(name: str, config: Obj, expected: set[str]) -> None:
    assert owned(run([apply("a", config)], _crd_schema()), "a") == expected


def test_unreadable_managed_fields_entries_are_dropped() -> None:
    live = run([apply("ci", deployment({"replicas": 2}))])
    broken = {"manager": "x", "operation": "Update", "apiVersion": "apps/v1", "fieldsType": "FieldsV1"}
    live["metadata"]["managedFields"].append({**broken, "fieldsV1": {"k:{not json": {}}})
    obj = (
        ssa.FieldManager(ssa.builtin_schema())
        .apply(live, deployment({"replicas": 3}), manager="ci", force=False, now=NOW)
        .object
    )
    assert owners(obj) == [("ci", "Apply")]


def test_update_entries_are_capped_by_merging_the_oldest_into_ancient_changes() -> None:
    manager = ssa.FieldManager(ssa.builtin_schema())
    live = manager.apply(None, deployment({"replicas": 1}), manager="ci", force=False, now=NOW).object
    labels: dict[str, str] = {}
    for number in range(1, 13):
        labels[f"l{number}"] = "x"
        stamp = f"2026-01-01T01:{number:02d}:00Z"
        live = manager.update(
            live, deployment({"replicas": 1}, labels=dict(labels)), manager=f"w{number}", now=stamp
        ).object
    updates = [e for e in live["metadata"]["managedFields"] if e["operation"] == "Update"]
    ancient = owned(live, "ancient-changes", "Update")
    assert (len(updates), ancient) == (
        10,
        {".metadata.labels", ".metadata.labels.l1", ".metadata.labels.l2", ".metadata.labels.l3"},
    )
