"""``core.guards``: the safe defaults and the per-stack rules, one case per row."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core import guards
from reconciler.core.guards import GuardPolicy, Placement, Rule, StackRules


def obj(kind: str, name: str, *, namespace: str = "", api: str = "v1", **body: Any) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api, "kind": kind, "metadata": meta, **body}


def binding(subject: dict[str, str], *, kind: str = "ClusterRoleBinding", namespace: str = "") -> dict[str, Any]:
    return obj(kind, "b", namespace=namespace, api="rbac.authorization.k8s.io/v1",
               roleRef={"kind": "ClusterRole", "name": "cluster-admin"}, subjects=[subject])


SA = {"kind": "ServiceAccount", "name": "stackfleet", "namespace": "stackfleet-system"}
LIMITED = StackRules(stack="apps", allow_kinds=("ConfigMap", "Deployment.apps", "Namespace"), deny_kinds=("Secret",),
                     allow_namespaces=("apps", "team-*"), deny_namespaces=("team-secret",), cluster_scoped=("Namespace",))


@pytest.mark.parametrize(
    ("rendered", "policy", "rule"),
    [
        pytest.param(obj("ConfigMap", "coredns", namespace="kube-system"), GuardPolicy(), Rule.SYSTEM_NAMESPACES,
                     id="kube-system-object"),
        pytest.param(obj("Namespace", "kube-node-lease"), GuardPolicy(), Rule.SYSTEM_NAMESPACES, id="system-namespace"),
        pytest.param(binding({"kind": "User", "name": "system:anonymous"}), GuardPolicy(), Rule.PUBLIC_SUBJECTS,
                     id="anonymous"),
        pytest.param(binding({"kind": "Group", "name": "system:authenticated"}, kind="RoleBinding", namespace="apps"),
                     GuardPolicy(), Rule.PUBLIC_SUBJECTS, id="all-authenticated"),
        pytest.param(binding(SA), GuardPolicy(), Rule.STACKFLEET_SELF, id="binds-our-service-account"),
        pytest.param(obj("ConfigMap", "x", namespace="stackfleet-system"), GuardPolicy(), Rule.STACKFLEET_SELF,
                     id="in-our-namespace"),
        pytest.param(obj("ConfigMap", "x", namespace="stackfleet-system"), GuardPolicy(placement=Placement("mgmt")),
                     None, id="our-namespace-on-another-cluster"),
        pytest.param(obj("ConfigMap", "coredns", namespace="kube-system"),
                     GuardPolicy((StackRules(waived=frozenset({Rule.SYSTEM_NAMESPACES})),)), None, id="waived"),
        pytest.param(binding({"kind": "User", "name": "alice"}), GuardPolicy(), None, id="an-ordinary-binding"),
        pytest.param(obj("Secret", "s", namespace="apps"), GuardPolicy((LIMITED,)), Rule.KIND_DENIED, id="kind-denied"),
        pytest.param(obj("Service", "s", namespace="apps"), GuardPolicy((LIMITED,)), Rule.KIND_NOT_ALLOWED,
                     id="kind-not-allowed"),
        pytest.param(obj("Deployment", "d", namespace="team-a", api="apps/v1"), GuardPolicy((LIMITED,)), None,
                     id="allowed-kind-and-namespace-pattern"),
        pytest.param(obj("ConfigMap", "c", namespace="team-secret"), GuardPolicy((LIMITED,)), Rule.NAMESPACE_DENIED,
                     id="namespace-denied"),
        pytest.param(obj("ConfigMap", "c", namespace="default"), GuardPolicy((LIMITED,)), Rule.NAMESPACE_NOT_ALLOWED,
                     id="namespace-not-allowed"),
        pytest.param(obj("ConfigMap", "c", namespace="default"), GuardPolicy((StackRules(stack="other*",
                     allow_namespaces=("x",)),)), None, id="rules-of-another-stack"),
        pytest.param(obj("ClusterRole", "r", api="rbac.authorization.k8s.io/v1"),
                     GuardPolicy((StackRules(cluster_scoped=()),)), Rule.CLUSTER_SCOPED_NOT_ALLOWED,
                     id="cluster-scoped-none"),
    ],
)
def test_judge(rendered: dict[str, Any], policy: GuardPolicy, rule: Rule | None) -> None:
    found = guards.judge(rendered, stack="apps", dest="c1", policy=policy)
    assert (found.rule if found else None) == rule
