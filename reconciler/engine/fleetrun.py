"""Roll a plan out across the fleet: stage by stage, a bounded worker pool per stage, a failure budget.

``run`` takes the rollout stages (``core.rollout``) and a function applying one cluster. Each stage
waits for its manual approval (``approved``) and its pause; within a stage at most ``max_in_flight``
clusters run at once, and once the group's failures pass its budget no new cluster of that group starts
(the rest are reported ``halted``). One cluster's failure never stops another group. A pause counts
from a stage that changed something in this run: a later run, whose earlier stages have nothing left
to do, does not wait again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from reconciler.core import rollout
from reconciler.core.rollout import Result, Stage
from reconciler.engine.apply import UnitResult


@dataclass(frozen=True)
class Outcome:
    cluster: str
    stage: str
    result: Result
    detail: str = ""
    unit: UnitResult | None = None


@dataclass
class Options:
    approved: frozenset[str] = frozenset()
    """Stages approved for this run, as ``group/stage`` or ``stage``."""
    pause_limit: float = 0.0
    """Pauses up to this many seconds are waited out; a longer pause ends the run there (``waiting``)."""
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class _Hold:
    """Why a group's clusters do not start: the result they are reported with, and the detail."""

    result: Result
    detail: str


@dataclass
class _Group:
    results: list[Result] = field(default_factory=list)
    halted: _Hold | None = None
    started: bool = False


def run(stages: Sequence[Stage], execute: Callable[[str], UnitResult], *, options: Options) -> list[Outcome]:
    """Apply every stage's clusters; the outcome of every cluster, in stage order."""
    groups: dict[str, _Group] = {}
    outcomes: list[Outcome] = []
    for stage in stages:
        group = groups.setdefault(stage.group, _Group())
        group.halted = group.halted or _gate(stage, group, options)
        if group.halted:
            outcomes += [_not_started(c, stage, group.halted) for c in stage.clusters]
            continue
        ran = _run_stage(stage, execute, group)
        group.started = group.started or any(o.result is not Result.UNCHANGED for o in ran)
        outcomes += ran
    return outcomes


def _gate(stage: Stage, group: _Group, options: Options) -> _Hold | None:
    if stage.approval and not {stage.qualified, stage.name} & options.approved:
        return _Hold(Result.AWAITING_APPROVAL, f"awaiting approval of stage {stage.qualified}")
    if stage.pause_seconds and group.started:
        if stage.pause_seconds > options.pause_limit:
            return _Hold(Result.WAITING, f"stage {stage.qualified} starts {stage.pause_seconds:g}s after the previous one")
        options.sleep(stage.pause_seconds)
    return None


def _not_started(cluster: str, stage: Stage, hold: _Hold) -> Outcome:
    return Outcome(cluster, stage.qualified, hold.result, hold.detail)


def _run_stage(stage: Stage, execute: Callable[[str], UnitResult], group: _Group) -> list[Outcome]:
    queue = list(stage.clusters)
    outcomes: list[Outcome] = []
    running: dict[Future[UnitResult], str] = {}
    with ThreadPoolExecutor(max_workers=max(1, stage.max_in_flight), thread_name_prefix="rollout") as pool:
        while queue or running:
            while queue and len(running) < stage.max_in_flight and not group.halted:
                cluster = queue.pop(0)
                running[pool.submit(execute, cluster)] = cluster
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                outcomes.append(_finished(stage, running.pop(future), future, group))
    outcomes += [_not_started(c, stage, group.halted) for c in queue if group.halted]
    return outcomes


def _finished(stage: Stage, cluster: str, future: Future[UnitResult], group: _Group) -> Outcome:
    try:
        unit = future.result()
    except Exception as exc:  # one cluster's bug never stops the others
        unit = UnitResult(cluster, Result.FAILED, error=f"{type(exc).__name__}: {exc}")
    group.results.append(unit.result)
    if rollout.over_budget(group.results, budget=stage.failure_budget) and not group.halted:
        spent = f"halted: {rollout.failures(group.results)} cluster(s) failed, budget {stage.failure_budget}"
        group.halted = _Hold(Result.HALTED, spent)
    return Outcome(cluster, stage.qualified, unit.result, unit.error, unit)
