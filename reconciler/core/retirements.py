"""Child clusters leaving the fleet: which they are, and how to still reach them. Pure.

A fleet cluster is *retiring* when the inventory still holds objects of its bundles but the fleet
repo no longer has the cluster (its ``clusters/<name>.yaml`` was removed). When its inventory on
another destination (the management cluster) holds a Cluster API ``Cluster``, that Cluster is what
provisioned it: the plan deletes the child's own objects first while the child is reachable (or
abandons them with a note when it is not: they go with the cluster), then the ``Cluster``; once the
management cluster confirms the ``Cluster`` is gone the engine retires the child's inventory and
records. The child is reached meanwhile through the kubeconfig Secret Cluster API writes next to the
Cluster (``<name>-kubeconfig``, key ``value``), as the fleet's own Cluster spec would have said.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.core.clusterapi import GROUP
from reconciler.core.inventory import Inventory
from reconciler.core.objects import ObjectKey

CLUSTER_KIND = f"Cluster.{GROUP}"


@dataclass(frozen=True, order=True)
class Retiring:
    cluster: str
    """The fleet cluster leaving the fleet."""
    management: str
    """Where its Cluster API ``Cluster`` lives."""
    capi_cluster: ObjectKey

    @property
    def kubeconfig_secret(self) -> tuple[str, str, str]:
        """``(holder cluster, namespace, Secret name)`` of the child's kubeconfig, as Cluster API names it."""
        return self.management, self.capi_cluster.namespace, f"{self.capi_cluster.name}-kubeconfig"


def find(inventory: Inventory, *, fleet_clusters: Iterable[str]) -> list[Retiring]:
    """The retiring clusters whose inventory holds their Cluster API ``Cluster`` on another destination."""
    known = set(fleet_clusters)
    found = {
        Retiring(held.bundle.cluster, held.dest, key)
        for held in inventory
        if held.bundle.cluster not in known and held.dest != held.bundle.cluster
        for key in held.keys
        if key.group_kind == CLUSTER_KIND
    }
    return sorted(found)

