"""The inventory as the engine updates it while applying: entries added as writes are confirmed and
removed only when a DELETE is confirmed, flushed to the store after every wave (and on failure), so a
crash leaves at most the current wave to be re-adopted from live marks on the rerun.

One ``Ledger`` per run knows the inventory the plan read (so telling whether an entry changed needs
no store read), the stack version each bundle is applied at, and which bundles were written
(``record_applied`` looks at those only). Each rollout unit keeps its own ``UnitLedger`` (one thread
per unit: no lock) and its flush writes only the entries it put or removed (and the bundle's version
when it moved), every bundle of the unit in one store transaction, holding no lock of the run's:
units never wait for each other's bookkeeping.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.core.desired import BundleId
from reconciler.core.inventory import BundleInventory, Entry, Inventory, InventoryChange
from reconciler.core.objects import ObjectKey
from reconciler.engine.ports import InventoryPort

Slot = tuple[str, BundleId]


@dataclass
class Ledger:
    store: InventoryPort
    revision: str
    versions: Mapping[Slot, str] = field(default_factory=dict)
    """The stack version of each (destination, bundle) the run applies, recorded with its inventory."""
    known: Inventory | None = None
    """The inventory the plan was made from; bundles it lacks are read from the store."""
    _written: set[Slot] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def unit(self) -> UnitLedger:
        return UnitLedger(self)

    @property
    def written(self) -> frozenset[Slot]:
        """The bundles whose inventory changed in this run."""
        with self._lock:
            return frozenset(self._written)

    def held(self, slot: Slot) -> BundleInventory | None:
        found = self.known.get(*slot) if self.known is not None else None
        return found if found is not None else self.store.get(*slot)

    def _wrote(self, slots: set[Slot]) -> None:
        with self._lock:
            self._written |= slots


@dataclass
class UnitLedger:
    run: Ledger
    _entries: dict[Slot, dict[ObjectKey, Entry]] = field(default_factory=dict)
    _stored_versions: dict[Slot, str] = field(default_factory=dict)
    _changes: dict[Slot, dict[ObjectKey, Entry | None]] = field(default_factory=dict)
    """Per bundle to write: entries put (or removed: None); empty when only its version moves."""

    def add(self, dest: str, bundle: BundleId, entry: Entry) -> None:
        slot = (dest, bundle)
        if self._slot(slot).get(entry.key) != entry:
            self._set(slot, entry.key, entry)
        elif self._version(slot) != self._stored_versions[slot]:
            self._changes.setdefault(slot, {})

    def remove(self, dest: str, bundle: BundleId, key: ObjectKey) -> None:
        if key in self._slot((dest, bundle)):
            self._set((dest, bundle), key, None)

    def flush(self) -> None:
        """Write what changed since the last flush (nothing at all when nothing did)."""
        if not self._changes:
            return
        changes, self._changes = self._changes, {}
        self.run.store.update_many([
            InventoryChange(dest, bundle, self.run.revision,
                            put=tuple(sorted(e for e in entries.values() if e is not None)),
                            removed=tuple(sorted(k for k, e in entries.items() if e is None)),
                            version=self._version((dest, bundle)))
            for (dest, bundle), entries in sorted(changes.items())
        ])
        for slot in changes:
            self._stored_versions[slot] = self._version(slot)
        self.run._wrote(set(changes))

    def _set(self, slot: Slot, key: ObjectKey, entry: Entry | None) -> None:
        entries = self._entries[slot]
        if entry is None:
            entries.pop(key, None)
        else:
            entries[key] = entry
        self._changes.setdefault(slot, {})[key] = entry

    def _slot(self, slot: Slot) -> dict[ObjectKey, Entry]:
        if slot not in self._entries:
            held = self.run.held(slot)
            self._entries[slot] = {e.key: e for e in held.entries} if held is not None else {}
            self._stored_versions[slot] = held.version if held is not None else ""
        return self._entries[slot]

    def _version(self, slot: Slot) -> str:
        """The version to record: this run's for the bundle, else the one already stored."""
        return self.run.versions.get(slot) or self._stored_versions.get(slot, "")
