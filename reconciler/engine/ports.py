"""What the engine needs from the state store and from clusters, as small ports.

``reconciler.store.stores.Store`` provides ``StateStore``; ``reconciler.kube.client.Client`` provides
``ClusterApi``. The engine is written against these so each edge can be read on its own, and imports
no type of the store: what the store hands back is described here by the fields the engine reads
(``AppliedView``, ``DriftView``, ``RunView``), and what it is handed is core values and enums.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from reconciler.core.conditions import Health
from reconciler.core.desired import BundleId
from reconciler.core.drift import Who
from reconciler.core.inventory import BundleInventory, Inventory, InventoryChange
from reconciler.core.objects import Obj, ObjectKey
from reconciler.core.stagegates import StageMark, UnitStatus
from reconciler.core.statuses import Outcome, Reachability, RunStatus
from reconciler.core.steps import StepWrite


class InventoryPort(Protocol):
    def get(self, dest: str, bundle: BundleId) -> BundleInventory | None: ...

    def put(self, bundle_inventory: BundleInventory) -> None: ...

    def update_many(self, changes: Iterable[InventoryChange]) -> None: ...

    def load_all(self) -> Inventory: ...


class RunView(Protocol):
    @property
    def revision(self) -> str: ...


class RunsPort(Protocol):
    def start(self, run_id: str, *, revision: str, plan_id: str | None = None) -> object: ...

    def finish(self, run_id: str, status: RunStatus) -> object: ...

    def record_step(self, run_id: str, *, cluster: str, bundle: BundleId, key: ObjectKey | str, action: str,
                    outcome: Outcome, error: str = "") -> object: ...

    def record_steps(self, run_id: str, steps: Sequence[StepWrite]) -> None: ...

    def last_succeeded(self) -> RunView | None:
        """The newest run that succeeded everywhere: the revision force-pushes are judged against."""
        ...


class ObjectRow(Protocol):
    """Where a stored row about one object belongs: destination, bundle, object key (``str(ObjectKey)``)."""

    @property
    def cluster(self) -> str: ...

    @property
    def bundle(self) -> BundleId: ...

    @property
    def object_key(self) -> str: ...


class AppliedView(ObjectRow, Protocol):
    """One last applied desired object, as the drift scan reads it."""

    @property
    def body(self) -> Obj: ...


class AppliedPort(Protocol):
    """The last applied desired objects (``store.applied``), kept for the drift scan."""

    def record(self, cluster: str, bundle: BundleId, objects: Iterable[Obj], *, revision: str) -> None: ...

    def all(self, *, clusters: Iterable[str] | None = None) -> Sequence[AppliedView]: ...


class ClusterView(Protocol):
    """A cluster's record, as the planner's pause check reads it."""

    @property
    def name(self) -> str: ...

    @property
    def paused(self) -> bool: ...


class ClustersPort(Protocol):
    def set_status(self, name: str, status: Reachability, *, error: str = "") -> object: ...

    def set_statuses(self, found: Iterable[tuple[str, Reachability, str]]) -> None: ...

    def retire(self, name: str) -> None: ...

    def all(self) -> Sequence[ClusterView]: ...


class KeysPort(Protocol):
    """The store's own keys (``store.keys``): the HMAC key of saved plans."""

    def plan_key(self) -> bytes: ...


class RolloutsPort(Protocol):
    """Rollout memory (``store.rollouts``): stage marks, unit states, paused assignments."""

    def marks(self) -> dict[str, StageMark]: ...

    def units(self, *, cluster: str | None = None, assignment: str | None = None) -> list[UnitStatus]: ...

    def save(self, marks: Mapping[str, StageMark], units: Iterable[UnitStatus], *,
             clusters: Collection[str] = ()) -> None: ...

    def paused(self) -> frozenset[str]: ...

    def retries(self) -> frozenset[tuple[str, str]]: ...


class DriftView(ObjectRow, Protocol):
    """One open drift entry, as the scan reads it back."""

    @property
    def first_seen(self) -> datetime: ...


class DriftsPort(Protocol):
    def report(self, cluster: str, bundle: BundleId, key: ObjectKey | str, *, patch: Sequence[dict[str, object]],
               diff: str, who: Who = ...) -> object: ...

    def resolve_others(self, cluster: str, bundle: BundleId, *, still: Iterable[ObjectKey | str]) -> int: ...

    def open(self, *, cluster: str | None = None) -> Sequence[DriftView]: ...


class EventsPort(Protocol):
    def add(self, reason: str, message: str, *, level: str = "info", cluster: str = "", bundle: str = "") -> int: ...


class HealthPort(Protocol):
    def record(self, found: Iterable[tuple[str, BundleId, Health, str]]) -> None:
        """``(dest, bundle, health, reason)`` per bundle the drift scan looked at."""
        ...


class StateStore(Protocol):
    @property
    def inventories(self) -> InventoryPort: ...

    @property
    def keys(self) -> KeysPort: ...

    @property
    def runs(self) -> RunsPort: ...

    @property
    def applied(self) -> AppliedPort: ...

    @property
    def clusters(self) -> ClustersPort: ...

    @property
    def rollouts(self) -> RolloutsPort: ...

    @property
    def drifts(self) -> DriftsPort: ...

    @property
    def events(self) -> EventsPort: ...

    @property
    def health(self) -> HealthPort: ...

    def close(self) -> None: ...


class ClusterApi(Protocol):
    name: str

    def get(self, key: ObjectKey) -> Obj | None: ...

    def apply(self, obj: Obj, *, dry_run: bool = False, force: bool = False) -> Obj: ...

    def delete(self, key: ObjectKey, *, uid: str) -> bool: ...

    def list_kind(self, group_kind: str, *, selector: str) -> list[Obj]: ...
