"""The plan of a pull request: what it changes, apart from what is already so. Pure: no I/O, no clock.

``compose`` takes the rendered desired state at the base and at the head of a pull request and the two
plans computed from them against the same live clusters and inventory (the daemon's state), and sorts
what they say into four parts:

- ``bundles``: head vs base, rendered. The bundles whose desired state the pull request changes (added,
  removed, re-rendered: their content hash moved, or one side failed to render), each with the object
  diffs between the two renders (secrets masked).
- ``changes``: head vs live, for exactly the objects of those diffs: what merging would do to them
  (the head plan's changes, with their live diffs and steps).
- ``approvals``: what the merge will wait for: steps that need approval (prunes over the budget, of a
  protected kind, of a bundle that left the desired state, adoptions, force-pushes) and rollout stages
  that need a manual approval before they run the pull request's changes (``StageGate``: first installs
  are held by an approval too, ADR 0010).
- ``on_base``: what the base plan would already do or hold back outside the pull request's objects
  (drift, changes waiting for approval, unreachable clusters), listed apart so it is not read as the
  pull request's change.

``content_hash`` is the head's rendered content (every bundle's hash); ``matches`` tells whether a
plan computed later (at the merge) still is the reviewed one: same rendered content, same live objects
and inventory-driven deletions, step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.core import diff, inventory, masks
from reconciler.core.desired import BundleId, DesiredBundle
from reconciler.core.objects import Obj, ObjectKey
from reconciler.core.plans import ACTIONABLE, Action, BundleRecord, Change, Plan

SCHEMA_VERSION = "stackfleet.dev/pr-plan/v1"
ON_BASE = ACTIONABLE | {Action.CONFLICT, Action.SKIPPED, Action.REFUSED}


class Edit(StrEnum):
    """How the pull request changes one rendered object."""

    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"


class Hold(StrEnum):
    """Why the merge would wait: a step needing approval, or a rollout stage needing one."""

    STEP = "step"
    STAGE = "stage"


@dataclass(frozen=True)
class ObjectDiff:
    key: ObjectKey
    edit: Edit
    diff: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": inventory.key_to_dict(self.key), "edit": self.edit.value, "diff": self.diff}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ObjectDiff:
        return cls(inventory.key_from_dict(data["key"]), Edit(data["edit"]), str(data.get("diff", "")))


@dataclass(frozen=True)
class BundleDiff:
    """One bundle on one destination whose rendered desired state differs between base and head."""

    bundle: BundleId
    dest: str
    base_version: str
    head_version: str
    objects: tuple[ObjectDiff, ...]
    error: str = ""
    """The head's render failure, when it failed."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "bundle": inventory.bundle_to_dict(self.bundle), "dest": self.dest,
            "baseVersion": self.base_version, "headVersion": self.head_version,
            "objects": [o.to_dict() for o in self.objects], "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BundleDiff:
        return cls(BundleId(**data["bundle"]), str(data["dest"]), str(data.get("baseVersion", "")),
                   str(data.get("headVersion", "")), tuple(ObjectDiff.from_dict(o) for o in data.get("objects", ())),
                   str(data.get("error", "")))


@dataclass(frozen=True)
class StageGate:
    """A rollout stage that needs approval and holds ``bundle``'s changes on ``cluster`` (engine-computed)."""

    cluster: str
    bundle: BundleId
    stage: str
    first_install: bool = False


@dataclass(frozen=True)
class Approval:
    hold: Hold
    cluster: str
    bundle: BundleId
    reason: str
    key: ObjectKey | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"hold": self.hold.value, "cluster": self.cluster, "bundle": inventory.bundle_to_dict(self.bundle),
                "reason": self.reason, "key": inventory.key_to_dict(self.key) if self.key else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Approval:
        key = inventory.key_from_dict(data["key"]) if data.get("key") else None
        return cls(Hold(data["hold"]), str(data["cluster"]), BundleId(**data["bundle"]), str(data["reason"]), key)


