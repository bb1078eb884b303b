"""The state of a bundle in a cluster as the dashboard shows it, from the store's latest row."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from reconciler.core.statuses import Outcome, Reachability
from reconciler.store.records import BundleRow


class State(StrEnum):
    """Ranked worst first (``RANK``): a cluster shows the worst state of its bundles."""

    FAILED = "failed"
    UNREACHABLE = "unreachable"
    DRIFTED = "drifted"
    APPLYING = "applying"
    PAUSED = "paused"
    UNKNOWN = "unknown"
    IN_SYNC = "in-sync"


RANK = {state: index for index, state in enumerate(State)}
LABELS = {
    State.FAILED: "failed",
    State.UNREACHABLE: "unreachable",
    State.DRIFTED: "drifted",
    State.APPLYING: "applying",
    State.PAUSED: "paused",
    State.UNKNOWN: "not applied yet",
    State.IN_SYNC: "in sync",
}
_UNREACHABLE = frozenset({Reachability.UNREACHABLE, Reachability.AUTH_FAILED})


def of(row: BundleRow) -> State:
    """One bundle's state: paused, unreachable and failed win over drift, drift over in sync."""
    if row.paused:
        return State.PAUSED
    if row.reachability in _UNREACHABLE:
        return State.UNREACHABLE
    if row.outcome is Outcome.FAILED or row.error:
        return State.FAILED
    if row.outcome is Outcome.STARTED:
        return State.APPLYING
    if row.open_drift:
        return State.DRIFTED
    return State.IN_SYNC if row.revision or row.outcome is not None else State.UNKNOWN


def worst(states: Iterable[State]) -> State:
    return min(states, key=RANK.__getitem__, default=State.UNKNOWN)


def parse(text: str) -> State | None:
    """A state named in a query string (``""`` or an unknown name: no filter)."""
    return next((s for s in State if s.value == text), None)
