"""The state of a bundle in a cluster as the dashboard shows it: from the store's latest row and the
state of the rollout unit it belongs to (``core.statuses.UnitState``, ADR 0022).

A bundle whose unit is held (awaiting approval, waiting for the previous stage, paused, halted) shows
that, whether an older version of it is in sync or it was never installed: the cell tells what is
going on, not what ran last. The states shared with ``UnitState`` carry the same values.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from reconciler.core.stagegates import UnitStatus
from reconciler.core.statuses import Outcome, Reachability, UnitState
from reconciler.store.records import BundleRow


class State(StrEnum):
    """Ranked worst first (``RANK``): a cluster shows the worst state of its bundles."""

    FAILED = UnitState.FAILED.value
    HALTED = UnitState.HALTED.value
    UNREACHABLE = "unreachable"
    DRIFTED = UnitState.DRIFTED.value
    AWAITING_APPROVAL = UnitState.AWAITING_APPROVAL.value
    WAITING = UnitState.WAITING.value
    PAUSED = UnitState.PAUSED.value
    APPLYING = UnitState.APPLYING.value
    APPLIED = UnitState.APPLIED.value
    UNKNOWN = "unknown"
    IN_SYNC = "in-sync"


RANK = {state: index for index, state in enumerate(State)}
LABELS = {
    State.FAILED: "failed",
    State.HALTED: "halted",
    State.UNREACHABLE: "unreachable",
    State.DRIFTED: "drifted",
    State.AWAITING_APPROVAL: "awaiting approval",
    State.WAITING: "waiting for previous stage",
    State.PAUSED: "paused",
    State.APPLYING: "applying",
    State.APPLIED: "applied, not healthy",
    State.UNKNOWN: "never installed",
    State.IN_SYNC: "in sync",
}
_UNREACHABLE = frozenset({Reachability.UNREACHABLE, Reachability.AUTH_FAILED})
_HELD = {UnitState.AWAITING_APPROVAL: State.AWAITING_APPROVAL, UnitState.WAITING: State.WAITING,
         UnitState.PAUSED: State.PAUSED, UnitState.HALTED: State.HALTED}


def of(row: BundleRow | None, unit: UnitStatus | None = None) -> State:
    """One bundle's state (``row`` is ``None`` for a bundle assigned but never applied): a paused or
    unreachable cluster first, then a held unit, then failures, applying, not healthy, drift, in sync."""
    if row is not None and row.paused:
        return State.PAUSED
    if row is not None and row.reachability in _UNREACHABLE:
        return State.UNREACHABLE
    if unit is not None and unit.state in _HELD:
        return _HELD[unit.state]
    failed = unit is not None and unit.state is UnitState.FAILED
    if row is None:
        return State.FAILED if failed else State.UNKNOWN
    if failed or row.outcome is Outcome.FAILED:  # a step held back (skipped) keeps its why but did not fail
        return State.FAILED
    if row.outcome is Outcome.STARTED:
        return State.APPLYING
    if unit is not None and unit.state is UnitState.APPLIED:
        return State.APPLIED
    if row.open_drift:
        return State.DRIFTED
    return State.IN_SYNC if row.revision or row.outcome is not None else State.UNKNOWN


def worst(states: Iterable[State]) -> State:
    return min(states, key=RANK.__getitem__, default=State.UNKNOWN)


def parse(text: str) -> State | None:
    """A state named in a query string (``""`` or an unknown name: no filter)."""
    return next((s for s in State if s.value == text), None)
