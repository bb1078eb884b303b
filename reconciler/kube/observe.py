"""Observe one cluster for the planner: what we own there, and what we are about to create.

Per cluster: discovery (cached), one LIST per kind we have desired or inventory objects of, selected
by the fleet label (all namespaces, paginated), then one GET for each desired or inventory object those
LISTs did not find (to spot objects that exist without our marks: adoption and conflicts, and an
inventory object whose labels someone removed, which must be reported "not owned", never planned as a
create or as already gone; ``core.live`` says so). A cluster that cannot be read comes back ``Unreachable`` or ``AuthFailed`` and the planner
never prunes there. An API group discovery marks Stale, or whose requests fail past their retries
(an aggregated API server that is down), is named in ``LiveCluster.unknown_groups`` and only its kinds
are left alone; a failing core group still makes the cluster unreachable.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.core import statuses
from reconciler.core.live import LiveCluster
from reconciler.core.objects import LABEL_FLEET, Obj, ObjectKey
from reconciler.errors import ClusterAuthFailed, ClusterError, ClusterUnreachable
from reconciler.kube.client import Client

SERVICE_UNAVAILABLE = 503


def observe(client: Client, *, fleet: str, desired: Iterable[Obj], inventory: Iterable[ObjectKey]) -> LiveCluster:
    """The live state of ``client``'s cluster for the given desired objects and inventory keys."""
    try:
        return _read(client, fleet=fleet, desired=[ObjectKey.of(o) for o in desired], held=set(inventory))
    except ClusterAuthFailed as exc:
        return LiveCluster.unreachable(client.name, status=statuses.Reachability.AUTH_FAILED, reason=exc.message)
    except ClusterError as exc:
        return LiveCluster.unreachable(client.name, reason=exc.message)


def unreachable(name: str, error: ClusterError) -> LiveCluster:
    """The ``LiveCluster`` of a cluster whose client could not even be built."""
    status = statuses.Reachability.AUTH_FAILED if isinstance(error, ClusterAuthFailed) else statuses.Reachability.UNREACHABLE
    return LiveCluster.unreachable(name, status=status, reason=error.message)


def _read(client: Client, *, fleet: str, desired: list[ObjectKey], held: set[ObjectKey]) -> LiveCluster:
    kinds = {k.group_kind for k in (*desired, *held)}
    served = client.discovery.served(wanted=kinds)
    unknown = client.discovery.unknown()
    found = list_owned(client, fleet=fleet, kinds=kinds & served, unknown=unknown)
    seen = {ObjectKey.of(o) for o in found}
    for key in sorted({*desired, *held}):
        if key not in seen and key.group_kind in served and key.group not in unknown:
            try:
                obj = client.get(key)
            except ClusterUnreachable as exc:
                _group_failed(key.group, exc, unknown)
                continue
            found += [obj] if obj is not None else []
    found = [o for o in found if ObjectKey.of(o).group not in unknown]
    return LiveCluster.reachable(client.name, objects=found, served=served, unknown_groups=unknown)


def list_owned(client: Client, *, fleet: str, kinds: Iterable[str], unknown: dict[str, str] | None = None) -> list[Obj]:
    """One label-selected LIST per kind: every object of those kinds carrying the fleet label.

    With ``unknown``, a kind of a non-core group whose LIST fails past its retries (503 from an
    aggregated API server that is down, 503) adds its group there instead of failing the whole cluster."""
    found: list[Obj] = []
    for group_kind in sorted(kinds):
        resource = client.discovery.preferred(group_kind)
        if resource is None or "list" not in resource.verbs or (unknown and resource.group in unknown):
            continue
        try:
            found += client.list(resource, selector=f"{LABEL_FLEET}={fleet}")
        except ClusterUnreachable as exc:
            if unknown is None:
                raise
            _group_failed(resource.group, exc, unknown)
    return found


def _group_failed(group: str, exc: ClusterUnreachable, unknown: dict[str, str]) -> None:
    """Record ``group`` as unknown when it answered 503 (an aggregated API server that is down); no
    answer at all, or a failing core group, means the cluster itself is failing."""
    if not group or exc.about.get("status") != SERVICE_UNAVAILABLE:
        raise exc
    unknown[group] = f"requests failed: {exc.message}"
