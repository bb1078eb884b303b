"""The Plan: the artifact everything a user sees about a change is rendered from.

A ``Plan`` holds the source revision, per bundle the rendered content hash, per cluster whether it
could be read, and one ``Change`` per object the planner looked at. Actionable changes (create,
update, adopt, delete) are numbered steps in a topological order, each listing the steps it waits for
(``after``); the rest (unchanged, skipped, conflict) carry a reason. Every change records the live
uid and resourceVersion it saw so ``apply --plan`` can refuse a stale plan (``check_live``).

Secrets are never written in clear: a change whose object holds secret values stores the object
masked (``sealed=True``) with ``object_hash``, the fingerprint of the real object; at apply time the
engine re-renders the plan's revision and ``check_object`` refuses if the hash moved
(docs/adr/0005-plan-artifacts.md).

``to_json``/``from_json`` round-trip a plan through text with ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.core import inventory
from reconciler.core.desired import BundleId
from reconciler.core.objects import Obj, ObjectKey
from reconciler.core.reasons import Reason
from reconciler.core.statuses import Reachability
from reconciler.core.upgrades import VersionChange
from reconciler.errors import PlanError, StalePlanError

SCHEMA_VERSION = "stackfleet.dev/plan/v2"
"""v2: ``why`` on changes (``core.reasons``), ``dest`` (was ``cluster``) and cluster statuses of
``core.statuses.Reachability``."""


class Action(StrEnum):
    """The closed set of things a plan can say about an object."""

    CREATE = "create"
    UPDATE = "update"
    ADOPT = "adopt"
    DELETE = "delete"
    CONFLICT = "conflict"
    REFUSED = "refused"
    """A guard rail of the fleet's policy forbids the object (``core.guards``); nothing is written."""
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


ACTIONABLE = frozenset({Action.CREATE, Action.UPDATE, Action.ADOPT, Action.DELETE})


@dataclass(frozen=True)
class Hook:
    """A Helm hook step: run before (``pre``) or after (``post``) the bundle's objects, by weight.

    The engine applies it as Helm would: with ``before-hook-creation`` it deletes the previous hook
    object first; ``hook-succeeded``/``hook-failed`` delete it after it finished. Hook objects are not
    recorded in the inventory, so they are never pruned.
    """

    phase: str
    weight: int = 0
    delete_policies: tuple[str, ...] = ()
    last_phase: str = ""
    """Set when the hook serves several phases: its delete policies wait for the end of this one."""

    @property
    def until(self) -> str:
        """The phase after which the hook object is deleted by its policies."""
        return self.last_phase or self.phase

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"phase": self.phase, "weight": self.weight,
                               "deletePolicies": list(self.delete_policies)}
        if self.last_phase:
            out["lastPhase"] = self.last_phase
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Hook:
        return cls(str(data["phase"]), int(data.get("weight", 0)), tuple(data.get("deletePolicies", ())),
                   str(data.get("lastPhase", "")))


