"""Rollout units of a plan (ADR 0010): a fleet cluster's changes of one assignment.

A cluster changed by two assignments is two units, each rolled out in the stages of its own
assignment, so one assignment's approval or pause holds only that assignment's bundles. A unit of
unchanged objects only joins the cluster's ``direct`` unit: a gate never holds a cluster that has
nothing to apply. Changes held back for a reason of the cluster's own (unreachable, paused) stay in
their assignment's unit, so they count against its rollout's failure budget. A provider cluster (one whose steps others wait for, such
as the management cluster) is a single ``direct`` unit: it runs first, whole.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

from reconciler.core import health, rollout
from reconciler.core.desired import BundleId, DesiredBundle
from reconciler.core.live import LiveCluster
from reconciler.core.objects import ObjectKey
from reconciler.core.plans import Action, Change, Plan
from reconciler.core.statuses import UnitState

Unit = tuple[str, str]
"""(fleet cluster, rollout group: an assignment name or ``direct``)."""


def split(plan: Plan, *, sources: Mapping[BundleId, str], providers: Collection[str]) -> dict[Unit, list[Change]]:
    """The plan's changes per unit, in plan order."""
    found: dict[Unit, list[Change]] = {}
    for change in plan.changes:
        found.setdefault(_unit_of(change, sources, providers), []).append(change)
    return _idle_to_direct(found)


def installs(units: Mapping[Unit, Sequence[Change]]) -> frozenset[Unit]:
    """Units that are a first install: the cluster runs nothing of the assignment yet (every change creates)."""
    return frozenset(u for u, changes in units.items() if changes and all(c.action is Action.CREATE for c in changes))


def _unit_of(change: Change, sources: Mapping[BundleId, str], providers: Collection[str]) -> Unit:
    cluster = change.bundle.cluster
    if cluster in providers:
        return cluster, rollout.DIRECT
    return cluster, rollout.group_of(sources.get(change.bundle, "cluster"))


def _idle_to_direct(found: Mapping[Unit, list[Change]]) -> dict[Unit, list[Change]]:
    out: dict[Unit, list[Change]] = {}
    for (cluster, group), changes in found.items():
        idle = all(c.action is Action.UNCHANGED for c in changes)
        out.setdefault((cluster, rollout.DIRECT if idle else group), []).extend(changes)
    return out


def members(bundles: Iterable[DesiredBundle], *, providers: Collection[str]) -> dict[Unit, list[DesiredBundle]]:
    """Every unit the render puts on the fleet, changed or not, with its bundles (a stage's members)."""
    found: dict[Unit, list[DesiredBundle]] = {}
    for bundle in bundles:
        cluster = bundle.id.cluster
        group = rollout.DIRECT if cluster in providers else rollout.group_of(bundle.source)
        found.setdefault((cluster, group), []).append(bundle)
    return found


def idle_state(bundles: Sequence[DesiredBundle], live: Mapping[str, LiveCluster]) -> UnitState:
    """The state of a unit with nothing to apply, from its objects as observed: a Degraded object or an
    unreachable cluster fails it, a Progressing or missing one leaves it applied but not healthy."""
    found: list[health.Health] = []
    for bundle in bundles:
        cluster = live.get(bundle.dest)
        if cluster is None or not cluster.is_reachable:
            return UnitState.FAILED
        found += [health.check(cluster.get(ObjectKey.of(obj))).health for obj in bundle.objects]
    if health.Health.DEGRADED in found:
        return UnitState.FAILED
    return UnitState.APPLIED if health.Health.PROGRESSING in found else UnitState.HEALTHY
