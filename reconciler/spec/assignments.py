"""Which stack versions each cluster runs: explicit entries and selector assignments, resolved.

An explicit entry in a Cluster's ``spec.stacks`` wins over any selector assignment of the same stack.
Two selector assignments that give one cluster the same stack with different version constraints are
an error naming both. Ranges resolve to the highest version present in the repo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.errors import Location, Problem
from reconciler.spec import selectors, versions
from reconciler.spec.models import RolloutPolicy, StackRef

if TYPE_CHECKING:
    from reconciler.spec.loader import FleetRepo, Located


@dataclass(frozen=True)
class StackAssignment:
    """One stack version a cluster should run, and where that decision came from."""

    cluster: str
    stack: str
    version: str
    constraint: str
    source: str
    """``cluster`` for an explicit entry, ``assignment/<name>`` for a selector assignment."""
    values: Mapping[str, Any] = field(default_factory=dict)
    """The assignment's own values (stack and fleet defaults and cluster values are merged later)."""
    rollout: RolloutPolicy | None = None
    """The rollout policy of the selector assignment, if it came from one."""


@dataclass(frozen=True)
class _Candidate:
    ref: StackRef
    source: str
    doc: Located[Any]
    path: tuple[str | int, ...]
    rollout: RolloutPolicy | None

    def where(self, field: str) -> Location:
        return self.doc.at(*self.path, field)


def resolve(repo: FleetRepo) -> tuple[dict[str, list[StackAssignment]], list[Problem]]:
    """Every cluster's stack assignments, by cluster name, and the problems found resolving them."""
    problems: list[Problem] = []
    result: dict[str, list[StackAssignment]] = {}
    for name in repo.clusters:
        candidates = _candidates(repo, name)
        chosen = _choose(name, candidates, problems)
        result[name] = [a for c in chosen if (a := _resolve_one(repo, name, c, problems)) is not None]
    return result, problems


def _candidates(repo: FleetRepo, cluster_name: str) -> list[_Candidate]:
    located = repo.clusters[cluster_name]
    out = [
        _Candidate(ref, "cluster", located, ("spec", "stacks", i), None)
        for i, ref in enumerate(located.model.spec.stacks)
    ]
    labels = located.model.metadata.labels
    fleet = repo.fleet
    for i, assignment in enumerate(fleet.model.spec.assignments):
        if not selectors.matches(assignment.selector, labels):
            continue
        for j, ref in enumerate(assignment.stacks):
            path = ("spec", "assignments", i, "stacks", j)
            out.append(_Candidate(ref, f"assignment/{assignment.name}", fleet, path, assignment.rollout))
    return out


def _choose(cluster: str, candidates: list[_Candidate], problems: list[Problem]) -> list[_Candidate]:
    explicit = {c.ref.name: c for c in candidates if c.source == "cluster"}
    chosen: dict[str, _Candidate] = dict(explicit)
    for cand in candidates:
        if cand.source == "cluster" or cand.ref.name in explicit:
            continue
        other = chosen.get(cand.ref.name)
        if other is None:
            chosen[cand.ref.name] = cand
        elif other.ref.version != cand.ref.version:
            problems.append(
                Problem(
                    cand.where("version"),
                    f"selectors conflict for cluster {cluster!r}: {other.source} assigns stack "
                    f"{cand.ref.name}@{other.ref.version} and {cand.source} assigns "
                    f"{cand.ref.name}@{cand.ref.version}",
                    rule="selector-conflict",
                )
            )
    return [chosen[k] for k in sorted(chosen)]


def _resolve_one(
    repo: FleetRepo, cluster: str, cand: _Candidate, problems: list[Problem]
) -> StackAssignment | None:
    ref = cand.ref
    available = repo.versions(ref.name)
    if not available:
        problems.append(
            Problem(
                cand.where("name"), f"unknown stack {ref.name!r}", rule="unknown-stack", refers_to=("Stack", ref.name)
            )
        )
        return None
    try:
        version = versions.resolve(ref.version, available)
    except versions.VersionSyntaxError as exc:
        problems.append(Problem(cand.where("version"), str(exc), rule="version-syntax"))
        return None
    if version is None:
        problems.append(
            Problem(
                cand.where("version"),
                f"no version of stack {ref.name!r} satisfies {ref.version!r} "
                f"(available: {', '.join(available)})",
                rule="unknown-version",
                refers_to=("Stack", ref.name),
            )
        )
        return None
    return StackAssignment(
        cluster=cluster,
        stack=ref.name,
        version=version,
        constraint=ref.version,
        source=cand.source,
        values=ref.values,
        rollout=cand.rollout,
    )
