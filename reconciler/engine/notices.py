"""Events of an apply run for the dashboard's event log: the run itself, every unit that failed or is
newly held by a gate (awaiting approval, waiting, paused, halted), and what was pruned.

A held unit is told once, when it becomes held (or held for another reason), not on every run that
finds it still held: the daemon re-runs every few minutes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from reconciler.core import stagegates
from reconciler.core.rollout import FAILURES
from reconciler.core.stagegates import UnitStatus
from reconciler.core.statuses import Outcome as StepOutcome
from reconciler.core.statuses import UnitState
from reconciler.engine.fleetrun import Outcome
from reconciler.engine.ports import EventsPort

REASONS = {UnitState.AWAITING_APPROVAL: "AwaitingApproval", UnitState.WAITING: "WaitingForStage",
           UnitState.PAUSED: "StagePaused", UnitState.HALTED: "RolloutHalted"}


Unit = tuple[str, str]


def record(events: EventsPort, *, run_id: str, revision: str, outcomes: Sequence[Outcome],
           before: Mapping[Unit, UnitStatus], after: Mapping[Unit, UnitStatus]) -> None:
    """Add the events of one apply run (see the module docstring)."""
    counts = Counter(o.result.value for o in outcomes)
    summary = ", ".join(f"{n} {r}" for r, n in sorted(counts.items())) or "nothing to do"
    failed = [o for o in outcomes if o.result in FAILURES]
    events.add("ApplyRun", f"{run_id} applied {revision}: {summary}", level="warning" if failed else "info")
    for o in failed:
        events.add("ApplyFailed", f"{o.stage} on {o.cluster}: {o.detail}", level="error", cluster=o.cluster)
    for unit, status in sorted(after.items()):
        _held(events, status, before.get(unit))
    for cluster, pruned in sorted(_pruned(outcomes).items()):
        events.add("Pruned", f"{pruned} object(s) no longer rendered deleted from {cluster}", cluster=cluster)


def _held(events: EventsPort, status: UnitStatus, was: UnitStatus | None) -> None:
    reason = REASONS.get(status.state)
    if reason is None or (was is not None and (was.state, was.reason) == (status.state, status.reason)):
        return
    label = stagegates.LABELS[status.state]
    events.add(reason, f"{status.assignment} on {status.cluster} is {label}: {status.reason}",
               level="warning" if status.state is UnitState.HALTED else "info", cluster=status.cluster)


def _pruned(outcomes: Sequence[Outcome]) -> dict[str, int]:
    found: Counter[str] = Counter()
    for o in outcomes:
        for step in o.unit.steps if o.unit is not None else ():
            if step.outcome is StepOutcome.DELETED:
                found[step.change.dest] += 1
    return dict(found)
