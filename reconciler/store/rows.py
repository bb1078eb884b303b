"""Small conversions between records and table rows shared by the parts of the store."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Hashable
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, Table, and_

from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.errors import StoreError

R = TypeVar("R")


def bundle_values(cluster: str, bundle: BundleId) -> dict[str, str]:
    """The four columns naming a bundle in a destination cluster."""
    return {
        "cluster": cluster,
        "bundle_cluster": bundle.cluster,
        "stack": bundle.stack,
        "bundle": bundle.bundle,
    }


def bundle_of(row: Any) -> BundleId:
    return BundleId(cluster=row.bundle_cluster, stack=row.stack, bundle=row.bundle)


def match_bundle(table: Table, cluster: str, bundle: BundleId) -> ColumnElement[bool]:
    """A WHERE clause selecting ``bundle`` in ``cluster`` from ``table``."""
    return and_(*(table.c[name] == value for name, value in bundle_values(cluster, bundle).items()))


def key_text(key: ObjectKey | str) -> str:
    return key if isinstance(key, str) else str(key)


def dumps(data: Any) -> str:
    """Compact, stable JSON for a body column."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def record(cls: type[R], row: Any, **converted: Any) -> R:
    """A record of type ``cls`` from ``row``: columns named like its fields, plus ``converted`` ones."""
    values = row._asdict()
    plain = {
        name: values[name]
        for name in _shared_names(cast(Hashable, cls), row._fields)
        if name not in converted
    }
    return cls(**plain, **converted)


@functools.cache
def _shared_names(cls: Any, columns: tuple[str, ...]) -> tuple[str, ...]:
    """The fields of ``cls`` that ``columns`` provide (cached: a query's columns do not change)."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.name in columns)


def new_id(result: CursorResult[Any]) -> int:
    """The primary key an INSERT gave its row."""
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("the database returned no key for a new row")
    return int(key[0])
