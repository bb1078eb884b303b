"""Observe one cluster for the planner: what we own there, and what we are about to create.

Per cluster: discovery (cached), one LIST per kind we have desired or inventory objects of, selected
by the fleet label (all namespaces, paginated), then a look-up of the desired and inventory objects
those LISTs did not find, to spot objects that exist without our marks (adoption and conflicts, and an
inventory object whose labels someone removed, which must be reported "not owned", never planned as a
create or as already gone; ``core.live`` says so): none in a namespace that does not exist, else one
GET or one LIST per kind and namespace (``look_up``). A cluster that cannot be read comes back
``unreachable`` or ``auth-failed`` (``core.statuses.Reachability``) and the planner never prunes there. An API group discovery marks
Stale, or whose requests fail past their retries (an aggregated API server that is down), is named in
``LiveCluster.unknown_groups`` and only its kinds are left alone; a failing core group still makes the
cluster unreachable. ``observe_dest`` is the one ladder from a destination's name to its
``LiveCluster``: build its client, then observe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reconciler.core import statuses
from reconciler.core.live import LiveCluster
from reconciler.core.objects import LABEL_FLEET, Obj, ObjectKey
from reconciler.errors import ClusterAuthFailed, ClusterError, ClusterUnreachable, ConfigError
from reconciler.kube.client import Client
from reconciler.kube.connections import Connections, KubeconfigPending

SERVICE_UNAVAILABLE = 503


def observe(client: Client, *, fleet: str, desired: Iterable[Obj], inventory: Iterable[ObjectKey]) -> LiveCluster:
    """The live state of ``client``'s cluster for the given desired objects and inventory keys."""
    try:
        return _read(client, fleet=fleet, desired=[ObjectKey.of(o) for o in desired], held=set(inventory))
    except ClusterAuthFailed as exc:
        return LiveCluster.unreachable(client.name, status=statuses.Reachability.AUTH_FAILED, reason=exc.message)
    except ClusterError as exc:
        return LiveCluster.unreachable(client.name, reason=exc.message)


def observe_dest(dest: str, connections: Connections, *, fleet: str, desired: Iterable[Obj],
                 inventory: Iterable[ObjectKey], pending: LiveCluster) -> LiveCluster:
    """``dest`` observed through its client; ``pending`` while its kubeconfig is still being provisioned.

    A client that cannot be built (the cluster refused us, or its connection is misconfigured) makes the
    cluster unreachable, never "empty".
    """
    try:
        client = connections.client(dest)
    except KubeconfigPending:
        return pending
    except ClusterError as exc:
        return unreachable(dest, exc)
    except ConfigError as exc:
        return LiveCluster.unreachable(dest, reason=exc.message)
    return observe(client, fleet=fleet, desired=desired, inventory=inventory)


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
    wanted = [k for k in sorted({*desired, *held}) if k not in seen and k.group_kind in served]
    found += look_up(client, wanted, unknown=unknown)
    found = [o for o in found if ObjectKey.of(o).group not in unknown]
    return LiveCluster.reachable(client.name, objects=found, served=served, unknown_groups=unknown)


def look_up(client: Client, keys: Sequence[ObjectKey], *, unknown: dict[str, str]) -> list[Obj]:
    """The objects among ``keys`` that exist (without our marks: adoption and conflicts).

    Cluster-scoped keys first, one GET each. Namespaced keys in a Namespace those GETs found absent
    are not looked up at all: kube-apiserver's NamespaceLifecycle admission refuses to create an
    object in a namespace that does not exist, so nothing can be there. Otherwise one GET when a kind
    has a single key in a namespace, else one LIST of that kind in that namespace (no selector).
    Keys of the ``unknown`` groups are skipped; a group whose request fails with 503 joins them.
    """
    found: list[Obj] = []
    absent: set[str] = set()
    for key in (k for k in keys if not k.namespace):
        obj = _read_one(client, key, unknown)
        if obj is not None:
            found.append(obj)
        elif key.group_kind == "Namespace":
            absent.add(key.name)
    groups: dict[tuple[str, str], set[ObjectKey]] = {}
    for key in keys:
        if key.namespace and key.namespace not in absent:
            groups.setdefault((key.group_kind, key.namespace), set()).add(key)
    for (group_kind, namespace), wanted in sorted(groups.items(), key=lambda g: g[0]):
        resource = client.discovery.preferred(group_kind)
        if len(wanted) == 1 or resource is None or "list" not in resource.verbs:
            found += [o for o in (_read_one(client, k, unknown) for k in sorted(wanted)) if o is not None]
            continue
        if resource.group in unknown:
            continue
        try:
            listed = client.list(resource, selector="", namespace=namespace)
        except ClusterUnreachable as exc:
            _group_failed(resource.group, exc, unknown)
            continue
        found += [o for o in listed if ObjectKey.of(o) in wanted]
    return found


def _read_one(client: Client, key: ObjectKey, unknown: dict[str, str]) -> Obj | None:
    if key.group in unknown:
        return None
    try:
        return client.get(key)
    except ClusterUnreachable as exc:
        _group_failed(key.group, exc, unknown)
        return None


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
