"""The inventory as the engine updates it while applying: entries added as writes are confirmed and
removed only when a DELETE is confirmed, flushed to the store per bundle after every wave (and on
failure), so a crash leaves at most the current wave to be re-adopted from live marks on the rerun.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.core.desired import BundleId
from reconciler.core.inventory import BundleInventory, Entry
from reconciler.core.objects import ObjectKey
from reconciler.engine.ports import InventoryPort

Slot = tuple[str, BundleId]


@dataclass
class Ledger:
    store: InventoryPort
    revision: str
    versions: Mapping[Slot, str] = field(default_factory=dict)
    """The stack version of each (destination, bundle) the run applies, recorded with its inventory."""
    _entries: dict[Slot, dict[ObjectKey, Entry]] = field(default_factory=dict)
    _stored_versions: dict[Slot, str] = field(default_factory=dict)
    _dirty: set[Slot] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, dest: str, bundle: BundleId, entry: Entry) -> None:
        with self._lock:
            entries = self._load((dest, bundle))
            if entries.get(entry.key) != entry or self._version((dest, bundle)) != self._stored_versions[(dest, bundle)]:
                entries[entry.key] = entry
                self._dirty.add((dest, bundle))

    def remove(self, dest: str, bundle: BundleId, key: ObjectKey) -> None:
        with self._lock:
            if self._load((dest, bundle)).pop(key, None) is not None:
                self._dirty.add((dest, bundle))

    def flush(self) -> None:
        """Write every bundle inventory that changed since the last flush."""
        with self._lock:
            dirty, self._dirty = sorted(self._dirty), set()
            for dest, bundle in dirty:
                entries = tuple(sorted(self._entries[(dest, bundle)].values()))
                version = self._version((dest, bundle))
                self.store.put(BundleInventory(dest, bundle, self.revision, entries, version))
                self._stored_versions[(dest, bundle)] = version

    def _load(self, slot: Slot) -> dict[ObjectKey, Entry]:
        if slot not in self._entries:
            old = self.store.get(*slot)
            self._entries[slot] = {e.key: e for e in old.entries} if old else {}
            self._stored_versions[slot] = old.version if old else ""
        return self._entries[slot]

    def _version(self, slot: Slot) -> str:
        """The version to record: this run's for the bundle, else the one already stored."""
        return self.versions.get(slot) or self._stored_versions.get(slot, "")