@dataclass(frozen=True)
class Change:
    """What the plan does (or why it does nothing) about one object in one cluster."""

    action: Action
    dest: str
    """The cluster the object lives in: the bundle's fleet cluster, or the management cluster."""
    bundle: BundleId
    key: ObjectKey
    step: int | None = None
    after: tuple[int, ...] = ()
    why: Reason | None = None
    """Why the change is what it is, when the action alone does not say (a skip, a conflict, a hook)."""
    reason: str = ""
    """The same for people, with the particulars; never parsed."""
    approval: str = ""
    """Why this step needs approval; empty when it does not."""
    drift: bool = False
    """True when desired did not move since the last apply: the live object drifted."""
    live_uid: str | None = None
    live_resource_version: str | None = None
    object: Obj | None = None
    object_hash: str = ""
    sealed: bool = False
    patch: tuple[dict[str, Any], ...] = ()
    diff: str = ""
    hook: Hook | None = None
    kubernetes: VersionChange | None = None
    """A Kubernetes version change of a Cluster API object (``core.upgrades``)."""

    @property
    def needs_approval(self) -> bool:
        return bool(self.approval)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "after": list(self.after),
            "action": self.action.value,
            "dest": self.dest,
            "bundle": inventory.bundle_to_dict(self.bundle),
            "key": inventory.key_to_dict(self.key),
            "why": self.why.value if self.why else None,
            "reason": self.reason,
            "approval": self.approval,
            "drift": self.drift,
            "live": {"uid": self.live_uid, "resourceVersion": self.live_resource_version},
            "object": self.object,
            "objectHash": self.object_hash,
            "sealed": self.sealed,
            "patch": list(self.patch),
            "diff": self.diff,
            "hook": self.hook.to_dict() if self.hook else None,
        } | ({"kubernetes": self.kubernetes.to_dict()} if self.kubernetes else {})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        live = data.get("live") or {}
        return cls(
            action=Action(data["action"]),
            dest=str(data["dest"]),
            bundle=BundleId(**data["bundle"]),
            key=inventory.key_from_dict(data["key"]),
            step=data.get("step"),
            after=tuple(data.get("after", ())),
            why=Reason(data["why"]) if data.get("why") else None,
            reason=str(data.get("reason", "")),
            approval=str(data.get("approval", "")),
            drift=bool(data.get("drift", False)),
            live_uid=live.get("uid"),
            live_resource_version=live.get("resourceVersion"),
            object=data.get("object"),
            object_hash=str(data.get("objectHash", "")),
            sealed=bool(data.get("sealed", False)),
            patch=tuple(data.get("patch", ())),
            diff=str(data.get("diff", "")),
            hook=Hook.from_dict(data["hook"]) if data.get("hook") else None,
            kubernetes=VersionChange.from_dict(data["kubernetes"]) if data.get("kubernetes") else None,
        )


@dataclass(frozen=True)
class BundleRecord:
    """A bundle the plan covers: where it goes, its version and rendered content hash, or its failure."""

    bundle: BundleId
    dest: str
    version: str = ""
    content_hash: str = ""
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundle": inventory.bundle_to_dict(self.bundle),
            "dest": self.dest,
            "version": self.version,
            "contentHash": self.content_hash,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BundleRecord:
        return cls(
            bundle=BundleId(**data["bundle"]),
            dest=str(data["dest"]),
            version=str(data.get("version", "")),
            content_hash=str(data.get("contentHash", "")),
            error=str(data.get("error", "")),
        )


@dataclass(frozen=True)
class ClusterRecord:
    """A destination cluster and whether the planner could read it."""

    name: str
    status: Reachability
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterRecord:
        return cls(str(data["name"]), Reachability(data["status"]), str(data.get("reason", "")))


@dataclass(frozen=True)
class Summary:
    """Counts per action, overall and per cluster and bundle."""

    actions: Mapping[str, int]
    clusters: Mapping[str, Mapping[str, int]]
    bundles: Mapping[str, Mapping[str, int]]
    needs_approval: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "actions": dict(self.actions),
            "clusters": {k: dict(v) for k, v in self.clusters.items()},
            "bundles": {k: dict(v) for k, v in self.bundles.items()},
            "needsApproval": self.needs_approval,
        }


