"""Roll a plan out across the fleet: stage by stage, a bounded worker pool per stage, a failure budget.

``run`` takes the rollout stages (``core.rollout``) and a function applying one unit. A stage starts
only when its gate (``core.stagegates.gate``) is open: the stage before it is done and has been ready
for its soak and this stage's pause (counted from the moment it became ready, kept in ``Memory.marks``
across runs and restarts), and it is approved where it needs an approval. Within a stage at most
``max_in_flight`` units run at once; once the group's failed units pass its budget no new unit of that
group starts (the rest are reported ``halted``). One unit's failure never stops another group.

Units of a stage without changes in this plan (``Memory.changed``) are not run: their state is what
``Memory.idle`` says (from the observed live objects), so an earlier stage that never got healthy still
holds the next one on every later run. Pauses up to ``pause_limit`` seconds are waited out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reconciler.core import stagegates
from reconciler.core.rollout import Result, Stage
from reconciler.core.stagegates import Gate, StageMark, UnitStatus
from reconciler.core.statuses import UnitState
from reconciler.engine.apply import UnitResult


@dataclass(frozen=True)
class Outcome:
    cluster: str
    stage: str
    result: Result
    detail: str = ""
    unit: UnitResult | None = None
    state: UnitState = UnitState.PENDING
    until: datetime | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Options:
    approved: frozenset[str] = frozenset()
    """Stages approved for this run, as ``group/stage`` or ``stage`` (stored approvals count too)."""
    pause_limit: float = 0.0
    """Pauses up to this many seconds are waited out; a longer pause ends the run there (``waiting``)."""
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = _utc_now
    paused: frozenset[str] = frozenset()
    """Assignments paused by a person: none of their changed units starts."""
    ungated: bool = False
    """Start every stage at once (a heal puts back what the rollout already let through)."""


def _every_unit_changed(cluster: str, group: str) -> bool:
    return True


def _healthy(cluster: str, group: str) -> UnitState:
    return UnitState.HEALTHY


@dataclass
class Memory:
    """What a rollout reads from the store and leaves for it: stage marks by ``group/stage``, and the
    state of every unit it saw."""

    marks: dict[str, StageMark] = field(default_factory=dict)
    units: dict[tuple[str, str], UnitStatus] = field(default_factory=dict)
    changed: Callable[[str, str], bool] = _every_unit_changed
    idle: Callable[[str, str], UnitState] = _healthy
    retries: frozenset[tuple[str, str]] = frozenset()
    """Units (cluster, group) a person asked to retry: they start even once their group halted."""


STATE_OF_RESULT = {
    Result.SUCCEEDED: UnitState.HEALTHY,
    Result.FAILED: UnitState.FAILED,
    Result.UNREACHABLE: UnitState.FAILED,
    Result.AUTH_FAILED: UnitState.FAILED,
    Result.PAUSED: UnitState.PAUSED,
    Result.HALTED: UnitState.HALTED,
    Result.AWAITING_APPROVAL: UnitState.AWAITING_APPROVAL,
    Result.WAITING: UnitState.WAITING,
}
RESULT_OF_GATE = {
    UnitState.WAITING: Result.WAITING,
    UnitState.PAUSED: Result.WAITING,
    UnitState.AWAITING_APPROVAL: Result.AWAITING_APPROVAL,
    UnitState.HALTED: Result.HALTED,
}


@dataclass
class _Group:
    failed: int = 0
    halted: str = ""
    previous: Stage | None = None
    previous_reason: str = ""


def run(stages: Sequence[Stage], execute: Callable[[str], UnitResult], *, options: Options,
        memory: Memory | None = None) -> list[Outcome]:
    """Apply every stage's changed units; the outcome of each, in stage order (``memory`` is updated)."""
    seen = memory if memory is not None else Memory()
    groups: dict[str, _Group] = {}
    outcomes: list[Outcome] = []
    for stage in stages:
        group = groups.setdefault(stage.group, _Group())
        ran = _stage(stage, execute, group, options, seen)
        outcomes += ran
        _settle(stage, group, seen, now=options.now())
    return outcomes


def _stage(stage: Stage, execute: Callable[[str], UnitResult], group: _Group, options: Options,
           memory: Memory) -> list[Outcome]:
    changed = [c for c in stage.clusters if memory.changed(c, stage.group)]
    for cluster in stage.clusters:
        if cluster not in changed:
            state = memory.idle(cluster, stage.group)
            memory.units[(cluster, stage.group)] = UnitStatus(cluster, stage.group, stage.qualified, state)
            _count(group, stage, state)
    if not changed:
        return []
    held = _gate(stage, group, options, memory)
    if held.state is UnitState.HALTED:
        retried = [c for c in changed if (c, stage.group) in memory.retries]
        rest = [_held(c, stage, held, memory) for c in changed if c not in retried]
        return _run_stage(stage, retried, execute, group, memory, despite_halt=True) + rest
    if not held.open:
        return [_held(c, stage, held, memory) for c in changed]
    return _run_stage(stage, changed, execute, group, memory)


