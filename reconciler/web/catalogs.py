"""What the fleet repo says about clusters, for the dashboard: labels, stacks and their versions.

The store knows what happened; the spec knows what is meant. The daemon hands the web app a callable
returning the ``Catalog`` of its last good revision (``from_repo``), so the fleet view can filter by
label and the cluster view can list stacks and versions without reading Git per request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.core import rollout, targeting
from reconciler.spec.loader import FleetRepo


@dataclass(frozen=True)
class ClusterEntry:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    stacks: Mapping[str, str] = field(default_factory=dict)
    """Stack name -> the version assigned to this cluster."""
    paused: bool = False
    destinations: tuple[str, ...] = ()
    """Clusters its bundles are applied to (itself, and the management cluster for Cluster API bundles)."""


@dataclass(frozen=True)
class StageEntry:
    """A rollout stage as the fleet repo writes it (``pause``/``soak`` as durations, ``""`` for none)."""

    name: str
    approval: bool = False
    pause: str = ""
    soak: str = ""


@dataclass(frozen=True)
class Catalog:
    revision: str = ""
    clusters: Mapping[str, ClusterEntry] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    """Every ``stack/bundle`` of the fleet, grouped by stack, in render order within a stack."""
    groups: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """(cluster, ``stack/bundle``) -> the rollout group (assignment or ``direct``) that put it there."""
    stages: Mapping[str, tuple[StageEntry, ...]] = field(default_factory=dict)
    """Assignment -> its stages in order (for the rollout pages)."""

    def stage_names(self, assignment: str) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages.get(assignment, ()))

    def labels_of(self, cluster: str) -> Mapping[str, str]:
        entry = self.clusters.get(cluster)
        return entry.labels if entry else {}

    def label_choices(self) -> list[str]:
        """Every ``key=value`` some cluster carries, sorted (for the filter form)."""
        return sorted({f"{k}={v}" for c in self.clusters.values() for k, v in c.labels.items()})


def from_repo(repo: FleetRepo, targets: Sequence[targeting.Target] | None = None) -> Catalog:
    """The catalog of a loaded fleet repo (its targets, built here unless given, give each cluster's
    stack versions)."""
    targets = targeting.build(repo) if targets is None else targets
    stacks: dict[str, dict[str, str]] = {}
    dests: dict[str, set[str]] = {}
    for target in targets:
        stacks.setdefault(target.id.cluster, {})[target.id.stack] = target.version
        dests.setdefault(target.id.cluster, set()).add(target.dest)
    columns = sorted(
        dict.fromkeys(f"{t.id.stack}/{t.id.bundle}" for t in targets), key=lambda c: c.split("/")[0]
    )
    clusters = {
        name: ClusterEntry(
            name=name,
            labels=dict(located.model.metadata.labels),
            stacks=stacks.get(name, {}),
            paused=located.model.spec.paused,
            destinations=tuple(sorted(dests.get(name, {name}))),
        )
        for name, located in sorted(repo.clusters.items())
    }
    groups = {(t.id.cluster, f"{t.id.stack}/{t.id.bundle}"): rollout.group_of(t.source) for t in targets}
    stages = {a.name: tuple(StageEntry(s.name, s.approval, s.pause or "", s.soak or "") for s in a.rollout.stages)
              for a in repo.fleet.model.spec.assignments}
    return Catalog(revision=repo.revision, clusters=clusters, columns=tuple(columns), groups=groups, stages=stages)
