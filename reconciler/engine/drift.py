"""The drift scan as an engine step: what was applied, what is live, what drifted, what to heal.

::

    applied.record_applied(store, planned.render.bundles, revision=...)            # reconcile.apply_plan does it
    report = drift.scan(store, connections=conns, fleet_name=repo.name,
                        policies=drift.policies_of(targeting.build(repo)), now=now)                 # on its interval
    drift.heal(report, repo=repo, session=session)                                 # selfHeal bundles

Each scan also records, per bundle, the worst health (``core.health``) of its live objects, for the
dashboard. ``engine.applied.record_applied`` keeps, after every apply, the desired objects the inventory confirms
as applied, sealed (see there). ``scan`` reads those
back (one query), observes each destination cluster once (``kube.observe``: one label-selected LIST
per kind, a GET for an applied object the LIST did not find, e.g. because its labels were removed),
compares with ``core.drift.scan`` and writes the result to the store: drift upserted (the store keeps
first-seen), drift that went away resolved, nothing resolved on a cluster that could not be read.
``heal`` re-plans the clusters of self-heal entries and applies only those objects through the
engine (which forces conflicts only on fields we own, ADR 0007).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from reconciler import metrics
from reconciler.core import drift, health, targeting
from reconciler.core.conditions import Health
from reconciler.core.desired import BundleId, BundlePolicy
from reconciler.core.drift import Who
from reconciler.core.inventory import Inventory
from reconciler.core.live import LiveCluster
from reconciler.core.objects import Obj, ObjectKey
from reconciler.core.plans import ACTIONABLE, Change, Plan
from reconciler.engine import fleetrun, reconcile
from reconciler.engine.ports import AppliedView, StateStore
from reconciler.kube import observe
from reconciler.kube.connections import Connections
from reconciler.spec.loader import FleetRepo

Slot = tuple[str, BundleId]
"""(destination cluster, bundle)."""


# ---- the scan -------------------------------------------------------------------------------------


def policies_of(targets: Iterable[targeting.Target]) -> dict[Slot, BundlePolicy]:
    """Each target's bundle policy (selfHeal, ignore rules) from the fleet spec; no render needed."""
    return {(t.dest, t.id): t.policy for t in targets}


def scan(
    store: StateStore,
    *,
    connections: Connections,
    fleet_name: str,
    policies: Mapping[Slot, BundlePolicy],
    now: datetime,
    clusters: Collection[str] = (),
    workers: int = 8,
    health_rules: Sequence[health.Rule] = (),
    destinations: Collection[str] | None = None,
) -> drift.Report:
    """Scan every applied object (of fleet ``clusters`` when given, on ``destinations`` when given: a
    replica's share) and record what drifted."""
    records = [r for r in store.applied.all() if (not clusters or r.bundle.cluster in clusters)
               and (destinations is None or r.cluster in destinations)]
    applied = [_applied(r, policies.get((r.cluster, r.bundle))) for r in records]
    live = observe_all(applied, connections=connections, fleet_name=fleet_name, workers=workers)
    reconcile.record_step(store, live)
    store.health.record(bundle_health(applied, live, rules=health_rules))
    seen = {(d.cluster, d.bundle, _key(d.object_key)): d.first_seen.isoformat() for d in store.drifts.open()}
    report = drift.scan(applied=applied, live=live, first_seen=seen, now=now.isoformat())
    resolved = persist(
        store, report, scanned={(a.dest, a.bundle) for a in applied if live[a.dest].is_reachable}
    )
    announce(store, [e for e in report.entries if e.id not in seen], resolved=resolved)
    return report


def _applied(record: AppliedView, policy: BundlePolicy | None) -> drift.Applied:
    chosen = policy or BundlePolicy()
    return drift.Applied(
        record.cluster, record.bundle, record.body, self_heal=chosen.self_heal, ignore=chosen.ignore
    )


def _key(text: str) -> ObjectKey:
    """An ``ObjectKey`` back from its ``str`` form (``Kind.group/ns/name`` or ``Kind.group/name``)."""
    kind_group, _, rest = text.partition("/")
    namespace, _, name = rest.rpartition("/")
    kind, _, group = kind_group.partition(".")
    return ObjectKey(group=group, kind=kind, namespace=namespace, name=name)


def bundle_health(
    applied: Sequence[drift.Applied], live: Mapping[str, LiveCluster], *, rules: Sequence[health.Rule] = ()
) -> list[tuple[str, BundleId, Health, str]]:
    """``(dest, bundle, health, reason)`` per bundle on a reachable cluster: its worst object's health."""
    found: dict[Slot, list[health.Status]] = {}
    for item in applied:
        cluster = live[item.dest]
        if cluster.is_reachable:
            found.setdefault((item.dest, item.bundle), []).append(health.check(cluster.get(item.key), rules=rules))
    out = []
    for (dest, bundle), statuses in sorted(found.items()):
        worst = health.aggregate(statuses)
        out.append((dest, bundle, worst.health, worst.reason))
    return out


def observe_all(
    applied: Sequence[drift.Applied], *, connections: Connections, fleet_name: str, workers: int
) -> dict[str, LiveCluster]:
    """Each destination cluster observed once, ``workers`` at a time."""
    wanted: dict[str, list[Obj]] = {}
    for item in applied:
        wanted.setdefault(item.dest, []).append(item.object)

    def one(dest: str) -> LiveCluster:
        started = time.monotonic()
        try:
            return observe_one(dest, connections=connections, fleet_name=fleet_name, objects=wanted[dest])
        finally:
            metrics.DRIFT_SCAN_SECONDS.labels(cluster=dest).observe(time.monotonic() - started)

    names = sorted(wanted)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="drift") as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


