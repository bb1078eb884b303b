"""A cluster's steps cut into waves: runs of consecutive steps that are dry-run together, then written.

Steps stay in plan order. A new wave starts whenever the destination cluster, the bundle, the
``stackfleet.dev/wave`` annotation, the stage (CRDs and Namespaces before everything else, so custom
resources and namespaced objects find what they need) or apply-versus-delete changes. A Helm hook is
a wave of its own (phase and weight), so a pre hook is written and healthy (a Job complete) before
the bundle's objects start, and a post hook starts only after they are healthy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.core import ordering
from reconciler.core.desired import BundleId
from reconciler.core.plans import Action, Change


@dataclass(frozen=True)
class Wave:
    dest: str
    bundle: BundleId
    delete: bool
    changes: tuple[Change, ...]

    @property
    def steps(self) -> frozenset[int]:
        return frozenset(c.step for c in self.changes if c.step is not None)


def _stage(change: Change) -> int:
    return 0 if ordering.kind_rank(change.key) <= 1 else 1


def _cut(change: Change) -> tuple[object, ...]:
    delete = change.action is Action.DELETE
    hook = (change.hook.phase, change.hook.weight, change.key) if change.hook else ()
    return (change.dest, change.bundle, delete, ordering.wave_of(change.object), 0 if delete else _stage(change),
            hook)


def split(steps: Iterable[Change]) -> list[Wave]:
    """``steps`` (in step order) grouped into waves."""
    found: list[list[Change]] = []
    for change in steps:
        if found and _cut(found[-1][-1]) == _cut(change):
            found[-1].append(change)
        else:
            found.append([change])
    return [Wave(g[0].dest, g[0].bundle, g[0].action is Action.DELETE, tuple(g)) for g in found]
