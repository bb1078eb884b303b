"""Helm hook steps as Helm runs them: delete policies around the write (``core.plans.Hook``).

- ``before-hook-creation``: the previous hook object (the plan saw its uid) is deleted before the new
  one is created, so a Job runs again instead of being patched;
- ``hook-succeeded``: the hook object is deleted once every hook of its phase is done (as Helm's
  ``execHook`` does: a ServiceAccount hook of weight -1 is still there while the Job of weight 0 runs);
- ``hook-failed``: when a wave of the unit fails, its hooks and every hook still waiting for the end of
  its phase are deleted by this policy.

A hook listed for a pre and a post event waits for the end of the post phase (``Hook.until``). The wave
of a hook holds only that hook (``engine.waves``), so the health gate between waves is what waits for a
Job hook to complete before the bundle's objects (pre) or after them (post).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.core.desired import BundleId
from reconciler.core.objects import Obj, ObjectKey
from reconciler.core.plans import Change
from reconciler.engine.ports import ClusterApi

RANKS: Mapping[str, int] = {"pre": 0, "": 1, "post": 2}
"""Where a wave stands within its bundle: pre hooks, the objects, post hooks (prunes come after all)."""


def replace_previous(client: ClusterApi, change: Change) -> None:
    """Delete the hook object the plan saw, before it is created again."""
    client.delete(change.key, uid=change.live_uid or "")


@dataclass(frozen=True)
class Spot:
    """Where a wave is: its destination, its bundle, and its rank in the bundle (``RANKS``, 3 for a prune)."""

    dest: str
    bundle: BundleId
    rank: int


@dataclass
class Pending:
    """Applied hook objects of one unit waiting for the end of their phase to be deleted by policy."""

    items: list[tuple[ClusterApi, Change, Obj]] = field(default_factory=list)

    def add(self, client: ClusterApi, changes: Sequence[Change], applied: Mapping[ObjectKey, Obj]) -> None:
        for change in changes:
            kept = applied.get(change.key)
            if change.hook and kept is not None and change.hook.delete_policies:
                self.items.append((client, change, kept))

    def settle(self, upcoming: Spot | None) -> None:
        """Finish (as succeeded) the hooks whose last phase is over once the wave at ``upcoming`` starts."""
        due = [item for item in self.items if _over(item[1], upcoming)]
        self.items = [item for item in self.items if item not in due]
        _finish(due, succeeded=True)

    def fail(self, slot: tuple[str, BundleId] | None = None) -> None:
        """The unit (or the bundle at ``slot``, a destination and a bundle) halted: its waiting hooks
        are finished as failed."""
        due = [i for i in self.items if slot is None or (i[1].dest, i[1].bundle) == slot]
        self.items = [i for i in self.items if i not in due]
        _finish(due, succeeded=False)


def _over(change: Change, upcoming: Spot | None) -> bool:
    if upcoming is None or (upcoming.dest, upcoming.bundle) != (change.dest, change.bundle):
        return True
    return change.hook is not None and upcoming.rank > RANKS[change.hook.until]


def _finish(items: Sequence[tuple[ClusterApi, Change, Obj]], *, succeeded: bool) -> None:
    policy = "hook-succeeded" if succeeded else "hook-failed"
    for client, change, kept in items:
        if change.hook and policy in change.hook.delete_policies:
            client.delete(change.key, uid=str((kept.get("metadata") or {}).get("uid", "")))
