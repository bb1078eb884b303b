"""Why a plan change or an apply step is what it is, as one closed set (``Reason``).

A ``Change`` that does nothing (skipped, conflict, unchanged) or a Helm hook step carries a ``Reason``
in ``Change.why``; an apply step the engine did not run carries one in ``StepResult.why``. Code
downstream tests the member (``change.why is Reason.PAUSED``); the human sentence next to it
(``Change.reason``, a step's error) is for people and is never parsed.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # the planner: why an object is left alone, in conflict, or unchanged without a diff
    PAUSED = "paused"
    """The cluster or the bundle is paused."""
    UNREACHABLE = "unreachable"
    """The destination could not be read (unreachable, refused our credentials, or not observed)."""
    UNKNOWN_GROUP = "unknown-group"
    """The kind's API group could not be read (discovery Stale, or its requests failed): nothing of it
    is created or pruned."""
    NOT_SERVED = "not-served"
    """The kind is not served by the cluster and no CRD for it is in the plan."""
    OWNED_ELSEWHERE = "owned-elsewhere"
    """Another bundle or fleet owns the object (a conflict)."""
    GUARDED = "guarded"
    """A guard rail of the fleet's policy refuses the object (``core.guards``)."""
    HOOK_NOT_OURS = "hook-not-ours"
    """A Helm hook's object exists and is not ours to replace (a conflict)."""
    HELM_HOOK = "helm-hook"
    """A Helm hook step, run because its bundle changes."""
    EMPTY_RENDER = "empty-render"
    """The bundle rendered nothing: pruning everything needs ``allowEmpty``."""
    PRUNE_DISABLED = "prune-disabled"
    ALREADY_GONE = "already-gone"
    MOVED = "moved"
    """Dropped by this bundle, declared by another one: not pruned."""
    KEPT = "kept"
    """A Namespace that ``createNamespace`` made: never pruned, as Helm leaves it."""
    NOT_OWNED = "not-owned"
    """In the inventory, but the live object lost this bundle's marks: not pruned."""
    ORPHAN = "orphan"
    """Carries a bundle's marks but is in no inventory: never pruned."""
    RENDER_FAILED = "render-failed"
    ABANDONED = "abandoned"
    """In a cluster that left the fleet and cannot be reached: it goes with the cluster, which Cluster API
    deletes (``core.retirements``)."""
    # the engine: why a step was not run
    NEEDS_APPROVAL = "needs-approval"
    SELF_HEAL_OFF = "self-heal-off"
    """Drift reported, not corrected: the bundle does not self-heal."""
    NOT_STARTED = "not-started"
    """An earlier step of the cluster failed or was held."""
