"""One replica of several sharing a fleet: membership by Lease, clusters split by rendezvous hashing.

Each beat (every third of the lease duration) a replica renews its member Lease, reads who else is
alive, computes the fleet clusters it owns (``core.shards``) and acquires (or renews) an ownership Lease
for each of them, releasing those it no longer owns. It writes to a cluster only while ``owns`` says so:
the Lease was renewed less than ``duration - margin`` ago by this process's monotonic clock. A replica
frozen past its lease (SIGSTOP, a long GC pause, a partition) therefore stops writing on its own before
any other replica can acquire the Lease (which needs the full duration since the last renewal to
pass, by that replica's clock); the margin absorbs clock-rate differences. A replica that dies loses its
clusters within one lease duration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from reconciler import logs, metrics
from reconciler.core import shards
from reconciler.errors import ClusterError
from reconciler.kube.leases import Hold, Leases, lease_name

OWNER_PREFIX = "stackfleet-cluster"


@dataclass
class Replica:
    identity: str
    leases: Leases
    duration: float = 15.0
    margin: float = 0.25
    """Fraction of ``duration`` kept back: ownership ends locally this much before the Lease expires."""
    monotonic: Callable[[], float] = time.monotonic
    clusters: frozenset[str] = frozenset()
    """The fleet's clusters (what the last loaded revision names)."""
    members: tuple[str, ...] = ()
    _renewed: dict[str, float] = field(default_factory=dict)
    _terms: dict[str, int] = field(default_factory=dict)
    on_gain: Callable[[], None] = lambda: None
    """Called after a beat that acquired clusters (the daemon reconciles at once)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def beat(self) -> set[str]:
        """Renew membership and ownership once; the clusters owned now."""
        if not self.leases.heartbeat(self.identity, duration=self.duration):
            return self.owned()
        self.members = tuple(self.leases.members())
        wanted = shards.owned_by(self.identity, self.clusters, self.members)
        gained = False
        for cluster in sorted(wanted):
            started = self.monotonic()
            held = self._try(self._holder(cluster))
            with self._lock:
                if held is Hold.ACQUIRED or (held is Hold.RENEWED and cluster not in self._renewed):
                    self._take(cluster, started)
                    gained = True
                elif held is Hold.RENEWED:
                    self._renewed[cluster] = started
                else:
                    self._renewed.pop(cluster, None)
        for cluster in sorted(set(self.owned_or_stale()) - wanted):
            self._hand_over(cluster)
        metrics.set_shard(self.identity, owned=len(self.owned()), members=len(self.members))
        if gained:
            self.on_gain()
        return self.owned()

    def owns(self, cluster: str) -> bool:
        """True while this replica may write to ``cluster`` (see the module docstring)."""
        with self._lock:
            renewed = self._renewed.get(cluster)
        return renewed is not None and self.monotonic() - renewed < self.duration * (1 - self.margin)

    def owned(self) -> set[str]:
        return {cluster for cluster in self.owned_or_stale() if self.owns(cluster)}

    def owned_or_stale(self) -> list[str]:
        with self._lock:
            return sorted(self._renewed)

    def terms(self) -> dict[str, int]:
        """cluster -> the term of this replica's ownership (it grows each time the Lease is acquired anew)."""
        with self._lock:
            return dict(self._terms)

    def guard(self, cluster: str, *, term: int | None = None) -> None:
        """Raise ``OwnershipLost`` unless this replica owns ``cluster`` now and, given ``term``, has held it
        without a break since that term began (checked before every write). A reconcile planned under one
        term writes nothing under the next: the Lease may have been another replica's in between."""
        if not self.owns(cluster):
            raise OwnershipLost(f"replica {self.identity} does not own cluster {cluster} now", cluster=cluster)
        if term is not None and self.terms().get(cluster) != term:
            raise OwnershipLost(f"replica {self.identity} re-acquired cluster {cluster} since this reconcile "
                                "began; the next reconcile plans it afresh", cluster=cluster)

    def stop(self) -> None:
        """Release every ownership Lease, so the other replicas take the clusters over at once."""
        for cluster in self.owned_or_stale():
            self._hand_over(cluster)

    def _holder(self, cluster: str) -> Callable[[], Hold]:
        return lambda: self.leases.hold(lease_name(OWNER_PREFIX, cluster), self.identity, duration=self.duration)

    def _take(self, cluster: str, started: float) -> None:
        self._terms[cluster] = self._terms.get(cluster, 0) + 1
        logs.get("stackfleet.replicas").info("cluster taken over", replica=self.identity, cluster=cluster,
                                              term=self._terms[cluster])
        metrics.count_handover(self.identity, "acquired")
        self._renewed[cluster] = started

    def _hand_over(self, cluster: str) -> None:
        with self._lock:
            self._renewed.pop(cluster, None)
        self._try(lambda: self.leases.release(lease_name(OWNER_PREFIX, cluster), self.identity))
        metrics.count_handover(self.identity, "released")
        logs.get("stackfleet.replicas").info("cluster handed over", replica=self.identity, cluster=cluster)

    def _try(self, action: Callable[[], object]) -> object:
        try:
            return action()
        except ClusterError as exc:  # the lease cluster is unreachable: hold nothing new, the beat retries
            logs.get("stackfleet.replicas").warning("lease write failed", replica=self.identity, error=str(exc))
            return False


class OwnershipLost(ClusterError):
    """This replica no longer owns the cluster it was about to write to (another replica may)."""


def owned_filter(replica: Replica | None, clusters: Collection[str]) -> set[str] | None:
    """The clusters to reconcile: all (None) without replicas, else the owned ones among ``clusters``."""
    if replica is None:
        return None
    return replica.owned() & set(clusters)
