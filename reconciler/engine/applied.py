"""What was applied, kept for the drift scan: the desired objects the inventory confirms, sealed.

After every apply (``reconcile.apply_plan`` calls ``record_applied``), each rendered bundle's objects
whose inventory entry carries their fingerprint (written by the engine when the server confirmed the
object, or found unchanged) are stored sealed (``core.drift.seal``: Secret values and sensitive
annotations replaced by hash markers) as the bundle's applied set. An object not confirmed this time
keeps its earlier record while the inventory still holds it; a bundle whose inventory is gone (the
whole bundle was pruned) loses its set. No re-render is needed to scan for drift later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.core import drift
from reconciler.core.desired import BundleId, DesiredBundle
from reconciler.core.inventory import Inventory, fingerprint
from reconciler.core.objects import Obj, ObjectKey
from reconciler.engine.ports import StateStore
from reconciler.store.applied import AppliedRecord

Slot = tuple[str, BundleId]


def record_applied(store: StateStore, bundles: Iterable[DesiredBundle], *, revision: str) -> int:
    """Record the applied objects of ``bundles`` (see the module docstring); returns how many."""
    inventory = store.inventories.load_all()
    earlier = _by_slot(store.applied.all())
    count, rendered = 0, set()
    for bundle in bundles:
        objects = confirmed(bundle, inventory, earlier=earlier.get((bundle.dest, bundle.id), {}))
        store.applied.record(bundle.dest, bundle.id, objects, revision=revision)
        rendered.add((bundle.dest, bundle.id))
        count += len(objects)
    for dest, bundle_id in sorted(set(earlier) - rendered):
        held = inventory.get(dest, bundle_id)
        if held is None or not held.entries:
            store.applied.record(dest, bundle_id, [], revision=revision)
    return count


def confirmed(bundle: DesiredBundle, inventory: Inventory, *, earlier: Mapping[str, Obj]) -> list[Obj]:
    """Sealed objects of ``bundle`` the inventory confirms, else as recorded before (if still held)."""
    held = inventory.get(bundle.dest, bundle.id)
    out: list[Obj] = []
    for obj in bundle.objects:
        key = ObjectKey.of(obj)
        entry = held.entry(key) if held is not None else None
        if entry is not None and entry.fingerprint == fingerprint(obj):
            out.append(drift.seal(obj))
        elif entry is not None and str(key) in earlier:
            out.append(earlier[str(key)])
    return out


def _by_slot(records: Iterable[AppliedRecord]) -> dict[Slot, dict[str, Obj]]:
    out: dict[Slot, dict[str, Obj]] = {}
    for record in records:
        out.setdefault((record.cluster, record.bundle), {})[record.object_key] = record.body
    return out
