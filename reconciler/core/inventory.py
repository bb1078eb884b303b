"""What stackfleet applied, per destination cluster and bundle: the source of truth for prune.

The store persists an ``Inventory`` with ``to_dict``/``from_dict`` (plain JSON-ready values). The
apply engine records an ``Entry`` for every object it confirmed applied (key, live uid after apply,
``fingerprint`` of the object it sent) and removes an entry only when a DELETE was confirmed, so an
object that survived a refused delete stays here and is retried.

An object is pruned only when it is in the inventory, still carries the bundle's marks and the desired
state dropped it; the inventory alone never makes an object ours.

After applying a plan, a bundle's inventory is: the entries of its desired objects that were applied
(or already unchanged), plus the stale entries whose DELETE was not confirmed; an entry the plan
reports as moved to another bundle (skipped, "moved to bundle ...") or already gone is dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from reconciler.core.desired import BundleId
from reconciler.core.objects import Obj, ObjectKey


def fingerprint(obj: Obj) -> str:
    """A stable hash of an object's content (key order does not matter)."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, order=True)
class Entry:
    """One object we applied."""

    key: ObjectKey
    uid: str = ""
    fingerprint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {**key_to_dict(self.key), "uid": self.uid, "fingerprint": self.fingerprint}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        return cls(
            key=key_from_dict(data),
            uid=str(data.get("uid", "")),
            fingerprint=str(data.get("fingerprint", "")),
        )


@dataclass(frozen=True)
class BundleInventory:
    """The objects of one bundle applied to one destination cluster, at one revision."""

    dest: str
    bundle: BundleId
    revision: str = ""
    entries: tuple[Entry, ...] = ()
    version: str = ""
    """The stack version last applied. Kept here (and in the plan's bundle records), not on every object:
    a version bump that changes three objects writes three."""

    @cached_property
    def keys(self) -> frozenset[ObjectKey]:
        return frozenset(entry.key for entry in self.entries)

    def entry(self, key: ObjectKey) -> Entry | None:
        return self._by_key.get(key)

    @cached_property
    def _by_key(self) -> dict[ObjectKey, Entry]:
        return {e.key: e for e in self.entries}

    def to_dict(self) -> dict[str, Any]:
        return {
            "dest": self.dest,
            "bundle": bundle_to_dict(self.bundle),
            "revision": self.revision,
            "version": self.version,
            "entries": [entry.to_dict() for entry in sorted(self.entries)],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BundleInventory:
        return cls(
            dest=str(data["dest"]),
            bundle=BundleId(**{k: str(v) for k, v in data["bundle"].items()}),
            revision=str(data.get("revision", "")),
            entries=tuple(Entry.from_dict(e) for e in data.get("entries", ())),
            version=str(data.get("version", "")),
        )


@dataclass(frozen=True)
class InventoryChange:
    """What one apply changed in one bundle's inventory: entries added or replaced, keys removed."""

    dest: str
    bundle: BundleId
    revision: str
    put: tuple[Entry, ...] = ()
    removed: tuple[ObjectKey, ...] = ()
    version: str = ""
    """The stack version to record with the bundle's inventory."""


@dataclass(frozen=True)
class Inventory:
    """Every bundle inventory of the fleet, keyed by (destination cluster, bundle)."""

    bundles: Mapping[tuple[str, BundleId], BundleInventory] = field(default_factory=dict)

    @classmethod
    def of(cls, bundles: Iterable[BundleInventory]) -> Inventory:
        return cls({(b.dest, b.bundle): b for b in bundles})

    def get(self, dest: str, bundle: BundleId) -> BundleInventory | None:
        return self.bundles.get((dest, bundle))

    def __iter__(self) -> Iterator[BundleInventory]:
        return iter(self.bundles[k] for k in sorted(self.bundles))

    def to_dict(self) -> dict[str, Any]:
        return {"bundles": [b.to_dict() for b in self]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Inventory:
        return cls.of(BundleInventory.from_dict(b) for b in data.get("bundles", ()))


def key_to_dict(key: ObjectKey) -> dict[str, str]:
    return {"group": key.group, "kind": key.kind, "namespace": key.namespace, "name": key.name}


def key_from_dict(data: Mapping[str, Any]) -> ObjectKey:
    return ObjectKey(
        group=str(data.get("group", "")),
        kind=str(data["kind"]),
        namespace=str(data.get("namespace", "")),
        name=str(data["name"]),
    )


def bundle_to_dict(bundle: BundleId) -> dict[str, str]:
    return {"cluster": bundle.cluster, "stack": bundle.stack, "bundle": bundle.bundle}
