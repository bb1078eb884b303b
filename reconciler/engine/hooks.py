"""Helm hook steps as Helm runs them: delete policies around the write (``core.plans.Hook``).

- ``before-hook-creation``: the previous hook object (the plan saw its uid) is deleted before the new
  one is created, so a Job runs again instead of being patched;
- ``hook-succeeded``: the hook object is deleted once its wave is healthy (a Job complete);
- ``hook-failed``: it is deleted when its wave failed the health gate.

The wave of a hook holds only that hook (``engine.waves``), so the health gate between waves is what
waits for a Job hook to complete before the bundle's objects (pre) or after them (post).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.core.objects import Obj, ObjectKey
from reconciler.core.plans import Change
from reconciler.engine.ports import ClusterApi


def replace_previous(client: ClusterApi, change: Change) -> None:
    """Delete the hook object the plan saw, before it is created again."""
    client.delete(change.key, uid=change.live_uid or "")


def finish(client: ClusterApi, changes: Sequence[Change], applied: Mapping[ObjectKey, Obj], *,
           succeeded: bool) -> None:
    """Delete the applied hook objects whose delete policy asks for it after this ending."""
    policy = "hook-succeeded" if succeeded else "hook-failed"
    for change in changes:
        kept = applied.get(change.key)
        if change.hook and kept is not None and policy in change.hook.delete_policies:
            client.delete(change.key, uid=str((kept.get("metadata") or {}).get("uid", "")))
