"""The Helm chart of stackfleet itself (charts/stackfleet), rendered with our Helm engine and applied to a
sim cluster by our own pipeline.

The render tests read the objects of the default values and of three replicas: kinds, the RBAC rules
(Leases in the release namespace only; nothing cluster-wide unless asked), probes, the downward-API
``POD_NAME`` and the settings file, which must load as the daemon loads it. Three replicas without a
PostgreSQL URL fail the render with a sentence saying what to set. The apply tests deploy the chart
(default values; three replicas with every optional part) as a fleet bundle, the fleet waiving the
``stackfleet-self`` guard for it as docs/running-in-a-cluster.md says, next to a ServiceMonitor CRD,
then plan again: nothing left to change, nothing drifted.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

import reconciler
from reconciler import settings
from reconciler.core.plans import Action
from reconciler.errors import ChartError
from reconciler.render import helm
from reconciler.source import opening

if TYPE_CHECKING:
    from tests.pipeline.conftest import StartBench

NAMESPACE = "stackfleet-system"
CLUSTER = "mgmt"
DATABASE_URL = "postgresql://stackfleet@db.example:5432/stackfleet"
THREE = {"replicaCount": 3, "database": {"existingSecret": "stackfleet-db"}}


def render(repo_root: Path, values: dict[str, Any]) -> list[dict[str, Any]]:
    archive = helm.local_archive(opening.open_tree(str(repo_root / "charts")), "stackfleet")
    docs = helm.render(archive, helm.Release("sf", NAMESPACE, values), file_prefix="charts/stackfleet")
    return [dict(doc.obj) for doc in docs]


def one(objects: list[dict[str, Any]], kind: str, name: str = "sf-stackfleet") -> dict[str, Any]:
    [found] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    [daemon] = one(objects, "StatefulSet")["spec"]["template"]["spec"]["containers"]
    return dict(daemon)


def settings_of(objects: list[dict[str, Any]], tmp_path: Path, environ: dict[str, str]) -> settings.Settings:
    """The rendered settings file loaded as the daemon loads it, with the container's plain env values."""
    config = tmp_path / "stackfleet.yaml"
    config.write_text(one(objects, "ConfigMap")["data"]["stackfleet.yaml"])
    return settings.load(config, environ=environ)


