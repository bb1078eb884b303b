"""Inventories per (destination cluster, bundle), replaced atomically one bundle at a time, or
changed entry by entry (``update_many``: what an apply put and removed, several bundles at once).

A bundle's header row (revision, time) and its entry rows (``Entry.to_dict`` as JSON, one per
object) change in one transaction: a reader sees the old inventory or the new one, never a mix, and
a failed write leaves the old one in place.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from reconciler.core import inventory
from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.store import rows, tables, upserts
from reconciler.store.contexts import Context

H = tables.inventories
E = tables.inventory_entries
_CHUNK = 500
"""Keys per ``IN (...)`` list (SQLite's limit on bound parameters is far above)."""


class Inventories:
    def __init__(self, context: Context) -> None:
        self._ctx = context

    def put(self, bundle_inventory: inventory.BundleInventory) -> None:
        """Replace the inventory of one bundle in one cluster."""
        with self._ctx.write() as conn:
            self._replace(conn, bundle_inventory)

    def put_many(self, bundle_inventories: Iterable[inventory.BundleInventory]) -> None:
        """Replace several bundles' inventories in one transaction (all or none)."""
        with self._ctx.write() as conn:
            for bundle_inventory in bundle_inventories:
                self._replace(conn, bundle_inventory)

    def update_many(self, changes: Iterable[inventory.InventoryChange]) -> None:
        """Apply what an apply changed, in one transaction: only the entries put or removed are
        written (the others stay as they are), and each header gets the revision and its entry count."""
        with self._ctx.write() as conn:
            for change in changes:
                keys = rows.bundle_values(change.dest, change.bundle)
                where = rows.match_bundle(E, change.dest, change.bundle)
                gone = [rows.key_text(k) for k in (*(e.key for e in change.put), *change.removed)]
                for start in range(0, len(gone), _CHUNK):
                    conn.execute(E.delete().where(where, E.c.object_key.in_(gone[start:start + _CHUNK])))
                if change.put:
                    conn.execute(E.insert(), [{**keys, "object_key": rows.key_text(e.key),
                                               "body": rows.dumps(self._ctx.redactor.data(e.to_dict()))}
                                              for e in change.put])
                count = conn.execute(select(func.count()).select_from(E).where(where)).scalar_one()
                upserts.upsert(conn, H, where=rows.match_bundle(H, change.dest, change.bundle), keys=keys,
                               values={"revision": change.revision, "objects": count,
                                       "stack_version": change.version, "updated_at": self._ctx.clock()})

    def get(self, dest: str, bundle: BundleId) -> inventory.BundleInventory | None:
        with self._ctx.read() as conn:
            return _load(conn, dest, bundle)

    def load_all(self) -> inventory.Inventory:
        """Every bundle inventory of the fleet, read in one transaction."""
        with self._ctx.read() as conn:
            headers = conn.execute(select(H)).all()
            entries = conn.execute(select(E).order_by(E.c.object_key)).all()
        grouped: dict[tuple[str, ...], list[Any]] = {}
        for row in entries:
            grouped.setdefault(_bundle_key(row), []).append(row)
        return inventory.Inventory.of(_assemble(h, grouped.get(_bundle_key(h), [])) for h in headers)

    def owners_of(self, dest: str, key: ObjectKey) -> list[BundleId]:
        """The bundles whose inventory in ``dest`` holds ``key``."""
        query = select(E).where(E.c.cluster == dest, E.c.object_key == rows.key_text(key))
        with self._ctx.read() as conn:
            return [rows.bundle_of(row) for row in conn.execute(query)]

    def _replace(self, conn: Connection, bundle_inventory: inventory.BundleInventory) -> None:
        keys = rows.bundle_values(bundle_inventory.dest, bundle_inventory.bundle)
        values = {
            "revision": bundle_inventory.revision,
            "stack_version": bundle_inventory.version,
            "objects": len(bundle_inventory.keys),
            "updated_at": self._ctx.clock(),
        }
        upserts.upsert(
            conn,
            H,
            where=rows.match_bundle(H, bundle_inventory.dest, bundle_inventory.bundle),
            keys=keys,
            values=values,
        )
        conn.execute(E.delete().where(rows.match_bundle(E, bundle_inventory.dest, bundle_inventory.bundle)))
        entries = [
            {
                **keys,
                "object_key": rows.key_text(e.key),
                "body": rows.dumps(self._ctx.redactor.data(e.to_dict())),
            }
            for e in bundle_inventory.entries
        ]
        if entries:
            conn.execute(E.insert(), entries)


def _load(conn: Connection, dest: str, bundle: BundleId) -> inventory.BundleInventory | None:
    header = conn.execute(select(H).where(rows.match_bundle(H, dest, bundle))).first()
    if header is None:
        return None
    entries = conn.execute(select(E).where(rows.match_bundle(E, dest, bundle)).order_by(E.c.object_key)).all()
    return _assemble(header, entries)


def _assemble(header: Any, entries: Sequence[Any]) -> inventory.BundleInventory:
    """The stored bundle inventory, entries in ``Entry`` order (as ``to_dict`` writes them)."""
    loaded = inventory.BundleInventory.from_dict(
        {
            "dest": header.cluster,
            "bundle": inventory.bundle_to_dict(rows.bundle_of(header)),
            "revision": header.revision,
            "version": header.stack_version,
            "entries": [json.loads(row.body) for row in entries],
        }
    )
    return dataclasses.replace(loaded, entries=tuple(sorted(loaded.entries)))


def _bundle_key(row: Any) -> tuple[str, ...]:
    return tuple(getattr(row, name) for name in tables.BUNDLE_KEY)
