"""Ordering: one total ordering key and a DAG of steps across the fleet, pure.

Applies go layer -> bundle ``dependsOn`` -> wave (``stackfleet.dev/wave``) -> kind rank (CRDs,
Namespaces, RBAC and config, workloads, custom resources) -> namespace -> name. Deletes come last in
each destination cluster, in the reverse order; a cluster's deletes on another destination (a child's
Cluster API objects on the management cluster) wait for its deletes inside the cluster itself. Bundles of one assignment cluster form a DAG: a bundle
waits for the bundles of lower layers, for its ``dependsOn``, and (when it targets the cluster itself)
for the bundles of its ``cluster`` layer that target the management cluster. A bundle with a custom
resource also waits for the bundle that creates its CRD on the same destination.

``sequence(items, bundles=...)`` returns the items' indices in a total order together with, for each,
the indices it must wait for ("after step N"). Only immediate waits are listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from reconciler.core.desired import BundleId, DesiredBundle
from reconciler.core.objects import ANNOTATION_WAVE, CRD, Obj, ObjectKey
from reconciler.errors import PlanError

CLUSTER_LAYER = "cluster"
KIND_RANKS: Mapping[str, int] = {
    CRD: 0,
    "Namespace": 1,
    **dict.fromkeys(
        (
            "ServiceAccount",
            "ClusterRole.rbac.authorization.k8s.io",
            "Role.rbac.authorization.k8s.io",
            "ClusterRoleBinding.rbac.authorization.k8s.io",
            "RoleBinding.rbac.authorization.k8s.io",
            "ConfigMap",
            "Secret",
            "PriorityClass.scheduling.k8s.io",
            "StorageClass.storage.k8s.io",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "LimitRange",
            "ResourceQuota",
            "NetworkPolicy.networking.k8s.io",
            "IngressClass.networking.k8s.io",
        ),
        2,
    ),
    **dict.fromkeys(
        (
            "Service",
            "Pod",
            "ReplicationController",
            "Deployment.apps",
            "StatefulSet.apps",
            "DaemonSet.apps",
            "ReplicaSet.apps",
            "Job.batch",
            "CronJob.batch",
            "Ingress.networking.k8s.io",
            "HorizontalPodAutoscaler.autoscaling",
            "PodDisruptionBudget.policy",
            "MutatingWebhookConfiguration.admissionregistration.k8s.io",
            "ValidatingWebhookConfiguration.admissionregistration.k8s.io",
            "APIService.apiregistration.k8s.io",
        ),
        3,
    ),
}
CUSTOM_RANK = 4


def kind_rank(key: ObjectKey) -> int:
    """0 CRDs, 1 Namespaces, 2 RBAC and config, 3 workloads, 4 custom resources (anything else)."""
    return KIND_RANKS.get(key.group_kind, CUSTOM_RANK)


def wave_of(obj: Obj | None) -> int:
    """The ``stackfleet.dev/wave`` annotation as an int (0 when absent or not a number)."""
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    try:
        return int(annotations.get(ANNOTATION_WAVE, 0))
    except (TypeError, ValueError):
        return 0


def provided_kind(obj: Obj) -> str | None:
    """For a CRD, the ``group_kind`` it makes the API serve; ``None`` for anything else."""
    if ObjectKey.of(obj).group_kind != CRD:
        return None
    spec = obj.get("spec") or {}
    kind, group = (spec.get("names") or {}).get("kind"), spec.get("group")
    return f"{kind}.{group}" if kind and group else None


@dataclass(frozen=True)
class Item:
    """One step to order: what it touches and whether it deletes."""

    bundle: BundleId
    dest: str
    key: ObjectKey
    wave: int = 0
    delete: bool = False
    provides: str | None = None
    hook: str = ""
    """``pre`` or ``post`` for a Helm hook (``wave`` then holds its weight); empty otherwise."""


@dataclass(frozen=True)
class BundleNode:
    """A bundle as the ordering sees it (build one with ``node``)."""

    id: BundleId
    dest: str
    layer: str
    layer_index: int
    depends_on: tuple[str, ...] = ()


def node(bundle: DesiredBundle) -> BundleNode:
    return BundleNode(bundle.id, bundle.dest, bundle.layer, bundle.layer_index, bundle.depends_on)


def predecessors(bundles: Iterable[BundleNode]) -> dict[BundleId, set[BundleId]]:
    """For every bundle, the bundles it waits for (before transitive reduction)."""
    by_cluster: dict[str, list[BundleNode]] = defaultdict(list)
    for b in bundles:
        by_cluster[b.id.cluster].append(b)
    return {
        b.id: {o.id for o in group if o.id != b.id and _waits(b, o)}
        for group in by_cluster.values()
        for b in group
    }


def _waits(b: BundleNode, other: BundleNode) -> bool:
    if b.layer_index < 0 or other.layer_index < 0:
        return False  # a bundle that left the desired state only has deletes, ordered on their own
    if other.layer_index < b.layer_index:
        return True
    if other.id.stack == b.id.stack and other.id.bundle in b.depends_on:
        return True
    targets_self = b.dest == b.id.cluster
    return targets_self and other.layer == CLUSTER_LAYER and other.dest != other.id.cluster


def depths(preds: Mapping[BundleId, set[BundleId]]) -> dict[BundleId, int]:
    """The longest chain of waits before each bundle; a cycle is a ``PlanError`` naming it."""
    done: dict[BundleId, int] = {}
    for start in sorted(preds):
        _depth(start, preds, done, ())
    return done


def _depth(
    b: BundleId,
    preds: Mapping[BundleId, set[BundleId]],
    done: dict[BundleId, int],
    path: tuple[BundleId, ...],
) -> int:
    if b in done:
        return done[b]
    if b in path:
        cycle = " -> ".join(str(x) for x in (*path[path.index(b) :], b))
        raise PlanError(f"dependency cycle between bundles: {cycle}", bundle=str(b))
    depth = 1 + max((_depth(p, preds, done, (*path, b)) for p in preds.get(b, ())), default=-1)
    done[b] = depth
    return depth


def reduce(
    preds: Mapping[BundleId, set[BundleId]], depth: Mapping[BundleId, int]
) -> dict[BundleId, set[BundleId]]:
    """Drop waits implied by other waits (``a`` need not be listed when ``b`` already waits for it)."""
    reach: dict[BundleId, set[BundleId]] = {}
    for b in sorted(preds, key=lambda x: depth[x]):
        reach[b] = set().union(*(reach[p] | {p} for p in preds[b])) if preds[b] else set()
    return {b: {p for p in ps if not any(p in reach[q] for q in ps if q != p)} for b, ps in preds.items()}


def apply_key(item: Item, depth: Mapping[BundleId, int], layer: Mapping[BundleId, int]) -> tuple[object, ...]:
    """The total ordering key of an apply step."""
    k = item.key
    return (
        0,
        depth.get(item.bundle, 0),
        layer.get(item.bundle, 0),
        item.bundle,
        *phase(item),
        k.group,
        k.kind,
        k.namespace,
        k.name,
    )


def delete_key(
    item: Item, depth: Mapping[BundleId, int], layer: Mapping[BundleId, int]
) -> tuple[object, ...]:
    """The total ordering key of a delete step: after every apply, in the reverse order."""
    k = item.key
    return (
        1,
        item.dest != item.bundle.cluster,  # a child's objects elsewhere (its Cluster API objects) go last
        item.dest,
        *delete_phase(item, depth, layer),
        item.bundle,
        k.group,
        k.kind,
        k.namespace,
        k.name,
    )


def delete_phase(item: Item, depth: Mapping[BundleId, int], layer: Mapping[BundleId, int]) -> tuple[int, ...]:
    return (-depth.get(item.bundle, 0), -layer.get(item.bundle, 0), -item.wave, -kind_rank(item.key))


FIRST = "first"
"""The rank of a bundle's ``createNamespace`` Namespace: before its pre hooks (Helm creates it first)."""
HOOK_RANKS: Mapping[str, int] = {FIRST: -1, "pre": 0, "": 1, "post": 2}


