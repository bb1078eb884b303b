"""The planner: desired, live, inventory and policy in, a ``Plan`` out. Pure: no I/O, no clock.

Call it as::

    planner.plan(desired=bundles, failures=render_failures, live={name: LiveCluster, ...},
                 inventory=inv, policy=planner.PlanPolicy(), revision="main@sha1:...",
                 previous_revision_forced=False, now=datetime_from_the_caller)

Per desired object: ``create`` when absent, ``unchanged``/``update`` when it carries this bundle's
marks (or a bundle of the same stack hands it over in this commit), ``adopt`` when it exists without
marks (needs approval unless the bundle allows adoption), ``conflict`` naming the owner when its marks
name any other bundle or fleet; the owner's own steps (its prune of the object) go on. An update that moves a Cluster API object's
Kubernetes version carries a ``core.upgrades.VersionChange``; a downgrade or a skip of more than one
minor version needs approval. Per inventory entry the desired state dropped:
``delete`` only when the live object still carries this bundle's marks, else ``skipped: not owned``.

Guard rails (``policy.guards``, ``core.guards``): an object a guard forbids is ``refused``, naming the
guard; nothing of it is written, and it is not pruned either (it is still declared).

Safety rails: an empty render never prunes (unless ``allowEmpty``); deletions over the prune budget,
of protected kinds, after a force-pushed revision, or of a whole bundle that left the desired state
need approval; a paused, unreachable or unobserved cluster and a bundle that failed to render get
``skipped`` and nothing there is deleted; so do the objects of an API group the cluster could not
vouch for (``LiveCluster.unknown_groups``: discovery Stale, or 503), named in the reason, while the
rest of that cluster proceeds. A child cluster that left the fleet (``policy.retiring``)
has its own objects deleted while it is reachable and abandoned with a note when it is not; deleting
its Cluster API ``Cluster`` needs approval and says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reconciler.core import diff, guards, masks, ordering, retirements, upgrades
from reconciler.core import live as lives
from reconciler.core.desired import BundleId, DesiredBundle, HelmHook, RenderFailure
from reconciler.core.guards import GuardPolicy
from reconciler.core.inventory import BundleInventory, Inventory, fingerprint
from reconciler.core.live import LiveCluster
from reconciler.core.objects import ANNOTATION_CREATED_NAMESPACE, Obj, ObjectKey, Owner, read_owner
from reconciler.core.plans import ACTIONABLE, Action, BundleRecord, Change, ClusterRecord, Hook, Plan
from reconciler.core.reasons import Reason

PROTECTED_KINDS = frozenset({"Namespace", "CustomResourceDefinition", "PersistentVolumeClaim"})
ABANDONED = "abandoned with its cluster, which is deleted through Cluster API"
ORPHAN = "carries this bundle's marks but is in no inventory: left alone (never pruned)"


@dataclass(frozen=True)
class PlanPolicy:
    """Fleet-wide planning policy (mirrors the fleet spec's ``policy``)."""

    prune_budget_percent: int = 30
    protected_kinds: frozenset[str] = PROTECTED_KINDS
    paused_clusters: frozenset[str] = frozenset()
    retiring: frozenset[str] = frozenset()
    """Fleet clusters that left the fleet and whose Cluster API Cluster is deleted (``core.retirements``)."""
    guards: GuardPolicy = dataclasses.field(default_factory=lambda: GuardPolicy())
    """What each stack may deploy; an object a guard forbids is ``refused`` (``core.guards``)."""


@dataclass(frozen=True)
class _Context:
    live: Mapping[str, LiveCluster]
    inventory: Inventory
    policy: PlanPolicy
    forced: bool
    crds: Mapping[str, frozenset[str]]
    """Per destination, the kinds whose CRD is in the desired state."""
    claims: Mapping[tuple[str, ObjectKey], frozenset[BundleId]]
    """Per destination and object, the bundles whose desired state declares it."""

    def cluster(self, name: str) -> LiveCluster:
        return self.live.get(name) or lives.unobserved(name)


def plan(
    *,
    desired: Sequence[DesiredBundle],
    failures: Sequence[RenderFailure],
    live: Mapping[str, LiveCluster],
    inventory: Inventory,
    policy: PlanPolicy,
    revision: str,
    previous_revision_forced: bool,
    now: datetime,
) -> Plan:
    """The fleet-wide plan (see the module docstring)."""
    ctx = _Context(live, inventory, policy, previous_revision_forced, _crds(desired), _claims(desired, failures, inventory))
    changes = [c for b in desired for c in _bundle_changes(b, ctx)]
    changes += [c for f in failures for c in _failure_changes(f, ctx)]
    dropped = _dropped(desired, failures, inventory)
    changes += [c for inv in dropped for c in _dropped_changes(inv, ctx)]
    changes += _orphans(desired, ctx)
    return Plan(
        revision=revision,
        created_at=now.isoformat(),
        forced=previous_revision_forced,
        changes=_number(changes, desired),
        bundles=_bundle_records(desired, failures, dropped),
        clusters=_cluster_records(live, changes),
    )


def _crds(desired: Sequence[DesiredBundle]) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for bundle in desired:
        kinds = {k for k in map(ordering.provided_kind, bundle.objects) if k}
        found.setdefault(bundle.dest, set()).update(kinds)
    return {dest: frozenset(kinds) for dest, kinds in found.items()}


def _claims(desired: Sequence[DesiredBundle], failures: Sequence[RenderFailure],
            inventory: Inventory) -> dict[tuple[str, ObjectKey], frozenset[BundleId]]:
    """Who declares each object; a bundle that failed to render still claims what its inventory holds."""
    found: dict[tuple[str, ObjectKey], set[BundleId]] = {}
    for bundle in desired:
        for key in bundle.keys:
            found.setdefault((bundle.dest, key), set()).add(bundle.id)
    for failure in failures:
        held = inventory.get(failure.dest, failure.id)
        for key in held.keys if held else ():
            found.setdefault((failure.dest, key), set()).add(failure.id)
    return {k: frozenset(v) for k, v in found.items()}


def _bundle_changes(bundle: DesiredBundle, ctx: _Context) -> list[Change]:
    cluster = ctx.cluster(bundle.dest)
    inv = ctx.inventory.get(bundle.dest, bundle.id)
    held = _hold_reason(bundle.id, bundle.dest, cluster, ctx, paused=bundle.paused)
    if held:
        keys = sorted({*bundle.keys, *(inv.keys if inv else ())})
        return [_skipped(bundle.id, bundle.dest, k, *held, cluster.get(k)) for k in keys]
    changes = [_refused(obj, bundle, cluster, ctx) or _object_change(obj, bundle, cluster, ctx)
               for obj in bundle.objects]
    changes += _prunes(bundle, inv, cluster, ctx)
    if any(c.action in ACTIONABLE for c in changes):
        changes += [_refused(h.object, bundle, cluster, ctx) or _hook_change(h, bundle, cluster) for h in bundle.hooks]
    return changes


def _refused(obj: Obj, bundle: DesiredBundle, cluster: LiveCluster, ctx: _Context) -> Change | None:
    """A ``refused`` change when a guard rail forbids ``obj`` (nothing of it is written), else ``None``."""
    found = guards.judge(obj, stack=bundle.id.stack, dest=bundle.dest, policy=ctx.policy.guards)
    if found is None:
        return None
    key = ObjectKey.of(obj)
    return _base(Action.REFUSED, bundle.id, bundle.dest, key, cluster.get(key), why=Reason.GUARDED,
                 reason=f"refused: {found.message}")


def _hook_change(hook: HelmHook, bundle: DesiredBundle, cluster: LiveCluster) -> Change:
    """A hook runs when its bundle changes; an existing hook object must be ours (it gets replaced)."""
    key = ObjectKey.of(hook.object)
    if cluster.unknown(key):
        return _skipped(bundle.id, bundle.dest, key, Reason.UNKNOWN_GROUP, cluster.unknown(key), None)
    current = cluster.get(key)
    owner = read_owner(current) if current is not None else None
    if current is not None and (owner is None or not _is_this(owner, bundle)):
        reason = f"{hook.phase} hook object exists and is " + (
            f"owned by {owner.fleet}/{owner.stack}/{owner.bundle}" if owner else "not ours"
        )
        return _base(Action.CONFLICT, bundle.id, bundle.dest, key, current, why=Reason.HOOK_NOT_OURS, reason=reason)
    change = _apply(Action.CREATE, hook.object, bundle, current)
    return dataclasses.replace(
        change, hook=Hook(hook.phase, hook.weight, hook.delete_policies, hook.last_phase), why=Reason.HELM_HOOK,
        reason=f"helm {hook.phase} hook" + (f" (kept until {hook.last_phase})" if hook.last_phase else ""),
    )


def _hold_reason(
    bundle: BundleId, dest: str, cluster: LiveCluster, ctx: _Context, *, paused: bool
) -> tuple[Reason, str] | None:
    if paused or bundle.cluster in ctx.policy.paused_clusters or dest in ctx.policy.paused_clusters:
        return Reason.PAUSED, "paused"
    if not cluster.is_reachable:
        said = f"cluster {dest} is {cluster.status.value}"
        return Reason.UNREACHABLE, f"{said}: {cluster.reason}" if cluster.reason else said
    return None


def _skipped(bundle: BundleId, dest: str, key: ObjectKey, why: Reason, reason: str, live: Obj | None) -> Change:
    return _base(Action.SKIPPED, bundle, dest, key, live, why=why, reason=reason)


def _base(
    action: Action,
    bundle: BundleId,
    dest: str,
    key: ObjectKey,
    live: Obj | None,
    *,
    why: Reason | None = None,
    reason: str = "",
) -> Change:
    """A change about ``key`` recording the live uid and resourceVersion the planner saw."""
    return Change(
        action=action,
        dest=dest,
        bundle=bundle,
        key=key,
        why=why,
        reason=reason,
        live_uid=lives.uid_of(live),
        live_resource_version=lives.resource_version_of(live),
    )


def _object_change(obj: Obj, bundle: DesiredBundle, cluster: LiveCluster, ctx: _Context) -> Change:
    key = ObjectKey.of(obj)
    if cluster.unknown(key):
        return _skipped(bundle.id, bundle.dest, key, Reason.UNKNOWN_GROUP, cluster.unknown(key), None)
    current = cluster.get(key)
    if (
        current is None
        and not cluster.serves(key.group_kind)
        and key.group_kind not in ctx.crds.get(bundle.dest, ())
    ):
        said = f"kind {key.group_kind} is not served by cluster {bundle.dest}"
        return _skipped(bundle.id, bundle.dest, key, Reason.NOT_SERVED, said, None)
    if current is None:
        return _apply(Action.CREATE, obj, bundle, current)
    owner = read_owner(current)
    if owner is None and _created_namespace(obj):
        return _base(Action.UNCHANGED, bundle.id, bundle.dest, key, current, why=Reason.KEPT,
                     reason="the namespace exists: createNamespace leaves it alone")
    if owner is None:
        approval = (
            ""
            if bundle.policy.allow_adoption
            else "exists without stackfleet marks; adoption needs allowAdoption or approval"
        )
        return _apply(Action.ADOPT, obj, bundle, current, approval=approval)
    if not _is_this(owner, bundle) and not _handed_over(owner, bundle, key, ctx):
        reason = f"owned by {owner.fleet}/{owner.stack}/{owner.bundle}"
        return _base(Action.CONFLICT, bundle.id, bundle.dest, key, current, why=Reason.OWNED_ELSEWHERE, reason=reason)
    return _apply(Action.UPDATE, obj, bundle, current, inventory=ctx.inventory.get(bundle.dest, bundle.id))


def _with_version_change(change: Change, obj: Obj, bundle: DesiredBundle, current: Obj | None) -> Change:
    """An update that moves a Cluster API object's Kubernetes version says so; a downgrade or a minor skip needs approval."""
    moved = upgrades.change_of(current, obj, cluster=bundle.id.cluster)
    if moved is None or change.action is not Action.UPDATE:
        return change
    approval = "; ".join(a for a in (change.approval, moved.approval) if a)
    return dataclasses.replace(change, kubernetes=moved, approval=approval)


def _is_this(owner: Owner, bundle: DesiredBundle) -> bool:
    return (owner.fleet, owner.stack, owner.bundle) == (bundle.fleet, bundle.id.stack, bundle.id.bundle)


def _handed_over(owner: Owner, bundle: DesiredBundle, key: ObjectKey, ctx: _Context) -> bool:
    """True for a move between two bundles of one stack in one commit: ``owner`` is a bundle of this
    fleet and stack whose inventory at this destination holds the object, and no bundle of that name
    declares it any more. Anything else carrying another owner's marks is a ``conflict`` naming it:
    another fleet or stack, a bundle still declaring it, or marks naming a bundle that never applied it.
    """
    if (owner.fleet, owner.stack) != (bundle.fleet, bundle.id.stack):
        return False
    if any((c.stack, c.bundle) == (owner.stack, owner.bundle) for c in ctx.claims.get((bundle.dest, key), ())):
        return False
    return any(inv.dest == bundle.dest and (inv.bundle.stack, inv.bundle.bundle) == (owner.stack, owner.bundle)
               and key in inv.keys for inv in ctx.inventory)


def _apply(
    action: Action,
    obj: Obj,
    bundle: DesiredBundle,
    current: Obj | None,
    *,
    approval: str = "",
    inventory: BundleInventory | None = None,
) -> Change:
    key = ObjectKey.of(obj)
    ignore = [p for rule in bundle.policy.ignore if rule.applies_to(key) for p in rule.pointers]
    difference = diff.compare(desired=obj, live=current, ignore=ignore)
    if action is Action.UPDATE and not difference.changed:
        return _base(Action.UNCHANGED, bundle.id, bundle.dest, key, current)
    entry = inventory.entry(key) if inventory else None
    sealed = masks.needs_masking(obj)
    change = dataclasses.replace(
        _base(action, bundle.id, bundle.dest, key, current),
        approval=approval,
        drift=entry is not None and entry.fingerprint == fingerprint(obj),
        object=masks.mask(obj) if sealed else obj,
        object_hash=fingerprint(obj),
        sealed=sealed,
        patch=difference.patch,
        diff=difference.text,
    )
    return _with_version_change(change, obj, bundle, current)


def _prunes(
    bundle: DesiredBundle, inv: BundleInventory | None, cluster: LiveCluster, ctx: _Context
) -> list[Change]:
    stale = sorted(inv.keys - set(bundle.keys)) if inv else []
    if not stale or inv is None:
        return []
    if not bundle.objects and not bundle.policy.allow_empty:
        reason = f"empty render would delete all {len(stale)} objects; needs allowEmpty"
        return [_skipped(bundle.id, bundle.dest, k, Reason.EMPTY_RENDER, reason, cluster.get(k)) for k in stale]
    if not bundle.policy.prune:
        reason = "prune disabled for this bundle"
        return [_skipped(bundle.id, bundle.dest, k, Reason.PRUNE_DISABLED, reason, cluster.get(k)) for k in stale]
    changes = [_prune(bundle.id, bundle.dest, k, cluster, ctx) for k in stale]
    budget = "" if not bundle.objects else _over_budget(changes, total=len(inv.entries), ctx=ctx)
    return [_with_approvals(c, budget, ctx) for c in changes]


def _prune(bundle: BundleId, dest: str, key: ObjectKey, cluster: LiveCluster, ctx: _Context) -> Change:
    if cluster.unknown(key):  # not "already gone": we could not look
        return _skipped(bundle, dest, key, Reason.UNKNOWN_GROUP, cluster.unknown(key), None)
    current = cluster.get(key)
    if current is None:
        return _base(Action.UNCHANGED, bundle, dest, key, None, why=Reason.ALREADY_GONE,
                     reason="already gone from the cluster")
    movers = sorted(c for c in ctx.claims.get((dest, key), ()) if c.stack == bundle.stack)
    if movers:  # a bundle of another stack declaring it gets a conflict; this prune goes on
        return _skipped(bundle, dest, key, Reason.MOVED, f"moved to bundle {movers[0]}", current)
    owner = read_owner(current)
    if owner is None or (owner.stack, owner.bundle) != (bundle.stack, bundle.bundle):
        reason = "not owned: the live object lost this bundle's marks"
        return _skipped(bundle, dest, key, Reason.NOT_OWNED, reason, current)
    if _created_namespace(current):
        return _skipped(bundle, dest, key, Reason.KEPT, "created by createNamespace: never pruned", current)
    difference = diff.compare(desired=None, live=current)
    deletion = _base(Action.DELETE, bundle, dest, key, current)
    return dataclasses.replace(deletion, patch=difference.patch, diff=difference.text)


def _over_budget(changes: Sequence[Change], *, total: int, ctx: _Context) -> str:
    deletes = sum(1 for c in changes if c.action is Action.DELETE)
    budget = ctx.policy.prune_budget_percent
    if total and deletes * 100 > budget * total:
        return f"deletes {deletes} of {total} objects ({deletes * 100 // total}% > budget {budget}%)"
    return ""


def _with_approvals(change: Change, budget: str, ctx: _Context, *extra: str) -> Change:
    if change.action is not Action.DELETE:
        return change
    reasons = [*extra, budget]
    if change.key.kind in ctx.policy.protected_kinds:
        reasons.append(f"{change.key.kind} is a protected kind")
    if ctx.forced:
        reasons.append("the revision was force-pushed (does not descend from the last applied one)")
    return dataclasses.replace(change, approval="; ".join(r for r in reasons if r))


def _orphans(desired: Sequence[DesiredBundle], ctx: _Context) -> list[Change]:
    """Live objects with a desired bundle's marks that no bundle declares and no inventory lists.

    They are reported (``skipped``) and never pruned: only the inventory makes an object prunable.
    """
    owners = {(b.dest, b.fleet, b.id.stack, b.id.bundle): b.id for b in sorted(desired, key=lambda b: b.id)}
    known = set(ctx.claims) | {(inv.dest, key) for inv in ctx.inventory for key in inv.keys}
    found: list[Change] = []
    for dest in sorted({b.dest for b in desired}):
        cluster = ctx.cluster(dest)
        for key, obj in sorted(cluster.objects.items()) if cluster.is_reachable else ():
            owner = read_owner(obj) if (dest, key) not in known else None
            bundle = owners.get((dest, owner.fleet, owner.stack, owner.bundle)) if owner else None
            if bundle is not None:
                found.append(_skipped(bundle, dest, key, Reason.ORPHAN, ORPHAN, obj))
    return found


def _failure_changes(failure: RenderFailure, ctx: _Context) -> list[Change]:
    inv = ctx.inventory.get(failure.dest, failure.id)
    cluster = ctx.cluster(failure.dest)
    reason = f"render failed: {failure.error}"
    return [
        _skipped(failure.id, failure.dest, k, Reason.RENDER_FAILED, reason, cluster.get(k))
        for k in sorted(inv.keys if inv else ())
    ]


def _dropped(
    desired: Sequence[DesiredBundle], failures: Sequence[RenderFailure], inventory: Inventory
) -> list[BundleInventory]:
    known = {(b.dest, b.id) for b in desired} | {(f.dest, f.id) for f in failures}
    return [inv for inv in inventory if (inv.dest, inv.bundle) not in known]


def _dropped_changes(inv: BundleInventory, ctx: _Context) -> list[Change]:
    cluster = ctx.cluster(inv.dest)
    held = _hold_reason(inv.bundle, inv.dest, cluster, ctx, paused=False)
    retiring = inv.bundle.cluster in ctx.policy.retiring
    if held and retiring and inv.dest == inv.bundle.cluster:
        held = Reason.ABANDONED, f"{ABANDONED}: {held[1]}"
    if held:
        return [_skipped(inv.bundle, inv.dest, k, *held, cluster.get(k)) for k in sorted(inv.keys)]
    whole = f"bundle left the desired state: deletes all {len(inv.entries)} objects"
    return [
        _with_approvals(_prune(inv.bundle, inv.dest, k, cluster, ctx), "", ctx, whole,
                        _child_deletion(inv, k, retiring=retiring))
        for k in sorted(inv.keys)
    ]


def _child_deletion(inv: BundleInventory, key: ObjectKey, *, retiring: bool) -> str:
    """Why deleting a Cluster API Cluster needs approval; a child that stays in the fleet is warned about."""
    if key.group_kind != retirements.CLUSTER_KIND or inv.dest == inv.bundle.cluster:
        return ""
    child = inv.bundle.cluster
    said = f"deletes child cluster {child} (Cluster API deprovisions it)"
    if retiring:
        return said
    return (f"{said} while {child} stays in the fleet: its add-ons cannot be applied afterwards; remove cluster "
            f"{child} from the fleet to delete it with its add-ons first")


def _number(changes: Sequence[Change], desired: Sequence[DesiredBundle]) -> tuple[Change, ...]:
    steps = [c for c in changes if c.action in ACTIONABLE]
    order = ordering.sequence([_item(c) for c in steps], bundles=[ordering.node(b) for b in desired])
    number = {index: n for n, (index, _) in enumerate(order, start=1)}
    numbered = [
        dataclasses.replace(steps[i], step=number[i], after=tuple(sorted(number[w] for w in waits)))
        for i, waits in order
    ]
    rest = sorted(
        (c for c in changes if c.action not in ACTIONABLE), key=lambda c: (c.dest, c.bundle, c.key)
    )
    return (*numbered, *rest)


def _item(change: Change) -> ordering.Item:
    obj = change.object
    return ordering.Item(
        bundle=change.bundle,
        dest=change.dest,
        key=change.key,
        wave=change.hook.weight if change.hook else ordering.wave_of(obj),
        delete=change.action is Action.DELETE,
        provides=ordering.provided_kind(obj) if obj is not None else None,
        hook=change.hook.phase if change.hook else ordering.FIRST if _created_namespace(obj) else "",
    )


def _created_namespace(obj: Obj | None) -> bool:
    """A Namespace of ``createNamespace``: created before the bundle's pre hooks, as Helm does."""
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    return bool(annotations.get(ANNOTATION_CREATED_NAMESPACE) == "true")


def _bundle_records(
    desired: Iterable[DesiredBundle], failures: Iterable[RenderFailure], dropped: Iterable[BundleInventory]
) -> tuple[BundleRecord, ...]:
    records = [BundleRecord(b.id, b.dest, b.version, b.content_hash) for b in desired]
    records += [BundleRecord(f.id, f.dest, error=f.error) for f in failures]
    records += [BundleRecord(inv.bundle, inv.dest, error="removed from the desired state") for inv in dropped]
    return tuple(sorted(records, key=lambda r: (r.dest, r.bundle)))


def _cluster_records(live: Mapping[str, LiveCluster], changes: Iterable[Change]) -> tuple[ClusterRecord, ...]:
    names = sorted({*live, *(c.dest for c in changes)})
    return tuple(_cluster_record(live.get(n) or lives.unobserved(n)) for n in names)


def _cluster_record(cluster: LiveCluster) -> ClusterRecord:
    return ClusterRecord(cluster.name, cluster.status, cluster.reason)
