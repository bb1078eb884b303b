"""Apply and update on values and owners' field sets: structured-merge-diff's ``Updater``.

- **apply**: merge the configuration onto the live value; the applier now owns exactly the
  configuration's field set; fields it owned before and left out are pruned unless someone still
  owns them; then settle ownership against the live value.
- **update**: the new value is taken as sent; settle ownership with force; the updater adds what
  it added or changed to what it owned, less what it removed.
- **settle**: compare old and new; every other owner of an added or modified path conflicts (an
  error without force, a transfer with it); removed paths leave every other owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.sim.ssa import fieldsets, merge
from reconciler.sim.ssa.fieldpaths import EMPTY, FieldSet
from reconciler.sim.ssa.merge import Comparison
from reconciler.sim.ssa.ownership import Owner
from reconciler.sim.ssa.schemas import Schema, TypeRef

Sets = dict[Owner, FieldSet]


class Conflicts(Exception):
    """Owners holding paths an apply without force would change."""

    def __init__(self, by_owner: dict[Owner, FieldSet]) -> None:
        self.by_owner = by_owner
        super().__init__(f"{len(by_owner)} conflicting owner(s)")


@dataclass(frozen=True)
class Typed:
    """A schema and the type of the root value walked with it."""

    schema: Schema
    ref: TypeRef

    def field_set(self, value: Any, *, strict: bool = False) -> FieldSet:
        return fieldsets.of_value(self.schema, self.ref, value, strict=strict)

    def named(self, paths: FieldSet) -> FieldSet:
        return fieldsets.with_named_fields(self.schema, self.ref, paths)

    def remove(self, value: Any, paths: FieldSet) -> Any:
        return fieldsets.remove(self.schema, self.ref, value, paths)


def apply(
    typed: Typed, live: Any, config: Any, *, sets: Sets, actor: Owner, force: bool
) -> tuple[Any, Sets, Comparison]:
    """The merged value, the owners' new sets, and what changed; ``Conflicts`` unless forced."""
    applied = typed.field_set(config, strict=True)
    merged = merge.merge(typed.schema, typed.ref, live, config)
    last = sets.get(actor, EMPTY)
    sets = {**sets, actor: applied}
    if last:
        merged = _prune(typed, merged, sets=sets, last=last)
    sets, comparison = settle(typed, live, merged, sets=sets, actor=actor, force=force)
    return merged, sets, comparison


def _prune(typed: Typed, merged: Any, *, sets: Sets, last: FieldSet) -> Any:
    """Remove what the applier owned last time, no longer applies, and nobody else owns."""
    last_named = typed.named(last)
    merged_set = typed.named(typed.field_set(merged))
    pruned = typed.remove(merged, last_named)
    owned = typed.named(frozenset().union(*sets.values()))
    kept = typed.remove(merged, merged_set - (typed.named(typed.field_set(pruned)) | owned))
    dangling = (merged_set - typed.named(typed.field_set(kept))) & last_named
    return typed.remove(merged, dangling)


def update(typed: Typed, live: Any, new: Any, *, sets: Sets, actor: Owner) -> tuple[Sets, Comparison]:
    """The owners' sets after ``actor`` replaced ``live`` by ``new``, and what changed."""
    sets, comparison = settle(typed, live, new, sets=sets, actor=actor, force=True)
    mine = (sets.get(actor, EMPTY) | comparison.changed()) - comparison.removed
    sets = {owner: paths for owner, paths in sets.items() if owner != actor}
    if mine:
        sets[actor] = mine
    return sets, comparison


def settle(
    typed: Typed, old: Any, new: Any, *, sets: Sets, actor: Owner, force: bool
) -> tuple[Sets, Comparison]:
    """Ownership after going from ``old`` to ``new``: conflicts taken away, removed paths dropped."""
    comparison = merge.compare(typed.schema, typed.ref, old, new)
    changed = comparison.changed()
    conflicts = {
        owner: paths & changed for owner, paths in sets.items() if owner != actor and paths & changed
    }
    if conflicts and not force:
        raise Conflicts(conflicts)
    removed = frozenset(comparison.removed)
    settled: Sets = {}
    for owner, paths in sets.items():
        left = paths if owner == actor else paths - conflicts.get(owner, EMPTY) - removed
        if left:
            settled[owner] = left
    return settled, comparison