def phase(item: Item) -> tuple[int, int, int]:
    """Within a bundle: a created namespace, pre hooks, the objects by wave and kind rank, post hooks."""
    return (HOOK_RANKS[item.hook], item.wave, kind_rank(item.key))


def sequence(items: Sequence[Item], *, bundles: Sequence[BundleNode]) -> list[tuple[int, tuple[int, ...]]]:
    """``items`` in order as ``(index, indices it waits for)`` pairs (see the module docstring)."""
    nodes = list(bundles) + _missing_nodes(items, bundles)
    preds = predecessors(nodes)
    _add_crd_waits(items, preds)
    depth = depths(preds)
    layer = {b.id: b.layer_index for b in nodes}
    order = sorted(
        range(len(items)),
        key=lambda i: (delete_key if items[i].delete else apply_key)(items[i], depth, layer),
    )
    waits = _Waits(
        items,
        preds=reduce(preds, depth),
        order=order,
        phase_of_delete=lambda it: delete_phase(it, depth, layer),
    )
    return [(i, tuple(sorted(waits.of(i)))) for i in order]


def _missing_nodes(items: Sequence[Item], bundles: Sequence[BundleNode]) -> list[BundleNode]:
    """Bundles that only have deletes left (dropped from desired): ordered on their own."""
    known = {b.id for b in bundles}
    extra = {item.bundle: item.dest for item in items if item.bundle not in known}
    return [BundleNode(b, dest, "", -1) for b, dest in sorted(extra.items())]