def kinds(objects: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return sorted((o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")) for o in objects)


def test_the_default_values_render_one_replica_on_sqlite_in_its_state_volume(
        repo_root: Path, tmp_path: Path) -> None:
    objects = render(repo_root, {})
    assert kinds(objects) == [
        ("ConfigMap", "sf-stackfleet", NAMESPACE),
        ("Service", "sf-stackfleet", NAMESPACE),
        ("Service", "sf-stackfleet-pods", NAMESPACE),
        ("ServiceAccount", "sf-stackfleet", NAMESPACE),
        ("StatefulSet", "sf-stackfleet", NAMESPACE),
    ]
    statefulset = one(objects, "StatefulSet")
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container(objects)["env"]}
    assert (statefulset["spec"]["replicas"], env["POD_NAME"], env["STACKFLEET_STATE__DATABASE"]) == (
        1, {"fieldRef": {"fieldPath": "metadata.name"}}, "/state/stackfleet.db")
    [claim] = statefulset["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "state"
    plain = {k: v for k, v in env.items() if isinstance(v, str)}
    loaded = settings_of(objects, tmp_path, plain)
    assert (loaded.replicas.enabled, loaded.web.listen, loaded.state.database) == (
        False, "0.0.0.0:8080", "/state/stackfleet.db")


def test_the_image_is_the_version_of_this_source_tree_by_default(repo_root: Path) -> None:
    chart = yaml.safe_load((repo_root / "charts" / "stackfleet" / "Chart.yaml").read_text())
    assert (chart["appVersion"], container(render(repo_root, {}))["image"]) == (
        reconciler.__version__, f"stackfleet:{reconciler.__version__}")


def test_the_probes_ask_healthz_for_liveness_and_readyz_for_readiness(repo_root: Path) -> None:
    daemon = container(render(repo_root, {}))
    paths = {probe: daemon[probe]["httpGet"] for probe in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert paths == {"startupProbe": {"path": "/healthz", "port": "http"},
                     "livenessProbe": {"path": "/healthz", "port": "http"},
                     "readinessProbe": {"path": "/readyz", "port": "http"}}
    assert daemon["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


def test_three_replicas_share_leases_in_the_release_namespace_and_a_postgresql_url_from_a_secret(
        repo_root: Path, tmp_path: Path) -> None:
    objects = render(repo_root, THREE)
    assert one(objects, "StatefulSet")["spec"]["replicas"] == 3
    role = one(objects, "Role", "sf-stackfleet-leases")
    assert (role["metadata"]["namespace"], role["rules"]) == (NAMESPACE, [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "verbs": ["get", "list", "watch", "create", "update"]}])
    binding = one(objects, "RoleBinding", "sf-stackfleet-leases")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "sf-stackfleet", "namespace": NAMESPACE}]
    assert not [o for o in objects if o["kind"] in ("ClusterRole", "ClusterRoleBinding", "Secret")]
    env = {e["name"]: e for e in container(objects)["env"]}
    assert env["STACKFLEET_STATE__DATABASE"]["valueFrom"] == {
        "secretKeyRef": {"name": "stackfleet-db", "key": "url"}}
    loaded = settings_of(objects, tmp_path, {"STACKFLEET_STATE__DATABASE": DATABASE_URL, "POD_NAME": "sf-stackfleet-1"})
    assert (loaded.replicas.enabled, loaded.replicas.namespace, loaded.replicas.group,
            loaded.replicas.lease_duration, loaded.state.database) == (
        True, NAMESPACE, "sf-stackfleet", 15.0, DATABASE_URL)
    assert settings.replica_identity(loaded.replicas, environ={"POD_NAME": "sf-stackfleet-1"}) == "sf-stackfleet-1"


@pytest.mark.parametrize("database", [{}, {"url": "stackfleet.db"}])
def test_several_replicas_without_a_postgresql_url_fail_the_render_saying_what_to_set(
        repo_root: Path, database: dict[str, str]) -> None:
    with pytest.raises(ChartError) as raised:
        render(repo_root, {"replicaCount": 2, "database": database})
    assert ("needs a PostgreSQL store shared by the replicas: set database.existingSecret" in raised.value.message
            or "database.url must be a postgresql:// URL" in raised.value.message)
    assert "charts/stackfleet/templates/configmap.yaml" in raised.value.message


def test_kubeconfig_secrets_tokens_and_cluster_rules_only_when_values_ask(
        repo_root: Path, tmp_path: Path) -> None:
    values = {"kubeconfig": {"secretName": "fleet-kubeconfig"},
              "webTokens": {"read": {"secretName": "stackfleet-read"}},
              "rbac": {"kubeconfigSecrets": [{"namespace": "capi", "names": ["prod-1-kubeconfig"]}],
                       "clusterRules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}]},
              "serviceMonitor": {"enabled": True}, "database": {"url": DATABASE_URL}}
    objects = render(repo_root, values)
    secrets = one(objects, "Role", "sf-stackfleet-kubeconfigs")
    assert (secrets["metadata"]["namespace"], secrets["rules"]) == ("capi", [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["prod-1-kubeconfig"], "verbs": ["get"]}])
    assert one(objects, "ClusterRole")["rules"] == values["rbac"]["clusterRules"]  # type: ignore[index]
    assert one(objects, "ClusterRoleBinding")["roleRef"]["name"] == "sf-stackfleet"
    assert one(objects, "Secret", "sf-stackfleet-database")["stringData"] == {"url": DATABASE_URL}
    monitor = one(objects, "ServiceMonitor")
    assert (monitor["apiVersion"], monitor["spec"]["endpoints"][0]["authorization"]) == (
        "monitoring.coreos.com/v1", {"type": "Bearer", "credentials": {"name": "stackfleet-read", "key": "token"}})
    mounts = {m["name"]: m["mountPath"] for m in container(objects)["volumeMounts"]}
    loaded = settings_of(objects, tmp_path, {})
    assert (str(loaded.kube.kubeconfig), str(loaded.web.read_token.file if loaded.web.read_token else None)) == (
        f"{mounts['kubeconfig']}/config", f"{mounts['read-token']}/token")


def stack_files(repo_root: Path, values: dict[str, Any], *, waive: bool = True) -> dict[str, str]:
    """A fleet of one cluster whose stack ``stackfleet`` deploys a ServiceMonitor CRD, then the chart
    (the ``stackfleet-self`` guard waived for that stack unless ``waive`` is false)."""
    chart = repo_root / "charts" / "stackfleet"
    guards = {"stacks": [{"stack": "stackfleet", "waive": ["stackfleet-self"]}]} if waive else {}
    files = {
        "fleet.yaml": yaml.safe_dump({
            "apiVersion": "stackfleet.dev/v1alpha1", "kind": "Fleet", "metadata": {"name": "self"},
            "spec": {"layers": ["crds", "addons"],
                     "policy": {"guards": guards}}}),
        f"clusters/{CLUSTER}.yaml": yaml.safe_dump({
            "apiVersion": "stackfleet.dev/v1alpha1", "kind": "Cluster", "metadata": {"name": CLUSTER},
            "spec": {"connection": {"context": CLUSTER}, "stacks": [{"name": "stackfleet", "version": "0.1.0"}]}}),
        "stacks/stackfleet/0.1.0/stack.yaml": yaml.safe_dump({
            "apiVersion": "stackfleet.dev/v1alpha1", "kind": "Stack", "metadata": {"name": "stackfleet"},
            "spec": {"version": "0.1.0", "bundles": [
                {"name": "monitoring-crds", "layer": "crds", "manifests": {"path": "crds"}},
                {"name": "stackfleet", "layer": "addons", "namespace": NAMESPACE, "createNamespace": True,
                 "helm": {"chart": "charts/stackfleet", "releaseName": "sf", "values": values}}]}}),
        "stacks/stackfleet/0.1.0/crds/servicemonitors.yaml": SERVICE_MONITOR_CRD,
    }
    for path in sorted(p for p in chart.rglob("*") if p.is_file()):
        files[f"stacks/stackfleet/0.1.0/charts/stackfleet/{path.relative_to(chart)}"] = path.read_text()
    return files


PLURALS = {
    "ConfigMap": ("", "v1", "configmaps"), "Secret": ("", "v1", "secrets"), "Service": ("", "v1", "services"),
    "ServiceAccount": ("", "v1", "serviceaccounts"), "StatefulSet": ("apps", "v1", "statefulsets"),
    "Role": ("rbac.authorization.k8s.io", "v1", "roles"),
    "RoleBinding": ("rbac.authorization.k8s.io", "v1", "rolebindings"),
    "ServiceMonitor": ("monitoring.coreos.com", "v1", "servicemonitors"),
}

SERVICE_MONITOR_CRD = """
# The part of the Prometheus Operator's CRD that the chart's ServiceMonitor uses (spec.selector, spec.endpoints).
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: servicemonitors.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [selector]
              properties:
                selector: {type: object, x-kubernetes-preserve-unknown-fields: true}
                endpoints:
                  type: array
                  items: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


APPLIED = {
    "defaults": ({}, 5),
    "three replicas": ({**THREE, "database": {"url": DATABASE_URL}, "serviceMonitor": {"enabled": True},
                        "rbac": {"kubeconfigSecrets": [{"namespace": NAMESPACE}]}}, 11),
}


@pytest.mark.parametrize(("values", "count"), list(APPLIED.values()), ids=list(APPLIED))
def test_the_chart_applies_to_a_sim_cluster_and_then_nothing_is_planned_or_drifted(
        repo_root: Path, bench_factory: StartBench, values: dict[str, Any], count: int) -> None:
    bench = bench_factory(stack_files(repo_root, values), [CLUSTER])
    report = bench.apply()
    assert [o.result.value for o in report.outcomes] == ["succeeded"]
    live = bench.running.cluster(CLUSTER)
    rendered = {(o["kind"], o["metadata"]["name"]) for o in render(repo_root, values)}
    types = {kind: live.registry.lookup(*plural) for kind, plural in PLURALS.items()}
    found = {(kind, name) for kind, name in rendered
             if (served := types[kind]) is not None and live.find(served, NAMESPACE, name) is not None}
    assert (found, len(rendered)) == (rendered, count)
    assert (bench.plan().plan.has_changes, bench.drift().entries) == (False, ())


def test_without_the_waiver_the_guard_refuses_every_object_of_the_chart(
        repo_root: Path, bench_factory: StartBench) -> None:
    bench = bench_factory(stack_files(repo_root, {}, waive=False), [CLUSTER])
    changes = [c for c in bench.plan().plan.changes if c.key.namespace == NAMESPACE or c.key.name == NAMESPACE]
    assert {c.action for c in changes} == {Action.REFUSED}
    assert {(c.key.kind, c.key.name) for c in changes} >= {("Namespace", NAMESPACE), ("StatefulSet", "sf-stackfleet")}
