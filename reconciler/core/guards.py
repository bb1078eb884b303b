"""Guard rails: what each stack may deploy, judged per rendered object. Pure.

As Argo CD's AppProjects do, a fleet-level policy says per stack which kinds and namespaces its
bundles may write, and whether they may write cluster-scoped resources. Three safe defaults hold
for every stack unless its rules waive them by name (``StackRules.waived``):

- ``system-namespaces``: nothing in, and no Namespace named, kube-system, kube-public or
  kube-node-lease;
- ``public-subjects``: no RoleBinding or ClusterRoleBinding to system:anonymous,
  system:unauthenticated or system:authenticated (every user with any credential);
- ``stackfleet-self``: on the cluster stackfleet runs in (every cluster when it is not named),
  nothing touching its namespace, its ServiceAccount or RBAC naming that ServiceAccount.

``judge(obj, stack=..., dest=..., policy=...)`` returns the first ``Violation`` (rule and a sentence
naming the object), or ``None``. The planner turns a violation into a ``refused`` change; ``validate``
reports it with the file and line of the bundle that renders it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.core.desired import DesiredBundle
from reconciler.core.objects import Obj, ObjectKey
from reconciler.spec import models

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
PUBLIC_SUBJECTS = frozenset({"system:anonymous", "system:unauthenticated", "system:authenticated"})
RBAC = "rbac.authorization.k8s.io"
BINDINGS = frozenset({"RoleBinding", "ClusterRoleBinding"})


class Rule(StrEnum):
    """Which guard an object broke."""

    SYSTEM_NAMESPACES = "system-namespaces"
    PUBLIC_SUBJECTS = "public-subjects"
    STACKFLEET_SELF = "stackfleet-self"
    KIND_DENIED = "kind-denied"
    KIND_NOT_ALLOWED = "kind-not-allowed"
    NAMESPACE_DENIED = "namespace-denied"
    NAMESPACE_NOT_ALLOWED = "namespace-not-allowed"
    CLUSTER_SCOPED_NOT_ALLOWED = "cluster-scoped-not-allowed"


SAFE_DEFAULTS = frozenset({Rule.SYSTEM_NAMESPACES, Rule.PUBLIC_SUBJECTS, Rule.STACKFLEET_SELF})


@dataclass(frozen=True)
class StackRules:
    """What the stacks matching ``stack`` (a shell-style pattern) may deploy; empty allow-lists allow all."""

    stack: str = "*"
    allow_kinds: tuple[str, ...] = ()
    deny_kinds: tuple[str, ...] = ()
    allow_namespaces: tuple[str, ...] = ()
    deny_namespaces: tuple[str, ...] = ()
    cluster_scoped: tuple[str, ...] | None = None
    """Cluster-scoped kinds the stack may write (patterns); ``None``: any."""
    waived: frozenset[Rule] = frozenset()
    """Safe defaults that do not apply to these stacks."""


@dataclass(frozen=True)
class Placement:
    """Where stackfleet itself runs: its cluster (``None``: guard it on every cluster), namespace, ServiceAccount."""

    cluster: str | None = None
    namespace: str = "stackfleet-system"
    service_account: str = "stackfleet"


@dataclass(frozen=True)
class GuardPolicy:
    stacks: tuple[StackRules, ...] = ()
    placement: Placement = field(default_factory=lambda: Placement())

    def rules_for(self, stack: str) -> StackRules | None:
        """The first rules whose pattern matches ``stack``."""
        return next((r for r in self.stacks if fnmatch.fnmatchcase(stack, r.stack)), None)


@dataclass(frozen=True)
class Violation:
    rule: Rule
    message: str


def of_spec(spec: models.Guards) -> GuardPolicy:
    """The guard policy of a fleet spec's ``policy.guards``."""
    stacks = tuple(
        StackRules(stack=g.stack, allow_kinds=tuple(g.allow_kinds), deny_kinds=tuple(g.deny_kinds),
                   allow_namespaces=tuple(g.allow_namespaces), deny_namespaces=tuple(g.deny_namespaces),
                   cluster_scoped=None if g.cluster_scoped is None else tuple(g.cluster_scoped),
                   waived=frozenset(Rule(w) for w in g.waive))
        for g in spec.stacks
    )
    own = spec.stackfleet
    return GuardPolicy(stacks, Placement(own.cluster, own.namespace, own.service_account))


def violations(bundles: Iterable[DesiredBundle], policy: GuardPolicy) -> list[tuple[DesiredBundle, Violation]]:
    """Every rendered object (hooks too) of ``bundles`` that a guard forbids, with its bundle."""
    return [(b, found) for b in bundles for obj in (*b.objects, *(h.object for h in b.hooks))
            if (found := judge(obj, stack=b.id.stack, dest=b.dest, policy=policy)) is not None]


