"""When a rollout stage may start, and the state of every rollout unit (ADR 0022). Pure: time is passed in.

A rollout *unit* is one cluster's share of one assignment (ADR 0010). Each unit has exactly one
``UnitState``; the engine stores it, the dashboard shows it and the API serves it, always by its value.

A stage is *done* when every one of its units is healthy, or failed within the failure budget while at
least one unit of the stage is healthy; a unit still applying, waiting, held or unreachable keeps it
from being done. A stage is *ready* when it is done and so is every stage before it (so a later stage
with nothing to roll never lets the next one overtake an earlier stage that is still rolling). The
store keeps, per stage, since when it has been ready (``StageMark.ready_since``); a stage opens once
the stage before it has been ready for that stage's ``soak`` and then for this stage's ``pause``, and
once it is approved where it needs an approval. Because the moment is stored, a restart or the next
run waits for the same instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from reconciler.core.statuses import UnitState

HELD = frozenset({UnitState.WAITING, UnitState.PAUSED, UnitState.AWAITING_APPROVAL, UnitState.HALTED})
"""Units whose changes have not been applied because of a gate."""

LABELS = {
    UnitState.PENDING: "pending",
    UnitState.WAITING: "waiting for previous stage",
    UnitState.PAUSED: "paused",
    UnitState.AWAITING_APPROVAL: "awaiting approval",
    UnitState.APPLYING: "applying",
    UnitState.APPLIED: "applied, not healthy",
    UnitState.HEALTHY: "healthy",
    UnitState.FAILED: "failed",
    UnitState.HALTED: "halted",
    UnitState.DRIFTED: "drifted",
}

RANKS = (UnitState.FAILED, UnitState.HALTED, UnitState.DRIFTED, UnitState.AWAITING_APPROVAL, UnitState.WAITING,
         UnitState.PAUSED, UnitState.APPLYING, UnitState.APPLIED, UnitState.PENDING, UnitState.HEALTHY)
"""Worst first: what a cluster or a stage of several units reads as."""


def worst(states: Iterable[UnitState]) -> UnitState:
    return min(states, key=RANKS.index, default=UnitState.HEALTHY)


@dataclass(frozen=True)
class StageMark:
    """What the store keeps per stage: since when it is ready, and its approval."""

    ready_since: datetime | None = None
    approved_by: str = ""
    approved_at: datetime | None = None


@dataclass(frozen=True)
class Gate:
    """Whether a stage may start: ``state`` is ``None`` when it is open, else what its units wait in."""

    state: UnitState | None
    reason: str = ""
    until: datetime | None = None

    @property
    def open(self) -> bool:
        return self.state is None


OPEN = Gate(None)


def is_done(states: Sequence[UnitState], *, budget: int) -> bool:
    """Every unit healthy, or failed within ``budget`` while at least one is healthy."""
    healthy = sum(1 for s in states if s in (UnitState.HEALTHY, UnitState.DRIFTED))
    failed = sum(1 for s in states if s is UnitState.FAILED)
    settled = healthy + failed == len(states)
    return settled and failed <= budget and (failed == 0 or healthy > 0)


def why_not_done(name: str, states: Sequence[UnitState], *, budget: int) -> str:
    """Why stage ``name`` is not done, for a person (``""`` when it is)."""
    if is_done(states, budget=budget):
        return ""
    healthy = sum(1 for s in states if s in (UnitState.HEALTHY, UnitState.DRIFTED))
    left = sorted({s.value for s in states if s not in (UnitState.HEALTHY, UnitState.DRIFTED)})
    return f"stage {name} is not done: {healthy} of {len(states)} unit(s) healthy ({', '.join(left)})"


def next_mark(mark: StageMark, *, ready: bool, now: datetime) -> StageMark:
    """The stage's mark after a run found it ``ready`` (or not) at ``now``.

    An approval is for one change: once the stage it let through was ready, the next change that
    makes the stage not ready needs a new one (an approval given in advance is kept until then).
    """
    if not ready:
        return StageMark(None, mark.approved_by, mark.approved_at) if is_approved(mark) else StageMark()
    return mark if mark.ready_since is not None else StageMark(now, mark.approved_by, mark.approved_at)


def is_approved(mark: StageMark) -> bool:
    """An approval not used yet: given after the stage last became ready (or it never was)."""
    if mark.approved_at is None:
        return False
    return mark.ready_since is None or mark.approved_at > mark.ready_since


@dataclass(frozen=True)
class StageRule:
    """The parts of a stage its gate reads."""

    name: str
    approval: bool = False
    pause_seconds: float = 0.0
    soak_seconds: float = 0.0


def gate(stage: StageRule, *, previous: StageRule | None, previous_mark: StageMark | None, mark: StageMark,
         previous_reason: str, now: datetime, approved: bool) -> Gate:
    """May ``stage`` start at ``now``? ``previous_mark`` is the stage before it (``None`` for the first);
    ``previous_reason`` says why it is not ready (``""`` when it is); ``approved`` also counts an
    approval given for this run only."""
    if previous is not None:
        if previous_reason or previous_mark is None or previous_mark.ready_since is None:
            return Gate(UnitState.WAITING, previous_reason or f"stage {previous.name} is not done")
        opens = previous_mark.ready_since + timedelta(seconds=previous.soak_seconds + stage.pause_seconds)
        if now < opens:
            return Gate(UnitState.PAUSED, f"stage {stage.name} opens at {opens.isoformat()}", until=opens)
    if stage.approval and not (approved or is_approved(mark)):
        return Gate(UnitState.AWAITING_APPROVAL, f"awaiting approval of stage {stage.name}")
    return OPEN


@dataclass(frozen=True)
class UnitStatus:
    """One unit's state as stored and served: ``stage`` is ``assignment/stage``."""

    cluster: str
    assignment: str
    stage: str
    state: UnitState
    reason: str = ""
    until: datetime | None = None
