"""One simulated cluster: its object store, resourceVersion counter, and the write rules of kube-apiserver.

Stored objects are never mutated in place: every write builds a new dict, so readers can serialise
what they got without copying. All writes of a cluster go through one lock, which keeps the
resourceVersion counter and the event log in step.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.objects import Obj
from reconciler.sim import crdstatus, managers, metas, pages, selectors, statuses, watches
from reconciler.sim.faults import Faults
from reconciler.sim.resources import CRD_GROUP, CRD_PLURAL, Registry, ResourceType

Key = tuple[str, str, str, str]
"""(group, plural, namespace, name)"""
Clock = Callable[[], float]
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class Write:
    """How a write was asked for: who makes it, whether it is a dry run, and how to validate."""

    manager: str
    dry_run: bool = False
    validation: str = "Strict"
    subresource: str = ""


def key_of(rt: ResourceType, namespace: str, name: str) -> Key:
    return (rt.group, rt.plural, namespace if rt.namespaced else "", name)


@dataclass
class Cluster:
    """A Kubernetes API's state: objects by key, served types, field managers, faults, events."""

    name: str
    token: str
    defaulting: bool = True
    clock: Clock = time.time
    registry: Registry = field(default_factory=Registry.with_builtins)
    faults: Faults = field(default_factory=Faults)
    events: watches.EventLog = field(default_factory=watches.EventLog)
    on_change: list[Callable[[Cluster, str, ResourceType, Obj], None]] = field(default_factory=list)
    _objects: dict[Key, Obj] = field(default_factory=dict)
    _by_type: dict[tuple[str, str], dict[Key, Obj]] = field(default_factory=dict)
    _encoded: dict[Key, tuple[Obj, bytes]] = field(default_factory=dict)
    _rv: int = 1
    _ips: int = 10
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.managers = managers.make(defaulting=self.defaulting, allocate_ip=self._allocate_ip)
        namespaces = self.registry.lookup("", "v1", "namespaces")
        assert namespaces is not None
        for ns in SYSTEM_NAMESPACES:
            self.create(namespaces, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
                        Write(manager="kube-apiserver"))

    # ---- reads -------------------------------------------------------------------------------

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def type_name(self, rt: ResourceType) -> str | None:
        return self.managers.type_name(rt.api_version, rt.kind)

    def get(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        found = self._objects.get(key_of(rt, namespace, name))
        if found is None:
            raise statuses.not_found(group=rt.group, plural=rt.plural, name=name)
        return found

    def find(self, rt: ResourceType, namespace: str, name: str) -> Obj | None:
        return self._objects.get(key_of(rt, namespace, name))

    def encoded(self, rt: ResourceType, obj: Obj) -> bytes:
        """``obj`` as compact JSON, cached while it is the stored version (stored objects never change)."""
        meta = obj["metadata"]
        key = key_of(rt, meta.get("namespace", ""), meta["name"])
        cached = self._encoded.get(key)
        if cached is not None and cached[0] is obj:
            return cached[1]
        data = json.dumps(obj, separators=(",", ":")).encode()
        if self._objects.get(key) is obj:
            self._encoded[key] = (obj, data)
        return data

    def objects(self, rt: ResourceType, namespace: str = "") -> list[Obj]:
        """Stored objects of ``rt`` (in ``namespace`` when given), sorted by namespace and name."""
        with self._lock:
            found = [(k, o) for k, o in self._by_type.get((rt.group, rt.plural), {}).items()
                     if not namespace or k[2] == namespace]
        return [o for _, o in sorted(found, key=lambda item: item[0])]

    def list(self, rt: ResourceType, namespace: str, *, label_selector: str = "", field_selector: str = "",
             limit: int = 0, continue_token: str = "") -> pages.Page:
        match_labels, match_fields = selectors.labels(label_selector), selectors.fields(field_selector)
        with self._lock:
            rv, items = self.resource_version, self.objects(rt, namespace)
        items = [o for o in items if match_labels(o) and match_fields(o)]
        return pages.cut(items, resource_version=rv, limit=limit, continue_token=continue_token)

    # ---- writes ------------------------------------------------------------------------------

    def create(self, rt: ResourceType, namespace: str, body: Obj, how: Write) -> Obj:
        obj = self._prepare_new(rt, namespace, body, how)
        with self._lock:
            self._require_absent(rt, obj)
            written = self.managers.update(None, obj, manager=how.manager, now=self._now())
            return self._store_new(rt, written.object, how)

    def replace(self, rt: ResourceType, namespace: str, name: str, body: Obj, how: Write) -> Obj:
        with self._lock:
            live = self.get(rt, namespace, name)
            new = self._prepare_replacement(rt, live, body, how)
            written = self.managers.update(_clean(live), new, manager=how.manager, now=self._now(),
                                           subresource=how.subresource)
            return self._store_change(rt, live, written.object, how)

    def patch(self, rt: ResourceType, namespace: str, name: str, change: Callable[[Obj], Obj],
              how: Write) -> Obj:
        """Apply a JSON, merge or strategic patch: ``change`` maps the live object to the patched one."""
        with self._lock:
            live = self.get(rt, namespace, name)
            patched = change(copy.deepcopy(metas.strip_server_set(live) | {"metadata": _meta_for_patch(live)}))
            return self.replace(rt, namespace, name, patched, how)

    def apply(self, rt: ResourceType, namespace: str, name: str, config: Obj, *, force: bool,
              how: Write) -> Obj:
        """Server-side apply ``config``: create the object or merge into it, tracking field owners."""
        config = self._prepare_config(rt, namespace, name, config, how)
        with self._lock:
            live = self.find(rt, namespace, name)
            if live is None:
                self._require_namespace(rt, namespace)
            written = self.managers.apply(rt, _clean(live), config, manager=how.manager, force=force,
                                          now=self._now(), subresource=how.subresource)
            if live is None:
                return self._store_new(rt, written.object, how)
            self._check_version(rt, live, config)
            return self._store_change(rt, live, _restore_subresource(rt, live, written.object, how), how)

    def delete(self, rt: ResourceType, namespace: str, name: str, options: Obj, how: Write) -> Obj:
        with self._lock:
            live = self.get(rt, namespace, name)
            _check_preconditions(rt, live, options.get("preconditions") or {})
            self.faults.check_delete(rt.kind, namespace, name)
            if how.dry_run:
                return live
            if live["metadata"].get("finalizers"):
                return self._mark_deleted(rt, live)
            return self._remove(rt, live, policy=str(options.get("propagationPolicy") or "Background"))

    # ---- write helpers -----------------------------------------------------------------------

    def _now(self) -> str:
        return metas.timestamp(self.clock())

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _allocate_ip(self) -> str:
        with self._lock:
            self._ips += 1
            return f"10.96.{self._ips // 250}.{self._ips % 250 + 1}"

    def _prepare_new(self, rt: ResourceType, namespace: str, body: Obj, how: Write) -> Obj:
        obj = metas.strip_server_set(copy.deepcopy(body))
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = metas.generated_name(str(meta["generateName"]))
        if not meta.get("name"):
            raise statuses.invalid(group=rt.group, kind=rt.kind, name="", causes=[
                {"type": "FieldValueRequired", "message": "Required value: name or generateName is required",
                 "field": "metadata.name"}])
        self._check_body(rt, namespace, obj, how)
        self._require_namespace(rt, namespace)
        if rt.has_status:
            obj.pop("status", None)
        return obj

    def _check_body(self, rt: ResourceType, namespace: str, obj: Obj, how: Write) -> None:
        obj.setdefault("apiVersion", rt.api_version)
        obj.setdefault("kind", rt.kind)
        if (obj["apiVersion"], obj["kind"]) != (rt.api_version, rt.kind):
            raise statuses.bad_request(
                f"the API version in the data ({obj['apiVersion']}) does not match the expected API version "
                f"({rt.api_version})" if obj["apiVersion"] != rt.api_version else
                f"the kind in the data ({obj['kind']}) does not match the expected kind ({rt.kind})")
        meta = obj["metadata"]
        if rt.namespaced:
            if meta.setdefault("namespace", namespace) != namespace:
                raise statuses.bad_request("the namespace of the provided object does not match the namespace "
                                           "sent on the request")
        else:
            meta.pop("namespace", None)
        if how.validation == "Strict":
            self._check_strict(rt, obj)

    def _check_strict(self, rt: ResourceType, obj: Obj) -> None:
        unknown = self.managers.unknown_fields(obj)
        if unknown:
            text = ", ".join(f'unknown field "{f.lstrip(".")}"' for f in unknown)
            raise statuses.bad_request(f"{rt.kind} in version \"{rt.version}\" cannot be handled as a "
                                       f"{rt.kind}: strict decoding error: {text}")

    def _require_namespace(self, rt: ResourceType, namespace: str) -> None:
        if not rt.namespaced:
            return
        ns = self._objects.get(("", "namespaces", "", namespace))
        if ns is None:
            raise statuses.not_found(group="", plural="namespaces", name=namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise statuses.forbidden(f'unable to create new content in namespace {namespace} because it is '
                                     f'being terminated')

    def _require_absent(self, rt: ResourceType, obj: Obj) -> None:
        meta = obj["metadata"]
        if key_of(rt, meta.get("namespace", ""), meta["name"]) in self._objects:
            raise statuses.already_exists(group=rt.group, plural=rt.plural, name=meta["name"])

    def _prepare_replacement(self, rt: ResourceType, live: Obj, body: Obj, how: Write) -> Obj:
        new = metas.strip_server_set(copy.deepcopy(body))
        self._check_body(rt, live["metadata"].get("namespace", ""), new, how)
        if new["metadata"].get("name") != live["metadata"]["name"]:
            raise statuses.bad_request("the name of the object does not match the name on the URL")
        self._check_version(rt, live, body)
        return _restore_subresource(rt, live, new, how)

    def _prepare_config(self, rt: ResourceType, namespace: str, name: str, config: Obj, how: Write) -> Obj:
        config = copy.deepcopy(config)
        meta = config.setdefault("metadata", {})
        if meta.get("name", name) != name:
            raise statuses.bad_request("the name of the object does not match the name on the URL")
        meta["name"] = name
        if not config.get("apiVersion") or not config.get("kind"):
            raise statuses.bad_request("apiVersion and kind must be set in an applied configuration")
        self._check_body(rt, namespace, config, how)
        if "managedFields" in meta:
            raise statuses.bad_request("metadata.managedFields must be nil")
        return config

    def _check_version(self, rt: ResourceType, live: Obj, body: Obj) -> None:
        wanted = (body.get("metadata") or {}).get("resourceVersion")
        if wanted and str(wanted) != live["metadata"]["resourceVersion"]:
            raise statuses.stale(group=rt.group, plural=rt.plural, name=live["metadata"]["name"])

    def _stamp_new(self, rt: ResourceType, obj: Obj, how: Write) -> Obj:
        meta = metas.meta(obj)
        meta.update(uid=metas.new_uid(), creationTimestamp=self._now())
        if not how.dry_run:
            meta["resourceVersion"] = self._next_rv()
        if rt.kind != "Namespace" or rt.group:
            meta["generation"] = 1
        return self._admit(rt, obj, "ADDED")

    def _store_new(self, rt: ResourceType, obj: Obj, how: Write) -> Obj:
        obj = self._stamp_new(rt, obj, how)
        if how.dry_run:
            return obj
        self._put(rt, "ADDED", obj)
        return obj

    def _store_change(self, rt: ResourceType, live: Obj, new: Obj, how: Write) -> Obj:
        _check_immutable(rt, live, new)
        new = metas.carry_server_set(new, live)
        new["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
        if metas.spec_of(new) != metas.spec_of(live) and "generation" in live["metadata"]:
            new["metadata"]["generation"] = int(live["metadata"]["generation"]) + 1
        new = self._admit(rt, new, "MODIFIED")
        if metas.same_content(new, live):
            return live
        if how.dry_run:
            return new
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            return self._remove(rt, new, policy="Background")
        new["metadata"]["resourceVersion"] = self._next_rv()
        self._put(rt, "MODIFIED", new)
        return new

    def _admit(self, rt: ResourceType, obj: Obj, kind: str) -> Obj:
        """Hooks of kube-apiserver's registries: Namespaces are Active, CRDs get served."""
        if (rt.group, rt.plural) == ("", "namespaces"):
            labels = obj["metadata"].setdefault("labels", {})
            labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
            obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            phase = "Terminating" if obj["metadata"].get("deletionTimestamp") else "Active"
            obj.setdefault("status", {})["phase"] = phase
        if (rt.group, rt.plural) == (CRD_GROUP, CRD_PLURAL):
            crdstatus.establish(obj)
        if (rt.group, rt.plural) == ("", "secrets"):
            _fold_string_data(obj)
        return obj

    def _put(self, rt: ResourceType, event: str, obj: Obj) -> None:
        meta = obj["metadata"]
        key = key_of(rt, meta.get("namespace", ""), meta["name"])
        self._objects[key] = self._by_type.setdefault(key[:2], {})[key] = obj
        if (rt.group, rt.plural) == (CRD_GROUP, CRD_PLURAL):
            self.registry.serve_crd(obj)
            self.managers.register_crd(obj)
            self._default_stored(obj)
        self.events.append(watches.Event(int(meta["resourceVersion"]), event, (rt.group, rt.plural), obj))
        for hook in self.on_change:
            hook(self, event, rt, obj)

    def _default_stored(self, crd: Obj) -> None:
        """The CRD's defaults on its stored custom resources, as kube-apiserver defaults them on read."""
        plural = str(((crd.get("spec") or {}).get("names") or {}).get("plural", ""))
        stored = self._by_type.get((str((crd.get("spec") or {}).get("group", "")), plural), {})
        for key, obj in list(stored.items()):
            shown = self.managers.read_defaults(obj)
            if shown != obj:
                self._objects[key] = stored[key] = shown

    def _mark_deleted(self, rt: ResourceType, live: Obj) -> Obj:
        if live["metadata"].get("deletionTimestamp"):
            return live
        new = copy.deepcopy(live)
        new["metadata"].update(deletionTimestamp=self._now(), deletionGracePeriodSeconds=0)
        new = self._admit(rt, new, "MODIFIED")
        new["metadata"]["resourceVersion"] = self._next_rv()
        self._put(rt, "MODIFIED", new)
        if (rt.group, rt.plural) == ("", "namespaces"):
            self._empty_namespace(new["metadata"]["name"])
        return new

    def _remove(self, rt: ResourceType, live: Obj, *, policy: str) -> Obj:
        meta = live["metadata"]
        if (rt.group, rt.plural) == ("", "namespaces"):
            self._empty_namespace(meta["name"])
        gone = copy.deepcopy(live)
        gone["metadata"]["resourceVersion"] = self._next_rv()
        self._forget(key_of(rt, meta.get("namespace", ""), meta["name"]))
        self.events.append(watches.Event(int(gone["metadata"]["resourceVersion"]), "DELETED",
                                         (rt.group, rt.plural), gone))
        self._collect_dependents(str(meta["uid"]), policy=policy)
        if (rt.group, rt.plural) == (CRD_GROUP, CRD_PLURAL):
            self._drop_custom_resources(live)
        for hook in self.on_change:
            hook(self, "DELETED", rt, gone)
        return gone

    def _forget(self, key: Key) -> None:
        del self._objects[key]
        self._by_type[key[:2]].pop(key, None)
        self._encoded.pop(key, None)

    def _empty_namespace(self, namespace: str) -> None:
        for key in [k for k in self._objects if k[2] == namespace]:
            rt = self._type_of(key)
            if rt is not None and key in self._objects:
                self._force_remove(rt, self._objects[key])

    def _force_remove(self, rt: ResourceType, obj: Obj) -> None:
        self._remove(rt, obj, policy="Background")

    def _collect_dependents(self, uid: str, *, policy: str) -> None:
        """Garbage-collect (or orphan) every object whose ownerReferences name ``uid``."""
        for key, obj in list(self._objects.items()):
            refs = obj["metadata"].get("ownerReferences") or []
            if key not in self._objects or not any(r.get("uid") == uid for r in refs):
                continue
            rt = self._type_of(key)
            if rt is None:
                continue
            if policy == "Orphan":
                self._orphan(rt, obj, uid)
            else:
                self._force_remove(rt, obj)

    def _orphan(self, rt: ResourceType, obj: Obj, uid: str) -> None:
        new = copy.deepcopy(obj)
        new["metadata"]["ownerReferences"] = [r for r in obj["metadata"]["ownerReferences"] if r.get("uid") != uid]
        if not new["metadata"]["ownerReferences"]:
            del new["metadata"]["ownerReferences"]
        new["metadata"]["resourceVersion"] = self._next_rv()
        self._put(rt, "MODIFIED", new)

    def _drop_custom_resources(self, crd: Obj) -> None:
        group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
        types = [rt for rt in self.registry.types() if (rt.group, rt.plural) == (group, plural)]
        for key in list(self._by_type.get((group, plural), {})):
            if types:
                self._remove(types[0], self._objects[key], policy="Background")
            else:
                self._forget(key)
        self.registry.unserve_crd(crd["metadata"]["name"])

    def _type_of(self, key: Key) -> ResourceType | None:
        return next((rt for rt in self.registry.types() if (rt.group, rt.plural) == key[:2]), None)

    # ---- used by controllers -----------------------------------------------------------------

    def write_status(self, rt: ResourceType, obj: Obj, status: dict[str, Any], *, manager: str) -> Obj:
        """Replace ``obj``'s status as a controller would through the status subresource."""
        meta = obj["metadata"]
        body = {**obj, "status": status}
        return self.replace(rt, meta.get("namespace", ""), meta["name"], _without_rv(body),
                            Write(manager=manager, subresource="status", validation="Ignore"))

    def snapshot(self) -> dict[Key, tuple[str, str]]:
        """(uid, resourceVersion) of every stored object: compare two snapshots to see what was touched."""
        with self._lock:
            return {k: (str(o["metadata"]["uid"]), str(o["metadata"]["resourceVersion"]))
                    for k, o in self._objects.items()}

    def all_objects(self) -> Iterator[tuple[ResourceType, Obj]]:
        with self._lock:
            items = list(self._objects.items())
        for key, obj in items:
            rt = self._type_of(key)
            if rt is not None:
                yield rt, obj


def _fold_string_data(secret: Obj) -> None:
    """A Secret's write-only ``stringData`` is stored base64-encoded in ``data`` (it wins over ``data``)."""
    plain = secret.pop("stringData", None) or {}
    encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in plain.items()}
    if encoded:
        secret["data"] = {**(secret.get("data") or {}), **encoded}


IMMUTABLE_SELECTORS = frozenset({"deployments", "replicasets", "statefulsets", "daemonsets"})


def _check_immutable(rt: ResourceType, live: Obj, new: Obj) -> None:
    """kube-apiserver refuses to change an apps/v1 workload's ``spec.selector`` once it is set."""
    if rt.group != "apps" or rt.plural not in IMMUTABLE_SELECTORS:
        return
    before, after = (live.get("spec") or {}).get("selector"), (new.get("spec") or {}).get("selector")
    if before is not None and after != before:
        raise statuses.invalid(group=rt.group, kind=rt.kind, name=str(live["metadata"]["name"]), causes=[
            {"reason": "FieldValueInvalid", "field": "spec.selector", "message": "field is immutable"}])


def _without_rv(obj: Obj) -> Obj:
    return {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}}


def _clean(live: Obj | None) -> Obj | None:
    return None if live is None else copy.deepcopy(live)


def _meta_for_patch(live: Obj) -> dict[str, Any]:
    meta = {k: v for k, v in live["metadata"].items() if k not in metas.SERVER_SET}
    meta["resourceVersion"] = live["metadata"]["resourceVersion"]
    return meta


def _restore_subresource(rt: ResourceType, live: Obj, new: Obj, how: Write) -> Obj:
    """A main-resource write keeps the live status; a status write keeps everything but status."""
    if not rt.has_status:
        return new
    if how.subresource == "status":
        return {**copy.deepcopy(live), "status": new.get("status", {})} | {"metadata": _merge_meta(live, new)}
    if "status" in live:
        return {**new, "status": live["status"]}
    return {k: v for k, v in new.items() if k != "status"}


def _merge_meta(live: Obj, new: Obj) -> dict[str, Any]:
    meta = copy.deepcopy(live["metadata"])
    meta["managedFields"] = new["metadata"].get("managedFields", meta.get("managedFields"))
    return {k: v for k, v in meta.items() if v is not None}


def _check_preconditions(rt: ResourceType, live: Obj, pre: dict[str, Any]) -> None:
    meta = live["metadata"]
    for field_name in ("uid", "resourceVersion"):
        wanted = pre.get(field_name)
        if wanted and str(wanted) != str(meta.get(field_name)):
            label = "UID" if field_name == "uid" else "ResourceVersion"
            raise statuses.conflict(
                group=rt.group, plural=rt.plural, name=meta["name"],
                message=f"Precondition failed: {label} in precondition: {wanted}, {label} in object meta: "
                        f"{meta.get(field_name)}")