@dataclass(frozen=True)
class Plan:
    """A fleet-wide plan computed at ``revision`` (see the module docstring)."""

    revision: str
    created_at: str
    changes: tuple[Change, ...] = ()
    bundles: tuple[BundleRecord, ...] = ()
    clusters: tuple[ClusterRecord, ...] = ()
    forced: bool = False
    """The revision does not descend from the last applied one (a force-push)."""
    schema: str = field(default=SCHEMA_VERSION)

    @property
    def steps(self) -> tuple[Change, ...]:
        """The actionable changes in step order."""
        return tuple(sorted((c for c in self.changes if c.step is not None), key=lambda c: c.step or 0))

    @property
    def unreadable(self) -> tuple[ClusterRecord, ...]:
        """The destinations the planner could not read (nothing there was planned)."""
        return tuple(c for c in self.clusters if c.status is not Reachability.REACHABLE)

    @property
    def has_changes(self) -> bool:
        return any(c.action in ACTIONABLE for c in self.changes)

    def step(self, number: int) -> Change:
        return next(c for c in self.changes if c.step == number)

    def summary(self) -> Summary:
        clusters: dict[str, Counter[str]] = defaultdict(Counter)
        bundles: dict[str, Counter[str]] = defaultdict(Counter)
        for change in self.changes:
            clusters[change.dest][change.action.value] += 1
            bundles[str(change.bundle)][change.action.value] += 1
        return Summary(
            actions=_ordered(sum(clusters.values(), Counter())),
            clusters={name: _ordered(clusters[name]) for name in sorted(clusters)},
            bundles={name: _ordered(bundles[name]) for name in sorted(bundles)},
            needs_approval=sum(1 for c in self.changes if c.needs_approval),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "revision": self.revision,
            "createdAt": self.created_at,
            "forced": self.forced,
            "hasChanges": self.has_changes,
            "summary": self.summary().to_dict(),
            "clusters": [c.to_dict() for c in self.clusters],
            "bundles": [b.to_dict() for b in self.bundles],
            "changes": [c.to_dict() for c in self.changes],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        if data.get("schema") != SCHEMA_VERSION:
            raise PlanError(f"unsupported plan schema {data.get('schema')!r}; expected {SCHEMA_VERSION}")
        return cls(
            revision=str(data["revision"]),
            created_at=str(data["createdAt"]),
            forced=bool(data.get("forced", False)),
            clusters=tuple(ClusterRecord.from_dict(c) for c in data.get("clusters", ())),
            bundles=tuple(BundleRecord.from_dict(b) for b in data.get("bundles", ())),
            changes=tuple(Change.from_dict(c) for c in data.get("changes", ())),
        )


def to_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, sort_keys=False) + "\n"


def from_json(text: str) -> Plan:
    return from_document(document_of(text))


def document_of(text: str) -> dict[str, Any]:
    """The JSON object of a plan file (``PlanError`` when it is not one)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"plan file is not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise PlanError("plan file is not a JSON object")
    return data


def from_document(data: Mapping[str, Any]) -> Plan:
    """The plan in a plan document (``PlanError`` naming what does not fit the schema)."""
    try:
        return Plan.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:  # a missing field, or a status or reason outside the closed sets
        raise PlanError(f"plan file is not a {SCHEMA_VERSION} plan: {type(exc).__name__}: {exc}") from None


def check_live(change: Change, live: Obj | None) -> None:
    """Refuse (``StalePlanError``) when the live object moved since the plan saw it."""
    meta = (live or {}).get("metadata") or {}
    seen = (change.live_uid, change.live_resource_version)
    now = (meta.get("uid"), meta.get("resourceVersion")) if live is not None else (None, None)
    if seen != now:
        raise StalePlanError(
            "live object changed since the plan was made",
            cluster=change.dest,
            bundle=str(change.bundle),
            object=str(change.key),
        )


def check_object(change: Change, rendered: Obj) -> Obj:
    """The object to apply for ``change``: ``rendered`` (re-rendered at the plan's revision) if its hash matches."""
    if inventory.fingerprint(rendered) != change.object_hash:
        raise StalePlanError(
            "rendered object differs from the planned one",
            cluster=change.dest,
            bundle=str(change.bundle),
            object=str(change.key),
        )
    return rendered


def _ordered(counts: Counter[str]) -> dict[str, int]:
    """Counts in the order of ``Action``, without zeros."""
    return {a.value: counts[a.value] for a in Action if counts[a.value]}
