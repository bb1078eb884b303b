"""The closed sets of statuses every layer speaks: defined here once, stored and shown as their values.

- ``Reachability``: whether a cluster could be read (the observer, the planner, the store, the pages);
- ``Outcome``: how one apply step ended (the engine records it, the store keeps it);
- ``RunStatus``, ``RevisionStatus``, ``PlanStatus``: what became of an apply run, a source revision
  and a saved plan;
- ``PrPlanState``: where a pull request's plan is (planned, posted, applied at the merge, superseded);
- ``PlanPhase``: the step a fleet plan is in (``engine.reconcile.plan_fleet`` reports each as it begins);
- ``UnitState``: the one state of a rollout unit (a cluster's share of an assignment, ADR 0022).

The values are what the store's rows and the plan file hold; the one place that reads such a row or
file turns the text back into the enum (``Reachability(row.status)``), and nothing downstream compares
the text.
"""

from __future__ import annotations

from enum import StrEnum


class Reachability(StrEnum):
    """Whether a cluster could be read; only ``REACHABLE`` clusters are ever pruned.

    ``UNKNOWN`` is a cluster the store has not heard about yet (the dashboard's rows before the first
    observation); the observer never reports it.
    """

    UNKNOWN = "unknown"
    REACHABLE = "reachable"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth-failed"


class Outcome(StrEnum):
    """How one apply step ended; ``started`` is a step written before its request was sent."""

    STARTED = "started"
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    SKIPPED = "skipped"
    FAILED = "failed"


class ObjectState(StrEnum):
    """Where a planned object stands after an apply (the ``stackfleet_objects`` gauge's ``state``)."""

    IN_SYNC = "in-sync"
    PENDING = "pending"
    """Not applied yet: held for an approval, a stage, or a unit that stopped earlier."""
    FAILED = "failed"
    CONFLICT = "conflict"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RevisionStatus(StrEnum):
    SEEN = "seen"
    APPLIED = "applied"
    PARTLY_APPLIED = "partly-applied"
    """Applied where its rollout let it; the rest is held (the record's ``error`` says by what)."""
    FAILED = "failed"
    INVALID = "invalid"


class PlanStatus(StrEnum):
    PLANNED = "planned"
    APPLIED = "applied"
    """Its apply run finished (held stages stay held; its revision says what is left)."""
    SUPERSEDED = "superseded"
    """A newer plan of the daemon's came before this one was applied."""
    REFUSED = "refused"
    """Its apply was refused before writing (stale, or a guard rail)."""
    APPROVED = "approved"
    """A person approved its held change set: the daemon's runs of its revision apply the steps that
    need approval (protected kinds, the prune budget, adoptions, deletions after a force-push)."""
    STALE = "stale"
    FAILED = "failed"


class PrPlanState(StrEnum):
    """Where a pull request's plan is: computed, posted on the forge, applied after the merge, replaced."""

    PLANNED = "planned"
    POSTED = "posted"
    APPLIED = "applied"
    """Merged, and the reviewed plan was applied as it was."""
    SUPERSEDED = "superseded"
    """A newer head was planned, or at the merge the reviewed plan no longer matched (the record's note says why)."""


class PlanPhase(StrEnum):
    """The steps of planning a fleet, in order (for progress shown while it runs)."""

    RENDER = "render"
    OBSERVE = "observe"
    PLAN = "plan"


class UnitState(StrEnum):
    """The one state of a rollout unit (a cluster's share of an assignment)."""

    PENDING = "pending"
    """Has changes; its stage is open but it has not been started yet."""
    WAITING = "waiting-for-previous-stage"
    PAUSED = "paused"
    """Its stage opens at ``until`` (a pause or the previous stage's soak), or its cluster is paused."""
    AWAITING_APPROVAL = "awaiting-approval"
    APPLYING = "applying"
    APPLIED = "applied"
    """Written, not healthy (yet)."""
    HEALTHY = "healthy"
    FAILED = "failed"
    """The apply or its health gate failed, or the cluster could not be reached."""
    HALTED = "halted"
    """Not started: the assignment's failure budget is spent."""
    DRIFTED = "drifted"
    """Applied and healthy, then changed behind our back (open drift)."""
