"""``metadata.managedFields``: who owns which fields, decoded to field sets and encoded back.

An owner is identified as kube-apiserver does: by manager name and operation, and for Update
entries also by apiVersion (and subresource). An Apply and an Update entry with the same manager
name are different owners.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.sim.ssa import fieldpaths
from reconciler.sim.ssa.fieldpaths import FieldSet

APPLY = "Apply"
UPDATE = "Update"

STRIPPED: FieldSet = frozenset(
    {
        ("f:apiVersion",),
        ("f:kind",),
        ("f:metadata",),
        *(
            ("f:metadata", f"f:{name}")
            for name in (
                "name",
                "namespace",
                "creationTimestamp",
                "selfLink",
                "uid",
                "clusterName",
                "generation",
                "managedFields",
                "resourceVersion",
            )
        ),
    }
)
"""Paths never recorded in a field set (kube-apiserver strips them after every request)."""


@dataclass(frozen=True, order=True)
class Owner:
    """One managedFields entry's identity."""

    manager: str
    operation: str
    api_version: str = ""
    subresource: str = ""

    @classmethod
    def of(cls, *, manager: str, operation: str, api_version: str, subresource: str = "") -> Owner:
        version = api_version if operation != APPLY else ""
        return cls(manager=manager, operation=operation, api_version=version, subresource=subresource)


@dataclass(frozen=True)
class Entry:
    """What one owner owns, at which apiVersion, since when."""

    fields: FieldSet
    api_version: str
    time: str | None = None


Managed = dict[Owner, Entry]


def decode(entries: Iterable[Mapping[str, Any]] | None) -> Managed:
    """Field sets by owner from a ``metadata.managedFields`` list.

    Entries of another field type, or whose ``fieldsV1`` cannot be read, are skipped.
    """
    managed: Managed = {}
    for raw in entries or ():
        if not isinstance(raw, Mapping) or raw.get("fieldsType", "FieldsV1") != "FieldsV1":
            continue
        owner = Owner.of(
            manager=str(raw.get("manager", "")),
            operation=str(raw.get("operation", UPDATE)),
            api_version=str(raw.get("apiVersion", "")),
            subresource=str(raw.get("subresource", "")),
        )
        try:
            fields = fieldpaths.decode(raw.get("fieldsV1") or {})
        except (ValueError, TypeError, AttributeError):
            continue
        managed[owner] = Entry(
            fields=fields, api_version=str(raw.get("apiVersion", "")), time=raw.get("time")
        )
    return managed


def encode(managed: Managed) -> list[dict[str, Any]]:
    """The ``metadata.managedFields`` list, in kube-apiserver's order."""
    entries = [_entry(owner, entry) for owner, entry in managed.items() if entry.fields]
    return sorted(entries, key=_sort_key)


def _entry(owner: Owner, entry: Entry) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "manager": owner.manager,
        "operation": owner.operation,
        "apiVersion": entry.api_version,
    }
    if entry.time is not None:
        raw["time"] = entry.time
    raw["fieldsType"] = "FieldsV1"
    raw["fieldsV1"] = fieldpaths.encode(entry.fields)
    if owner.subresource:
        raw["subresource"] = owner.subresource
    return raw


def _sort_key(raw: Mapping[str, Any]) -> tuple[str, float, str, str, str]:
    return (
        raw["operation"],
        _seconds(raw.get("time")),
        raw["manager"],
        raw["apiVersion"],
        raw.get("subresource", ""),
    )


def _seconds(time: str | None) -> float:
    if not time:
        return 0.0
    try:
        return float(int(datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp()))
    except ValueError:
        return 0.0


def same_fields(left: Managed, right: Managed) -> bool:
    """Whether two managedFields agree on owners, apiVersions and field sets (times ignored)."""

    def shape(managed: Managed) -> dict[Owner, tuple[FieldSet, str]]:
        return {owner: (entry.fields, entry.api_version) for owner, entry in managed.items() if entry.fields}

    return shape(left) == shape(right)


MAX_UPDATE_OWNERS = 10
ANCIENT_CHANGES = "ancient-changes"


def cap_updates(managed: Managed, *, limit: int = MAX_UPDATE_OWNERS) -> Managed:
    """At most ``limit`` Update entries: the oldest are merged into one ``ancient-changes`` entry per apiVersion.

    kube-apiserver does this after every update, so objects touched by many writers keep a bounded
    managedFields list. Entries are taken oldest first (by time, then owner); the first old entry
    of an apiVersion becomes that version's bucket once a second one joins it.
    """
    updaters = sorted(
        (o for o in managed if o.operation == UPDATE), key=lambda o: (_seconds(managed[o].time), o)
    )
    out, first_of, count = dict(managed), dict[str, Owner](), len(updaters)
    for owner in updaters:
        if count <= limit:
            break
        version = managed[owner].api_version
        if version not in first_of:
            first_of[version] = owner
            continue
        bucket = Owner.of(manager=ANCIENT_CHANGES, operation=UPDATE, api_version=version)
        start = out.pop(first_of[version]).fields if bucket not in out else out[bucket].fields
        entry = out.pop(owner)
        out[bucket] = Entry(fields=start | entry.fields, api_version=version, time=entry.time)
        count -= 1
    return out