def _add_crd_waits(items: Sequence[Item], preds: dict[BundleId, set[BundleId]]) -> None:
    providers = {(i.dest, i.provides): i.bundle for i in items if i.provides and not i.delete}
    pairs = {(i.bundle, providers.get((i.dest, i.key.group_kind))) for i in items if not i.delete}
    for consumer, provider in sorted((c, p) for c, p in pairs if p is not None and p != c):
        preds.setdefault(consumer, set()).add(provider)
        try:
            depths(preds)
        except PlanError:
            preds[consumer].discard(provider)


class _Waits:
    """The immediate waits of each item, from phases within a bundle, bundle waits and CRDs."""

    def __init__(
        self,
        items: Sequence[Item],
        *,
        preds: Mapping[BundleId, set[BundleId]],
        order: list[int],
        phase_of_delete: Callable[[Item], tuple[int, ...]],
    ) -> None:
        self.items, self.preds, self.phase_of_delete = items, preds, phase_of_delete
        self.position = {index: pos for pos, index in enumerate(order)}
        self.phases: dict[BundleId, dict[tuple[int, ...], list[int]]] = defaultdict(lambda: defaultdict(list))
        self.deletes: dict[str, dict[tuple[int, ...], list[int]]] = defaultdict(lambda: defaultdict(list))
        self.dests: dict[BundleId, str] = {}
        for index in order:
            item = items[index]
            if item.delete:
                self.deletes[item.dest][phase_of_delete(item)].append(index)
            else:
                self.phases[item.bundle][phase(item)].append(index)
                self.dests[item.bundle] = item.dest
        self.crds = {(i.dest, i.provides): n for n, i in enumerate(items) if i.provides and not i.delete}
        self._exits: dict[BundleId, frozenset[int]] = {}

    def of(self, index: int) -> set[int]:
        item = self.items[index]
        if item.delete:
            return self._delete_waits(item)
        waits = self._apply_waits(item)
        crd = self.crds.get((item.dest, item.key.group_kind))
        if crd is not None and self.position[crd] < self.position[index]:
            waits.add(crd)
        return waits

    def _apply_waits(self, item: Item) -> set[int]:
        phases = self.phases[item.bundle]
        earlier = [p for p in phases if p < phase(item)]
        if earlier:
            return set(phases[max(earlier)])
        return set().union(*(self.exits(p) for p in self.preds.get(item.bundle, ())))

    def exits(self, bundle: BundleId) -> frozenset[int]:
        """The last apply steps of ``bundle``, or of what it waits for when it has none."""
        if bundle not in self._exits:
            phases = self.phases.get(bundle)
            if phases:
                self._exits[bundle] = frozenset(phases[max(phases)])
            else:
                self._exits[bundle] = frozenset().union(*(self.exits(p) for p in self.preds.get(bundle, ())))
        return self._exits[bundle]

    def _delete_waits(self, item: Item) -> set[int]:
        phases = self.deletes[item.dest]
        earlier = [p for p in phases if p < self.phase_of_delete(item)]
        if earlier:
            return set(phases[max(earlier)])
        waits = set().union(*(self.exits(b) for b, dest in self.dests.items() if dest == item.dest))
        own = self.deletes.get(item.bundle.cluster) if item.dest != item.bundle.cluster else None
        return waits | set(own[max(own)]) if own else waits