def judge(obj: Obj, *, stack: str, dest: str, policy: GuardPolicy) -> Violation | None:
    """The first guard ``obj`` (rendered by ``stack`` for cluster ``dest``) breaks, or ``None``."""
    key = ObjectKey.of(obj)
    rules = policy.rules_for(stack) or StackRules()
    found = _safe_default(obj, key, dest=dest, placement=policy.placement, waived=rules.waived)
    return found or _stack_rule(key, rules, stack=stack)


def _safe_default(obj: Obj, key: ObjectKey, *, dest: str, placement: Placement,
                  waived: frozenset[Rule]) -> Violation | None:
    checks = (
        (Rule.SYSTEM_NAMESPACES, _system_namespace(key)),
        (Rule.PUBLIC_SUBJECTS, _public_subject(obj, key)),
        (Rule.STACKFLEET_SELF, _touches_self(obj, key, dest=dest, placement=placement)),
    )
    for rule, why in checks:
        if why and rule not in waived:
            return Violation(rule, f"{key} {why} (guard {rule.value}; waive it in policy.guards if meant)")
    return None


def _system_namespace(key: ObjectKey) -> str:
    if key.namespace in SYSTEM_NAMESPACES:
        return f"writes to the system namespace {key.namespace}"
    if key.group_kind == "Namespace" and key.name in SYSTEM_NAMESPACES:
        return f"is the system namespace {key.name}"
    return ""


def _subjects(obj: Obj, key: ObjectKey) -> list[Mapping[str, Any]]:
    if key.group != RBAC or key.kind not in BINDINGS:
        return []
    return [s for s in obj.get("subjects") or () if isinstance(s, Mapping)]


def _public_subject(obj: Obj, key: ObjectKey) -> str:
    public = sorted({str(s.get("name")) for s in _subjects(obj, key) if s.get("name") in PUBLIC_SUBJECTS})
    return f"binds {obj.get('roleRef', {}).get('name', '?')} to {', '.join(public)}" if public else ""


def _touches_self(obj: Obj, key: ObjectKey, *, dest: str, placement: Placement) -> str:
    if placement.cluster is not None and placement.cluster != dest:
        return ""
    own = placement.namespace
    if key.namespace == own or (key.group_kind == "Namespace" and key.name == own):
        return f"touches stackfleet's own namespace {own}"
    ours = [s for s in _subjects(obj, key) if s.get("kind") == "ServiceAccount"
            and s.get("name") == placement.service_account and s.get("namespace", key.namespace) == own]
    if ours:
        return f"binds stackfleet's ServiceAccount {own}/{placement.service_account}"
    if key.group == RBAC and key.kind in ("ClusterRole", "ClusterRoleBinding") and key.name == placement.service_account:
        return f"replaces stackfleet's own {key.kind} {key.name}"
    return ""


def _stack_rule(key: ObjectKey, rules: StackRules, *, stack: str) -> Violation | None:
    """Kinds match as ``Kind.group`` or as the bare ``Kind`` (``Deployment.apps`` or ``Deployment``)."""
    kind = key.group_kind
    if _kind_matches(key, rules.deny_kinds):
        return Violation(Rule.KIND_DENIED, f"{key}: stack {stack} may not deploy {kind}")
    if rules.allow_kinds and not _kind_matches(key, rules.allow_kinds):
        return Violation(Rule.KIND_NOT_ALLOWED, f"{key}: {kind} is not among the kinds stack {stack} may deploy")
    if key.namespace and _matches(key.namespace, rules.deny_namespaces):
        return Violation(Rule.NAMESPACE_DENIED, f"{key}: stack {stack} may not write to namespace {key.namespace}")
    if key.namespace and rules.allow_namespaces and not _matches(key.namespace, rules.allow_namespaces):
        return Violation(Rule.NAMESPACE_NOT_ALLOWED,
                         f"{key}: namespace {key.namespace} is not among those stack {stack} may write to")
    if not key.namespace and rules.cluster_scoped is not None and not _kind_matches(key, rules.cluster_scoped):
        return Violation(Rule.CLUSTER_SCOPED_NOT_ALLOWED,
                         f"{key}: stack {stack} may not write the cluster-scoped {kind}")
    return None


def _kind_matches(key: ObjectKey, patterns: Iterable[str]) -> bool:
    return _matches(key.group_kind, patterns) or _matches(key.kind, patterns)


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)
