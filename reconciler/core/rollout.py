"""Rollout across clusters, pure: stages from an assignment's rollout policy, and what each cluster's
result means for the rest of the rollout.

A rollout *group* is one assignment (or ``direct`` for stacks assigned on the Cluster itself, which go
first). Its stages come from ``RolloutPolicy.stages`` in order: a stage takes the group's clusters its
selector matches that no earlier stage took; clusters left over form a last implicit stage. Within a
group at most ``max_in_flight`` clusters are applied at once; once more than ``failure_budget``
clusters failed (failed, unreachable or auth-failed), the rest of the group is halted. A stage may need a
manual approval, or a pause after the previous stage; paused and unreachable clusters are reported and
never count as success.

Across assignments (ADR 0010): the unit of rollout is a cluster's changes *of one assignment*, so a
cluster changed by two assignments sits in the stages of each, and each assignment's rollout gates only
its own bundles. An approval holds every change, a first install too; a pause holds only a stage where
some cluster already runs the assignment (``installs`` lists the units that are first installs).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from reconciler.spec import selectors
from reconciler.spec.models import RolloutPolicy, duration_seconds

DIRECT = "direct"


class Result(StrEnum):
    """What happened to one cluster in a rollout."""

    SUCCEEDED = "succeeded"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth-failed"
    PAUSED = "paused"
    HALTED = "halted"
    """Not started: the group's failure budget was spent."""
    AWAITING_APPROVAL = "awaiting-approval"
    WAITING = "waiting"
    """Not started: its stage pauses after the previous one."""


FAILURES = frozenset({Result.FAILED, Result.UNREACHABLE, Result.AUTH_FAILED})
SUCCESSES = frozenset({Result.SUCCEEDED, Result.UNCHANGED})


@dataclass(frozen=True)
class Stage:
    group: str
    name: str
    clusters: tuple[str, ...]
    approval: bool = False
    pause_seconds: float = 0.0
    soak_seconds: float = 0.0
    """How long this stage stays done before the next one may start."""
    max_in_flight: int = 10
    failure_budget: int = 1

    @property
    def qualified(self) -> str:
        return f"{self.group}/{self.name}"


def stages_of(
    group: str, policy: RolloutPolicy, clusters: Sequence[str], labels: Mapping[str, Mapping[str, str]]
) -> list[Stage]:
    """The stages of one group's ``clusters`` (empty stages left out)."""
    left = sorted(clusters)
    found: list[Stage] = []
    for stage in policy.stages:
        taken = [c for c in left if stage.selector is None or selectors.matches(stage.selector, labels.get(c, {}))]
        left = [c for c in left if c not in taken]
        pause = duration_seconds(stage.pause) if stage.pause else 0.0
        soak = duration_seconds(stage.soak) if stage.soak else 0.0
        found.append(_stage(group, stage.name, taken, policy, approval=stage.approval, pause=pause, soak=soak))
    if left:
        found.append(_stage(group, "rest" if policy.stages else "all", left, policy, approval=False, pause=0.0,
                            soak=0.0))
    return [s for s in found if s.clusters]


def _stage(group: str, name: str, clusters: list[str], policy: RolloutPolicy, *, approval: bool,
           pause: float, soak: float) -> Stage:
    return Stage(group, name, tuple(clusters), approval=approval, pause_seconds=pause, soak_seconds=soak,
                 max_in_flight=policy.max_in_flight, failure_budget=policy.failure_budget)


def plan_stages(
    *,
    groups: Mapping[str, str],
    policies: Mapping[str, RolloutPolicy],
    order: Sequence[str],
    labels: Mapping[str, Mapping[str, str]],
    providers: Sequence[str] = (),
) -> list[Stage]:
    """Stages of every group: ``groups`` maps cluster -> group, ``order`` lists assignment names.

    ``providers`` (clusters whose steps other clusters wait for, such as the management cluster) run
    first, in a stage of their own, whatever their group.
    """
    return plan_unit_stages(units=groups.items(), policies=policies, order=order, labels=labels, providers=providers)


def plan_unit_stages(
    *,
    units: Iterable[tuple[str, str]],
    policies: Mapping[str, RolloutPolicy],
    order: Sequence[str],
    labels: Mapping[str, Mapping[str, str]],
    providers: Sequence[str] = (),
    installs: Collection[tuple[str, str]] = (),
) -> list[Stage]:
    """``plan_stages`` over rollout units ``(cluster, group)``: a cluster may sit in several groups.

    A provider cluster is one unit (all its groups) in the first stage. A stage whose units are all
    first installs (``installs``) has no pause: a pause is time for a change to prove itself where the
    assignment already runs; approvals stay.
    """
    pairs = sorted(set(units))
    ranked = [DIRECT, *order, *sorted({g for _, g in pairs} - {DIRECT, *order})]
    first = sorted(set(providers) & {c for c, _ in pairs})
    found: list[Stage] = [Stage(DIRECT, "providers", tuple(first))] if first else []
    rest = [(c, g) for c, g in pairs if c not in first]
    for group in ranked:
        members = [c for c, g in rest if g == group]
        if members:
            staged = stages_of(group, policies.get(group, RolloutPolicy()), members, labels)
            found += [_unpaused(s, installs) for s in staged]
    return found


def _unpaused(stage: Stage, installs: Collection[tuple[str, str]]) -> Stage:
    if stage.pause_seconds and all((c, stage.group) in installs for c in stage.clusters):
        return replace(stage, pause_seconds=0.0)
    return stage


RANKS = (Result.FAILED, Result.AUTH_FAILED, Result.UNREACHABLE, Result.HALTED, Result.AWAITING_APPROVAL,
         Result.WAITING, Result.PAUSED, Result.SUCCEEDED, Result.UNCHANGED)
"""Worst first: how a cluster reads when its rollout units (one per assignment) ended differently."""


def worst(results: Iterable[Result]) -> Result:
    """The worst of a cluster's unit results (``UNCHANGED`` for none)."""
    return min(results, key=RANKS.index, default=Result.UNCHANGED)


def failures(results: Iterable[Result]) -> int:
    return sum(1 for r in results if r in FAILURES)


def over_budget(results: Iterable[Result], *, budget: int) -> bool:
    """True once more than ``budget`` clusters failed."""
    return failures(results) > budget


def group_of(source: str) -> str:
    """The rollout group of a bundle whose assignment came from ``source`` (``assignment/<name>`` or ``cluster``)."""
    kind, _, name = source.partition("/")
    return name if kind == "assignment" and name else DIRECT
