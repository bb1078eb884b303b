"""What should run where: the rendered desired state, the contract between render and the planner.

Rendering turns every target (cluster x stack@version x bundle) into a ``DesiredBundle``; the planner
consumes them. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.objects import Obj, ObjectKey


@dataclass(frozen=True, order=True)
class BundleId:
    """One bundle of one stack as assigned to one cluster.

    ``cluster`` is the cluster the assignment is for; the objects may go elsewhere (``dest``), e.g.
    a child cluster's Cluster API objects go to the management cluster.
    """

    cluster: str
    stack: str
    bundle: str

    def __str__(self) -> str:
        return f"{self.cluster}/{self.stack}/{self.bundle}"


@dataclass(frozen=True)
class IgnoreRule:
    """Fields (RFC 6901 pointers) left out of diffs for objects matching the target fields."""

    pointers: tuple[str, ...]
    group: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None

    def applies_to(self, key: ObjectKey) -> bool:
        wanted = (self.group, self.kind, self.name, self.namespace)
        actual = (key.group, key.kind, key.name, key.namespace)
        return all(w is None or w == a for w, a in zip(wanted, actual, strict=True))


@dataclass(frozen=True)
class BundlePolicy:
    prune: bool = True
    self_heal: bool = False
    allow_adoption: bool = False
    allow_empty: bool = False
    health_timeout_seconds: float = 300.0
    ignore: tuple[IgnoreRule, ...] = ()


@dataclass(frozen=True)
class HelmHook:
    """A Helm hook object: run as an ordered step before (pre) or after (post) the bundle's objects."""

    phase: str
    """``pre`` (pre-install/pre-upgrade) or ``post`` (post-install/post-upgrade)."""
    weight: int
    delete_policies: tuple[str, ...]
    object: Obj
    last_phase: str = ""
    """The last phase the hook serves when it is listed for several (``post`` for a pre+post hook): it
    is applied in ``phase`` and deleted by policy only once ``last_phase`` is over. Empty: ``phase``."""


@dataclass(frozen=True)
class DesiredBundle:
    """The rendered objects of one bundle for one cluster, with everything the planner needs."""

    id: BundleId
    dest: str
    """The cluster the objects are applied to (``id.cluster`` or the management cluster)."""
    fleet: str
    version: str
    """The stack version."""
    layer: str
    layer_index: int
    depends_on: tuple[str, ...]
    """Bundle names of the same stack and cluster."""
    objects: tuple[Obj, ...]
    """Rendered objects carrying namespace and ownership marks, in a stable order."""
    policy: BundlePolicy = field(default_factory=BundlePolicy)
    hooks: tuple[HelmHook, ...] = ()
    paused: bool = False
    content_hash: str = ""
    """Hash of the rendered content (objects + hooks), recorded in plans."""
    source: str = ""
    """Where the assignment came from: ``cluster`` or ``assignment/<name>``."""

    @property
    def keys(self) -> tuple[ObjectKey, ...]:
        return tuple(ObjectKey.of(o) for o in self.objects)


@dataclass(frozen=True)
class RenderFailure:
    """A bundle that could not be rendered; the planner leaves its live objects alone."""

    id: BundleId
    dest: str
    error: str
    """The error, naming the stack, bundle and file (never containing secret values)."""
    about: Mapping[str, Any] = field(default_factory=dict)
