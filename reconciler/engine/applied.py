"""What was applied, kept for the drift scan: the desired objects the inventory confirms, sealed.

After every apply (``reconcile.apply_plan`` calls ``record_applied`` for the bundles whose inventory
changed in the run), each such rendered bundle's objects whose inventory entry carries their
fingerprint (written by the engine when the server confirmed the object, or found unchanged) are
stored sealed (``core.drift.seal``: Secret values and sensitive
annotations replaced by hash markers) as the bundle's applied set. An object not confirmed this time
keeps its earlier record while the inventory still holds it; a bundle whose inventory is gone (the
whole bundle was pruned) loses its set. No re-render is needed to scan for drift later.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from reconciler.core import drift
from reconciler.core.desired import BundleId, DesiredBundle
from reconciler.core.inventory import Inventory, fingerprint
from reconciler.core.objects import Obj, ObjectKey
from reconciler.engine.ports import AppliedView, StateStore

Slot = tuple[str, BundleId]


def record_applied(store: StateStore, bundles: Iterable[DesiredBundle], *, revision: str,
                   only: Collection[Slot] | None = None) -> int:
    """Record the applied objects of ``bundles`` (see the module docstring); returns how many.

    ``only``: the bundles whose inventory changed in this run (``Ledger.written``); the others'
    applied sets cannot have changed, so nothing of theirs is read or written (an idle cycle
    writes nothing at all)."""
    if only is not None and not only:
        return 0
    chosen = [b for b in bundles if only is None or (b.dest, b.id) in only]
    if only is None:
        inventory, earlier = store.inventories.load_all(), _by_slot(store.applied.all())
    else:
        inventory = Inventory.of(i for i in (store.inventories.get(*slot) for slot in sorted(only)) if i is not None)
        earlier = {slot: objects for slot, objects in _by_slot(store.applied.all(clusters={d for d, _ in only})).items()
                   if slot in only}
    count, rendered = 0, set()
    for bundle in chosen:
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


def _by_slot(records: Iterable[AppliedView]) -> dict[Slot, dict[str, Obj]]:
    out: dict[Slot, dict[str, Obj]] = {}
    for record in records:
        out.setdefault((record.cluster, record.bundle), {})[record.object_key] = record.body
    return out