def _gate(stage: Stage, group: _Group, options: Options, memory: Memory) -> Gate:
    if group.halted:
        return Gate(UnitState.HALTED, group.halted)
    if options.ungated:
        return stagegates.OPEN
    if stage.group in options.paused:
        return Gate(UnitState.PAUSED, f"assignment {stage.group} is paused")
    approved = bool({stage.qualified, stage.name} & options.approved)
    found = _gate_now(stage, group, memory, now=options.now(), approved=approved)
    if found.state is UnitState.PAUSED and found.until is not None:
        left = (found.until - options.now()).total_seconds()
        if left <= options.pause_limit:
            options.sleep(max(0.0, left))
            found = _gate_now(stage, group, memory, now=max(options.now(), found.until), approved=approved)
    if found.open and approved and stage.approval:
        mark = memory.marks.get(stage.qualified, StageMark())
        memory.marks[stage.qualified] = StageMark(mark.ready_since, "this run", options.now())
    return found


def _gate_now(stage: Stage, group: _Group, memory: Memory, *, now: datetime, approved: bool) -> Gate:
    previous = group.previous
    return stagegates.gate(
        _rule(stage), previous=_rule(previous) if previous else None,
        previous_mark=memory.marks.get(previous.qualified) if previous else None,
        mark=memory.marks.get(stage.qualified, StageMark()), previous_reason=group.previous_reason,
        now=now, approved=approved)


def _rule(stage: Stage) -> stagegates.StageRule:
    return stagegates.StageRule(stage.qualified, approval=stage.approval, pause_seconds=stage.pause_seconds,
                                soak_seconds=stage.soak_seconds)


def _held(cluster: str, stage: Stage, gate: Gate, memory: Memory) -> Outcome:
    state = gate.state or UnitState.WAITING
    memory.units[(cluster, stage.group)] = UnitStatus(cluster, stage.group, stage.qualified, state, gate.reason,
                                                      gate.until)
    return Outcome(cluster, stage.qualified, RESULT_OF_GATE[state], gate.reason, state=state, until=gate.until)


def _settle(stage: Stage, group: _Group, memory: Memory, *, now: datetime) -> None:
    """After a stage: count its failures against the budget, and mark whether it is ready."""
    states = [memory.units[(c, stage.group)].state for c in stage.clusters if (c, stage.group) in memory.units]
    reason = group.previous_reason or stagegates.why_not_done(stage.qualified, states, budget=stage.failure_budget)
    mark = memory.marks.get(stage.qualified, StageMark())
    memory.marks[stage.qualified] = stagegates.next_mark(mark, ready=not reason, now=now)
    group.previous, group.previous_reason = stage, reason


def _run_stage(stage: Stage, clusters: Sequence[str], execute: Callable[[str], UnitResult], group: _Group,
               memory: Memory, *, despite_halt: bool = False) -> list[Outcome]:
    queue = list(clusters)
    outcomes: list[Outcome] = []
    running: dict[Future[UnitResult], str] = {}
    with ThreadPoolExecutor(max_workers=max(1, stage.max_in_flight), thread_name_prefix="rollout") as pool:
        while queue or running:
            while queue and len(running) < stage.max_in_flight and (despite_halt or not group.halted):
                cluster = queue.pop(0)
                running[pool.submit(execute, cluster)] = cluster
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                outcomes.append(_finished(stage, running.pop(future), future, group, memory))
    halted = Gate(UnitState.HALTED, group.halted)
    return outcomes + [_held(c, stage, halted, memory) for c in queue]


def _finished(stage: Stage, cluster: str, future: Future[UnitResult], group: _Group, memory: Memory) -> Outcome:
    try:
        unit = future.result()
    except Exception as exc:  # one cluster's bug never stops the others
        unit = UnitResult(cluster, Result.FAILED, error=f"{type(exc).__name__}: {exc}")
    state = STATE_OF_RESULT.get(unit.result) or memory.idle(cluster, stage.group)
    memory.units[(cluster, stage.group)] = UnitStatus(cluster, stage.group, stage.qualified, state, unit.error)
    _count(group, stage, state)
    return Outcome(cluster, stage.qualified, unit.result, unit.error, unit, state=state)


def _count(group: _Group, stage: Stage, state: UnitState) -> None:
    """A failed unit counts against the group's budget; past it, the group halts and says so."""
    if state is UnitState.FAILED:
        group.failed += 1
    if group.failed > stage.failure_budget and not group.halted:
        group.halted = f"halted: {group.failed} unit(s) failed, budget {stage.failure_budget}"
