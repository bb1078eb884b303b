"""Kubernetes Leases (coordination.k8s.io/v1) as stackfleet's replicas use them: membership and ownership.

A member Lease per replica (``stackfleet-member-<identity>``), written only by that replica, says it is
alive: its ``renewTime`` plus ``leaseDurationSeconds`` lies in the future. An ownership Lease per fleet
cluster (``stackfleet-cluster-<name>``) says which replica may write to that cluster. Ownership changes
hands only by compare-and-swap: a create that fails when the name is taken, a replace whose
``resourceVersion`` precondition fails when anyone wrote the Lease since it was read (HTTP 409). So two
replicas can never both believe they acquired the same Lease, which is what client-go's leader election
rests on too. Times are the replica's wall clock, written as the API's MicroTime (RFC 3339, microseconds).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from reconciler.core.objects import Obj, ObjectKey
from reconciler.kube.client import Client

GROUP_KIND = "Lease.coordination.k8s.io"
ROLE_LABEL = "stackfleet.dev/lease"
GROUP_LABEL = "stackfleet.dev/replica-group"
MEMBER, OWNER = "member", "owner"
NAME_LIMIT = 253


def micro_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def lease_name(prefix: str, name: str) -> str:
    """A valid object name for ``name`` (a DNS subdomain; long or odd names get a digest suffix)."""
    clean = re.sub(r"[^a-z0-9.-]", "-", name.lower()).strip("-.") or "x"
    full = f"{prefix}-{clean}"
    if full == f"{prefix}-{name}" and len(full) <= 63:
        return full
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{full[:52].rstrip('-.')}-{digest}"


class Hold(Enum):
    ACQUIRED = "acquired"
    RENEWED = "renewed"
    LOST = "lost"


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str | None
    duration: float
    renewed: datetime | None
    transitions: int
    resource_version: str
    body: Obj

    @classmethod
    def of(cls, obj: Obj) -> Lease:
        spec = obj.get("spec") or {}
        return cls(name=obj["metadata"]["name"], holder=spec.get("holderIdentity") or None,
                   duration=float(spec.get("leaseDurationSeconds") or 0), renewed=parse_time(spec.get("renewTime")),
                   transitions=int(spec.get("leaseTransitions") or 0),
                   resource_version=str(obj["metadata"].get("resourceVersion", "")), body=obj)

    def expired(self, now: datetime) -> bool:
        return self.renewed is None or self.renewed + timedelta(seconds=self.duration) <= now


@dataclass
class Leases:
    """The Leases of one replica group in ``namespace`` of the cluster ``client`` talks to."""

    client: Client
    namespace: str
    group: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    _written: dict[str, Lease] = field(default_factory=dict)
    """Lease name -> the Lease as this replica's last successful write left it."""

    def members(self) -> list[str]:
        """The identities whose member Lease is not expired now, sorted."""
        now = self.clock()
        found = self._list(MEMBER)
        return sorted(lease.holder for lease in found if lease.holder and not lease.expired(now))

    def owners(self) -> dict[str, str]:
        """Ownership Lease name -> holder, for the Leases held and not expired."""
        now = self.clock()
        return {lease.name: lease.holder for lease in self._list(OWNER) if lease.holder and not lease.expired(now)}

    def heartbeat(self, identity: str, *, duration: float) -> bool:
        """Create or renew this replica's member Lease; False when a write lost a race (retried next beat)."""
        held = self.hold(lease_name("stackfleet-member", identity), identity, duration=duration, role=MEMBER)
        return held is not Hold.LOST

    def hold(self, name: str, identity: str, *, duration: float, role: str = OWNER) -> Hold:
        """Acquire (when free or expired) or renew the Lease ``name`` for ``identity``.

        ``RENEWED`` only when the Lease still named ``identity``: nobody held it in between, so what this
        replica started under it may go on; ``ACQUIRED`` starts a new term. A renewal is one request: the
        replace is made from this replica's own last write, whose resourceVersion fails the precondition
        (409) if anyone wrote the Lease since; only then is it read again."""
        now = self.clock()
        mine = self._written.pop(name, None)
        if mine is not None and mine.holder == identity:
            kept = self.client.replace(self._body(name, identity, duration, now, role=role, previous=mine))
            if kept is not None:
                self._written[name] = Lease.of(kept)
                return Hold.RENEWED
        live = self.client.get(ObjectKey("coordination.k8s.io", "Lease", self.namespace, name))
        if live is None:
            created = self.client.create(self._body(name, identity, duration, now, role=role))
            if created is None:
                return Hold.LOST
            self._written[name] = Lease.of(created)
            return Hold.ACQUIRED
        lease = Lease.of(live)
        if lease.holder not in (None, identity) and not lease.expired(now):
            return Hold.LOST
        changed = self.client.replace(self._body(name, identity, duration, now, role=role, previous=lease))
        if changed is None:
            return Hold.LOST
        self._written[name] = Lease.of(changed)
        return Hold.RENEWED if lease.holder == identity else Hold.ACQUIRED

    def release(self, name: str, identity: str) -> None:
        """Give the Lease up (holder cleared) if this replica still holds it, so the next owner need not wait."""
        self._written.pop(name, None)
        live = self.client.get(ObjectKey("coordination.k8s.io", "Lease", self.namespace, name))
        if live is None or Lease.of(live).holder != identity:
            return
        body = {**live, "spec": {**(live.get("spec") or {}), "holderIdentity": None}}
        self.client.replace(body)

    def _list(self, role: str) -> list[Lease]:
        selector = f"{ROLE_LABEL}={role},{GROUP_LABEL}={self.group}"
        found = self.client.list_kind(GROUP_KIND, selector=selector, namespace=self.namespace)
        return [Lease.of(obj) for obj in found]

    def _body(self, name: str, identity: str, duration: float, now: datetime, *, role: str,
              previous: Lease | None = None) -> Obj:
        metadata: dict[str, Any] = {"name": name, "namespace": self.namespace,
                                    "labels": {ROLE_LABEL: role, GROUP_LABEL: self.group}}
        spec: dict[str, Any] = {"holderIdentity": identity, "leaseDurationSeconds": max(1, round(duration)),
                                "renewTime": micro_time(now), "acquireTime": micro_time(now), "leaseTransitions": 0}
        if previous is not None:
            metadata["resourceVersion"] = previous.resource_version
            if previous.holder == identity:  # a renewal keeps when and how often it changed hands
                spec["acquireTime"] = (previous.body.get("spec") or {}).get("acquireTime") or spec["acquireTime"]
                spec["leaseTransitions"] = previous.transitions
            else:
                spec["leaseTransitions"] = previous.transitions + (1 if previous.holder else 0)
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec}