def observe_one(dest: str, *, connections: Connections, fleet_name: str, objects: list[Obj]) -> LiveCluster:
    """One cluster's live objects; a cluster we cannot read (or not yet) is unreachable, never "missing"."""
    pending = LiveCluster.unreachable(dest, reason="kubeconfig not available yet")
    return observe.observe_dest(dest, connections, fleet=fleet_name, desired=objects, inventory=(), pending=pending)


def persist(store: StateStore, report: drift.Report, *, scanned: Iterable[Slot]) -> int:
    """Upsert the entries, resolve the scanned bundles' other open drift (returns how many), refresh
    the drift gauges."""
    found: dict[Slot, list[ObjectKey]] = {}
    for entry in report.entries:
        store.drifts.report(
            entry.dest, entry.bundle, entry.key, patch=owned_patch(entry), diff=entry.diff, who=who(entry)
        )
        found.setdefault((entry.dest, entry.bundle), []).append(entry.key)
    resolved = sum(
        store.drifts.resolve_others(dest, bundle, still=found.get((dest, bundle), []))
        for dest, bundle in sorted(set(scanned))
    )
    per_cluster: dict[str, int] = {dest: 0 for dest, _ in scanned}
    for entry in report.entries:
        per_cluster[entry.dest] = per_cluster.get(entry.dest, 0) + 1
    for dest, count in per_cluster.items():
        metrics.DRIFT_OBJECTS.labels(cluster=dest).set(count)
    return resolved


def announce(store: StateStore, new: Sequence[drift.Entry], *, resolved: int) -> None:
    """One event per newly drifted object, one for what resolved (the dashboard's event log)."""
    for entry in new:
        by = ", ".join(str(m) for m in entry.managers) or "deleted out of band"
        store.events.add(
            "DriftDetected",
            f"{entry.key} {entry.kind.value} by {by}",
            level="warning",
            cluster=entry.dest,
            bundle=str(entry.bundle),
        )
    if resolved:
        store.events.add("DriftResolved", f"{resolved} drifted object(s) back in sync")


def owned_patch(entry: drift.Entry) -> list[dict[str, object]]:
    """The entry's JSON patch with each operation naming the manager and operation that own its field
    now (extra members, which RFC 6902 tells appliers to ignore)."""
    if not entry.fields:
        return list(entry.patch)
    return [
        {**op, "manager": field.manager.name, "operation": field.manager.operation}
        for op, field in zip(entry.patch, entry.fields, strict=True)
    ]


def who(entry: drift.Entry) -> Who:
    """The first manager that changed the entry's fields (the store keeps one per entry)."""
    managers = [m for m in entry.managers if m.name != drift.UNKNOWN]
    if not managers:
        return Who()
    first = managers[0]
    return Who(manager=first.name, operation=first.operation, time=_time(first.time))


def _time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


# ---- self-heal ------------------------------------------------------------------------------------


def heal(
    report: drift.Report, *, repo: FleetRepo, session: reconcile.Session,
    targets: Sequence[targeting.Target] | None = None,
) -> reconcile.ApplyReport | None:
    """Re-apply the drifted objects of self-heal bundles (only those); ``apply_plan`` records them."""
    wanted = {(e.dest, e.bundle, str(e.key)) for e in drift.to_heal(report.entries)}
    return heal_objects(wanted, repo=repo, session=session, asked="self-heal", targets=targets)


def heal_objects(wanted: Collection[tuple[str, BundleId, str]], *, repo: FleetRepo, session: reconcile.Session,
                 asked: str, targets: Sequence[targeting.Target] | None = None) -> reconcile.ApplyReport | None:
    """Re-apply ``wanted`` drifted objects ((destination, bundle, object key)), whatever their bundle's
    ``selfHeal`` says: the caller chose them (the daemon's self-heal, or a person through the API)."""
    if not wanted:
        return None
    planned = reconcile.plan_fleet(repo, session=session, clusters=sorted({b.cluster for _, b, _ in wanted}),
                                   targets=targets)
    inventory = session.store.inventories.load_all()
    narrowed = dataclasses.replace(planned, plan=only(planned.plan, wanted, inventory=inventory))
    options = reconcile.ApplyOptions(heal=True, rollout=fleetrun.Options(ungated=True))
    result = reconcile.apply_plan(narrowed, session=session, options=options)
    for cluster in sorted({b.cluster for _, b, _ in wanted}):
        healed = sum(o.unit.writes for o in result.outcomes if o.unit is not None and o.cluster == cluster)
        session.store.events.add("Healed", f"{healed} drifted object(s) of {cluster} re-applied ({asked})",
                                 cluster=cluster)
    return result


def only(plan: Plan, wanted: Collection[tuple[str, BundleId, str]], *, inventory: Inventory) -> Plan:
    """``plan`` cut down to the actionable changes of ``wanted`` objects whose desired object is the one
    last applied (waits on dropped steps removed). A desired object that moved since is left to the
    next reconcile and its rollout, not rushed out by self-heal."""
    kept = [
        c
        for c in plan.changes
        if c.action in ACTIONABLE and (c.dest, c.bundle, str(c.key)) in wanted and unmoved(c, inventory)
    ]
    steps = {c.step for c in kept}
    changes = tuple(dataclasses.replace(c, after=tuple(s for s in c.after if s in steps)) for c in kept)
    return dataclasses.replace(plan, changes=changes)


def unmoved(change: Change, inventory: Inventory) -> bool:
    """True when the inventory holds ``change``'s object with the fingerprint of what it would apply."""
    held = inventory.get(change.dest, change.bundle)
    entry = held.entry(change.key) if held is not None else None
    return entry is not None and entry.fingerprint == change.object_hash