@dataclass(frozen=True)
class PullRequestPlan:
    """See the module docstring."""

    base: str
    head: str
    bundles: tuple[BundleDiff, ...] = ()
    changes: tuple[Change, ...] = ()
    approvals: tuple[Approval, ...] = ()
    on_base: tuple[Change, ...] = ()
    content_hash: str = ""
    number: int | None = None
    created_at: str = ""

    @property
    def has_changes(self) -> bool:
        return bool(self.bundles) or any(c.action in ACTIONABLE for c in self.changes)

    @property
    def clusters(self) -> tuple[str, ...]:
        """The fleet clusters whose desired state the pull request changes."""
        return tuple(sorted({b.bundle.cluster for b in self.bundles}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION, "number": self.number, "base": self.base, "head": self.head,
            "createdAt": self.created_at, "contentHash": self.content_hash, "hasChanges": self.has_changes,
            "clusters": list(self.clusters), "bundles": [b.to_dict() for b in self.bundles],
            "changes": [c.to_dict() for c in self.changes], "approvals": [a.to_dict() for a in self.approvals],
            "onBase": [c.to_dict() for c in self.on_base],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PullRequestPlan:
        number = data.get("number")
        return cls(
            base=str(data["base"]), head=str(data["head"]),
            bundles=tuple(BundleDiff.from_dict(b) for b in data.get("bundles", ())),
            changes=tuple(Change.from_dict(c) for c in data.get("changes", ())),
            approvals=tuple(Approval.from_dict(a) for a in data.get("approvals", ())),
            on_base=tuple(Change.from_dict(c) for c in data.get("onBase", ())),
            content_hash=str(data.get("contentHash", "")), number=int(number) if number is not None else None,
            created_at=str(data.get("createdAt", "")),
        )


Side = tuple[str, BundleId]
"""A bundle on a destination."""


def compose(*, base: Sequence[DesiredBundle], head: Sequence[DesiredBundle], base_plan: Plan, head_plan: Plan,
            gates: Iterable[StageGate] = (), number: int | None = None) -> PullRequestPlan:
    """The pull request's plan (see the module docstring)."""
    bundles = _bundle_diffs(_by_side(base), _by_side(head), base_plan, head_plan)
    scope = {(b.dest, b.bundle, o.key) for b in bundles for o in b.objects}
    scope |= {(r.dest, r.bundle, c.key) for r in _errors(head_plan) for c in head_plan.changes
              if (c.dest, c.bundle) == (r.dest, r.bundle)}
    changes = tuple(c for c in head_plan.changes if (c.dest, c.bundle, c.key) in scope)
    on_base = tuple(c for c in base_plan.changes
                    if c.action in ON_BASE and (c.dest, c.bundle, c.key) not in scope and not _idle(c))
    return PullRequestPlan(
        base=base_plan.revision, head=head_plan.revision, bundles=bundles, changes=changes,
        approvals=_approvals(changes, gates), on_base=on_base, content_hash=content_hash(head_plan),
        number=number, created_at=head_plan.created_at,
    )


def content_hash(plan: Plan) -> str:
    """One hash of every bundle's rendered content (and render failure) in ``plan``."""
    parts = sorted(f"{r.dest}|{r.bundle}|{r.content_hash}|{r.error}" for r in plan.bundles)
    return "sha256:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def matches(reviewed: Plan, fresh: Plan) -> str:
    """Why ``fresh`` is not the ``reviewed`` plan any more (rendered content, a step, a live object); "" if it is."""
    if content_hash(reviewed) != content_hash(fresh):
        return "the rendered content differs from the reviewed head"
    seen = {_step_identity(c) for c in reviewed.changes if c.action in ACTIONABLE}
    now = {_step_identity(c) for c in fresh.changes if c.action in ACTIONABLE}
    if seen != now:
        moved = sorted(seen ^ now)[0]
        return f"{moved[0]} {moved[1]} {moved[2]}: live objects or the inventory moved since the review"
    return ""


def _step_identity(change: Change) -> tuple[str, str, str, str, str, str, str]:
    return (change.dest, str(change.key), change.action.value, str(change.bundle), change.object_hash,
            change.live_uid or "", change.live_resource_version or "")


def _by_side(bundles: Sequence[DesiredBundle]) -> dict[Side, DesiredBundle]:
    return {(b.dest, b.id): b for b in bundles}


def _errors(plan: Plan) -> list[BundleRecord]:
    return [r for r in plan.bundles if r.error and r.error != "removed from the desired state"]


def _bundle_diffs(base: Mapping[Side, DesiredBundle], head: Mapping[Side, DesiredBundle], base_plan: Plan,
                  head_plan: Plan) -> tuple[BundleDiff, ...]:
    failed_base = {(r.dest, r.bundle): r.error for r in _errors(base_plan)}
    failed_head = {(r.dest, r.bundle): r.error for r in _errors(head_plan)}
    found: list[BundleDiff] = []
    for side in sorted({*base, *head, *failed_head}):
        before, after = base.get(side), head.get(side)
        if before is not None and after is not None and before.content_hash == after.content_hash:
            continue
        if before is None and after is None and failed_base.get(side) == failed_head.get(side):
            continue
        found.append(BundleDiff(
            bundle=side[1], dest=side[0], base_version=before.version if before else "",
            head_version=after.version if after else "",
            objects=() if side in failed_head else _object_diffs(before, after),
            error=failed_head.get(side, ""),
        ))
    return tuple(found)


def _object_diffs(before: DesiredBundle | None, after: DesiredBundle | None) -> tuple[ObjectDiff, ...]:
    old = _objects(before)
    new = _objects(after)
    found: list[ObjectDiff] = []
    for key in sorted({*old, *new}):
        difference = diff.render(before=_shown(old.get(key)), after=_shown(new.get(key)), labels=("base", "head"))
        if difference.changed:
            edit = Edit.ADDED if key not in old else Edit.REMOVED if key not in new else Edit.MODIFIED
            found.append(ObjectDiff(key, edit, difference.text))
    return tuple(found)


def _objects(bundle: DesiredBundle | None) -> dict[ObjectKey, Obj]:
    if bundle is None:
        return {}
    return {ObjectKey.of(o): o for o in (*bundle.objects, *(h.object for h in bundle.hooks))}


def _shown(obj: Obj | None) -> Obj | None:
    return masks.mask(obj) if obj is not None else None


def _idle(change: Change) -> bool:
    return change.action is Action.UNCHANGED


def _approvals(changes: Sequence[Change], gates: Iterable[StageGate]) -> tuple[Approval, ...]:
    found = [Approval(Hold.STEP, c.dest, c.bundle, c.approval, c.key) for c in changes if c.approval]
    acting = {(c.bundle.cluster, c.bundle) for c in changes if c.action in ACTIONABLE}
    staged: dict[tuple[str, str], Approval] = {}
    for gate in sorted(gates, key=lambda g: (g.cluster, g.stage, g.bundle)):
        if (gate.cluster, gate.bundle) in acting:
            install = " (a first install: approvals hold those too)" if gate.first_install else ""
            reason = f"rollout stage {gate.stage} needs approval{install}"
            staged.setdefault((gate.cluster, gate.stage), Approval(Hold.STAGE, gate.cluster, gate.bundle, reason))
    return (*found, *staged.values())
