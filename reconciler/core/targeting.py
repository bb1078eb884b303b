"""Targets: which bundle of which stack version renders for which cluster, with what values (pure).

A target is one bundle of one stack version assigned to one cluster. Its values are the merge of
(lowest first) the stack's defaults, the fleet's ``spec.defaults.values``, the assignment's values and
the cluster's ``spec.values``. Its destination is the cluster itself, or the fleet's management
cluster for bundles with ``target: management``. Policy comes from the bundle, then the fleet's
defaults. Paused clusters are targeted too, marked ``paused``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.core import values as values_
from reconciler.core.desired import BundleId, BundlePolicy, IgnoreRule
from reconciler.errors import ValidationFailed
from reconciler.spec import assignments
from reconciler.spec.loader import FleetRepo
from reconciler.spec.models import Bundle, Defaults, PatchTarget, duration_seconds
from reconciler.spec.models import IgnoreRule as SpecIgnoreRule


@dataclass(frozen=True)
class ClusterInfo:
    """What substitution may read of a cluster: ``${cluster.name}`` and ``${cluster.labels.<k>}``."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """One bundle of one stack version for one cluster, ready to render."""

    id: BundleId
    dest: str
    fleet: str
    version: str
    bundle: Bundle
    bundle_index: int
    """Position of the bundle in its stack's ``spec.bundles`` (for error lines)."""
    stack_dir: str
    stack_file: str
    layer: str
    layer_index: int
    cluster: ClusterInfo
    values: Mapping[str, Any]
    policy: BundlePolicy
    paused: bool
    source: str
    """``cluster`` or ``assignment/<name>``: where the stack assignment came from."""


def build(repo: FleetRepo) -> list[Target]:
    """Every target of ``repo``, ordered by destination, layer, cluster, stack and bundle.

    Raises ``ValidationFailed`` when the assignments do not resolve (the loader reports the same).
    """
    resolved, problems = assignments.resolve(repo)
    if problems:
        raise ValidationFailed(problems, revision=repo.revision)
    out = [
        target
        for cluster in sorted(resolved)
        for assignment in resolved[cluster]
        for target in _targets_of(repo, assignment)
    ]
    return sorted(out, key=order_key)


def order_key(target: Target) -> tuple[str, int, str, str, str]:
    return (target.dest, target.layer_index, target.id.cluster, target.id.stack, target.id.bundle)


def _targets_of(repo: FleetRepo, assignment: assignments.StackAssignment) -> list[Target]:
    located = repo.stacks[assignment.stack][assignment.version]
    stack = located.model
    cluster = repo.clusters[assignment.cluster].model
    fleet_spec = repo.fleet.model.spec
    merged = values_.merge(
        stack.spec.values, fleet_spec.defaults.values, assignment.values, cluster.spec.values
    )
    info = ClusterInfo(name=cluster.metadata.name, labels=dict(cluster.metadata.labels))
    return [
        Target(
            id=BundleId(cluster=assignment.cluster, stack=assignment.stack, bundle=bundle.name),
            dest=_dest(bundle, cluster=assignment.cluster, management=fleet_spec.management_cluster),
            fleet=repo.name,
            version=assignment.version,
            bundle=bundle,
            bundle_index=i,
            stack_dir=repo.stack_dir(assignment.stack, assignment.version),
            stack_file=located.file,
            layer=bundle.layer,
            layer_index=fleet_spec.layers.index(bundle.layer) if bundle.layer in fleet_spec.layers else 0,
            cluster=info,
            values=merged,
            policy=policy_of(bundle, fleet_spec.defaults),
            paused=cluster.spec.paused,
            source=assignment.source,
        )
        for i, bundle in enumerate(stack.spec.bundles)
    ]


def _dest(bundle: Bundle, *, cluster: str, management: str | None) -> str:
    if bundle.target == "management" and management is not None:
        return management
    return cluster


def policy_of(bundle: Bundle, defaults: Defaults) -> BundlePolicy:
    """The bundle's policy: its own settings, then the fleet's defaults."""
    return BundlePolicy(
        prune=defaults.prune if bundle.prune is None else bundle.prune,
        self_heal=defaults.self_heal if bundle.self_heal is None else bundle.self_heal,
        allow_adoption=bundle.allow_adoption,
        allow_empty=bundle.allow_empty,
        health_timeout_seconds=duration_seconds(bundle.health_timeout or defaults.health_timeout),
        ignore=tuple(_ignore_rule(rule) for rule in bundle.ignore),
    )


def _ignore_rule(rule: SpecIgnoreRule) -> IgnoreRule:
    target: PatchTarget = rule.target
    return IgnoreRule(
        pointers=tuple(rule.json_pointers),
        group=target.group,
        kind=target.kind,
        name=target.name,
        namespace=target.namespace,
    )
