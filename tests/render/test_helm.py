"""Helm bundles through the real Helm engine: the wiring (values, release, .Capabilities), chart
sources (repo directory, packaged .tgz, HTTP chart repository, OCI registry), hooks, and bad charts."""

from __future__ import annotations

import dataclasses
import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from reconciler.render import fleet, helm, streams

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.2.3\nappVersion: '2.0'\n",
    "values.yaml": """\
replicas: 1
greeting: "hello {{ .Release.Name }} in {{ .Release.Namespace }}"
ingress:
  enabled: false
  host: example.test
""",
    "templates/_helpers.tpl": """\
{{- define "web.fullname" -}}
{{ .Release.Name }}-{{ .Chart.Name }}
{{- end -}}
{{- define "web.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
""",
    "templates/configmap.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "web.fullname" . }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
data:
  greeting: {{ tpl .Values.greeting . | quote }}
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  {{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}
  monitoring: "on"
  {{- end }}
  lookup: {{ lookup "v1" "Secret" "kube-system" "anything" | toJson | quote }}
""",
    "templates/ingress.yaml": """\
{{- if .Values.ingress.enabled }}
{{- if semverCompare ">=1.19-0" .Capabilities.KubeVersion.GitVersion }}
apiVersion: networking.k8s.io/v1
{{- else }}
apiVersion: networking.k8s.io/v1beta1
{{- end }}
kind: Ingress
metadata:
  name: {{ include "web.fullname" . }}
spec:
  rules:
    - host: {{ .Values.ingress.host }}
{{- end }}
""",
    "templates/NOTES.txt": "Thanks for installing {{ .Release.Name }}\n",
}


def stack(helm_block: str, *, extra: str = "") -> str:
    return f"""\
apiVersion: stackfleet.dev/v1alpha1
kind: Stack
metadata: {{name: app}}
spec:
  version: 1.0.0
  values: {{replicas: 1}}
  bundles:
    - name: web
      layer: addons
      namespace: web-ns
      helm:
{helm_block}
{extra}"""


PLAIN = "    - {name: plain, layer: addons, namespace: web-ns, manifests: {path: plain}}\n"
PLAIN_FILES = {
    "stacks/app/1.0.0/plain/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: still-here}\n"
}


def write_chart(directory: Path, chart: dict[str, str] = CHART) -> None:
    for name, text in chart.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)


def chart_files(prefix: str, chart: dict[str, str] = CHART) -> dict[str, str | bytes]:
    return {f"{prefix}/{name}": text for name, text in chart.items()}


def by_kind(result: fleet.FleetRender, kind: str) -> list[dict[str, Any]]:
    return [o for b in result.bundles for o in b.objects if o["kind"] == kind]


def marks(kind: str, name: str, *, group: str = "core", namespace: str = "web-ns") -> dict[str, Any]:
    return {
        "labels": {
            "stackfleet.dev/fleet": "acme",
            "stackfleet.dev/stack": "app",
            "stackfleet.dev/bundle": "web",
        },
        "annotations": {
            "stackfleet.dev/owner": f"acme/app/web/{group}/{kind}/{namespace}/{name}",
        },
    }


OFFLINE = {
    "Chart.yaml": "apiVersion: v2\nname: offline\nversion: 0.1.0\n",
    "templates/cm.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: offline}
data:
  lookup: {{ lookup "v1" "Namespace" "" "kube-system" | toJson | quote }}
  host: {{ getHostByName "localhost" | quote }}
  outside: {{ .Files.Get "../../../../etc/hostname" | quote }}
""",
}


def test_templates_reach_no_cluster_no_network_and_no_file_outside_the_chart(repo_writer, options):
    files = {
        "stacks/app/1.0.0/stack.yaml": stack("        chart: charts/offline"),
        **chart_files("stacks/app/1.0.0/charts/offline", OFFLINE),
    }
    result = fleet.render(repo_writer.load(files), options=options)
    assert by_kind(result, "ConfigMap")[0]["data"] == {"lookup": "{}", "host": "", "outside": ""}


def test_chart_with_helpers_include_tpl_and_capabilities_renders_as_helm(repo_writer, options):
    block = "        chart: charts/web\n        releaseName: site\n        values: {replicas: '${values.replicas}'}"
    repo = repo_writer.load(
        {"stacks/app/1.0.0/stack.yaml": stack(block), **chart_files("stacks/app/1.0.0/charts/web")}
    )
    options.default_capabilities = dataclasses.replace(options.default_capabilities, kube_version="v1.29.4")
    result = fleet.render(repo, options=options)
    expected = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "site-web",
            "namespace": "web-ns",
            "labels": {
                "app.kubernetes.io/name": "web",
                "app.kubernetes.io/instance": "site",
                **marks("ConfigMap", "site-web")["labels"],
            },
            "annotations": marks("ConfigMap", "site-web")["annotations"],
        },
        "data": {"greeting": "hello site in web-ns", "kube": "v1.29.4", "lookup": "{}"},
    }
    assert (result.failures, by_kind(result, "ConfigMap"), by_kind(result, "Ingress")) == ((), [expected], [])


def test_values_conditionals_and_api_versions_reach_the_templates(repo_writer, options):
    block = "        chart: charts/web\n        values: {ingress: {enabled: true, host: '${cluster.name}.example.test'}}"
    repo = repo_writer.load(
        {"stacks/app/1.0.0/stack.yaml": stack(block), **chart_files("stacks/app/1.0.0/charts/web")}
    )
    options.default_capabilities = helm.Capabilities(
        kube_version="v1.18.3", api_versions=("monitoring.coreos.com/v1",)
    )
    result = fleet.render(repo, options=options)
    ingress = by_kind(result, "Ingress")[0]
    config = by_kind(result, "ConfigMap")[0]
    assert (ingress["apiVersion"], ingress["spec"], config["data"]["monitoring"]) == (
        "networking.k8s.io/v1beta1",
        {"rules": [{"host": "c1.example.test"}]},
        "on",
    )


def test_values_files_merge_in_order_under_values(repo_writer, options):
    block = (
        "        chart: charts/web\n        valuesFiles: [values/base.yaml, values/prod.yaml]\n"
        "        values: {greeting: 'from stack'}"
    )
    files = {
        "stacks/app/1.0.0/stack.yaml": stack(block),
        "stacks/app/1.0.0/values/base.yaml": "greeting: base\ningress: {enabled: true, host: base.test}\n",
        "stacks/app/1.0.0/values/prod.yaml": "ingress: {host: '${cluster.labels.region}.test'}\n",
        **chart_files("stacks/app/1.0.0/charts/web"),
    }
    result = fleet.render(repo_writer.load(files), options=options)
    assert (by_kind(result, "ConfigMap")[0]["data"]["greeting"], by_kind(result, "Ingress")[0]["spec"]) == (
        "from stack",
        {"rules": [{"host": "eu.test"}]},
    )


def _tgz(chart: dict[str, str], top: str = "web") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in chart.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_packaged_chart_in_the_repo(repo_writer, options):
    block = "        chart: charts/web-1.2.3.tgz"
    files = {
        "stacks/app/1.0.0/stack.yaml": stack(block),
        "stacks/app/1.0.0/charts/web-1.2.3.tgz": _tgz(CHART),
    }
    result = fleet.render(repo_writer.load(files), options=options)
    assert [o["metadata"]["name"] for o in by_kind(result, "ConfigMap")] == ["web-web"]


def test_chart_from_an_http_chart_repository(repo_writer, options, http_server):
    archive = _tgz(CHART)
    index = f"""\
apiVersion: v1
entries:
  web:
    - apiVersion: v2
      name: web
      version: 1.2.3
      digest: unused
      urls: [{http_server.url}/charts/web-1.2.3.tgz]
"""
    http_server.files["/index.yaml"] = ("application/x-yaml", index.encode())
    http_server.files["/charts/web-1.2.3.tgz"] = ("application/gzip", archive)
    block = f"        chart: web\n        repository: {http_server.url}\n        version: 1.2.3"
    repo = repo_writer.load({"stacks/app/1.0.0/stack.yaml": stack(block)})
    result = fleet.render(repo, options=options)
    fleet.render(repo, options=options)  # cached: the chart is not fetched again
    downloads = [h for h in http_server.hits if h.endswith(".tgz")]
    assert (result.failures, [o["metadata"]["name"] for o in by_kind(result, "ConfigMap")], downloads) == (
        (),
        ["web-web"],
        ["GET /charts/web-1.2.3.tgz"],
    )


def test_missing_chart_version_in_a_repository_fails_only_that_bundle(repo_writer, options, http_server):
    http_server.files["/index.yaml"] = ("application/x-yaml", b"apiVersion: v1\nentries: {}\n")
    block = f"        chart: web\n        repository: {http_server.url}\n        version: 9.9.9"
    files = {
        "stacks/app/1.0.0/stack.yaml": stack(block, extra=PLAIN),
        **PLAIN_FILES,
    }
    result = fleet.render(repo_writer.load(files), options=options)
    (failure,) = result.failures
    assert (
        failure.id.bundle,
        "web" in failure.error and "9.9.9" in failure.error,
        [b.id.bundle for b in result.bundles],
    ) == (
        "web",
        True,
        ["plain"],
    )


@pytest.mark.parametrize("version", ["1.2.3", "~1.2.0"])
def test_chart_from_an_oci_registry_over_plain_http(repo_writer, options, oci_server, publish_oci, version):
    publish_oci(oci_server, "charts/web", "1.2.3", _tgz(CHART))
    options.fetcher = helm.Fetcher(plain_http_hosts=frozenset({oci_server.host}))
    block = f"        chart: oci://{oci_server.host}/charts/web\n        version: '{version}'"
    result = fleet.render(repo_writer.load({"stacks/app/1.0.0/stack.yaml": stack(block)}), options=options)
    assert (result.failures, [o["metadata"]["name"] for o in by_kind(result, "ConfigMap")]) == (
        (),
        ["web-web"],
    )


HOOKS = {
    "Chart.yaml": "apiVersion: v2\nname: hooked\nversion: 0.1.0\n",
    "templates/objects.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: main}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: hook-succeeded,before-hook-creation
spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: busybox}]}}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: schema
  annotations: {helm.sh/hook: pre-install}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: announce
  annotations: {helm.sh/hook: "post-install,post-upgrade,post-delete", helm.sh/hook-weight: "3"}
---
apiVersion: v1
kind: Pod
metadata:
  name: smoke-test
  annotations: {helm.sh/hook: test}
spec: {containers: [{name: t, image: busybox}]}
""",
}


def test_hooks_become_ordered_steps_and_test_hooks_are_dropped(repo_writer, options):
    files = {
        "stacks/app/1.0.0/stack.yaml": stack("        chart: charts/hooked"),
        **chart_files("stacks/app/1.0.0/charts/hooked", HOOKS),
    }
    result = fleet.render(repo_writer.load(files), options=options)
    (bundle,) = result.bundles
    hooks = [
        (
            h.phase,
            h.weight,
            h.delete_policies,
            h.object["metadata"]["name"],
            h.object["metadata"]["namespace"],
        )
        for h in bundle.hooks
    ]
    assert (hooks, [o["metadata"]["name"] for o in bundle.objects]) == (
        [
            ("pre", -5, ("before-hook-creation", "hook-succeeded"), "migrate", "web-ns"),
            ("pre", 0, ("before-hook-creation",), "schema", "web-ns"),
            ("post", 3, ("before-hook-creation",), "announce", "web-ns"),
        ],
        ["main"],
    )


def test_delete_only_hook_is_refused_naming_the_template(repo_writer, options):
    chart = {
        **HOOKS,
        "templates/cleanup.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: cleanup\n  annotations: {helm.sh/hook: pre-delete}\n",
    }
    files = {
        "stacks/app/1.0.0/stack.yaml": stack("        chart: charts/hooked"),
        **chart_files("stacks/app/1.0.0/charts/hooked", chart),
    }
    (failure,) = fleet.render(repo_writer.load(files), options=options).failures
    assert ("pre-delete is not supported" in failure.error, failure.about["file"]) == (
        True,
        "stacks/app/1.0.0/charts/hooked/templates/cleanup.yaml",
    )


def test_template_error_names_bundle_and_template_while_others_render(repo_writer, options):
    chart = {
        **CHART,
        "templates/broken.yaml": '{{ if .Values.ingress.enabled }}{{ fail "ingress needs a TLS secret" }}{{ end }}\n',
    }
    block = "        chart: charts/web\n        values: {ingress: {enabled: true}}"
    files = {
        "stacks/app/1.0.0/stack.yaml": stack(block, extra=PLAIN),
        **PLAIN_FILES,
        **chart_files("stacks/app/1.0.0/charts/web", chart),
    }
    result = fleet.render(repo_writer.load(files), options=options)
    (failure,) = result.failures
    wanted = (
        "app@1.0.0/web",
        "templates/broken.yaml:1",
        "ingress needs a TLS secret",
        "stacks/app/1.0.0/charts/web",
    )
    assert ([w in failure.error for w in wanted], [b.id.bundle for b in result.bundles]) == (
        [True] * 4,
        ["plain"],
    )


def test_local_chart_missing_at_render_time_is_a_clear_error(repo_writer, options):
    files = {
        "stacks/app/1.0.0/stack.yaml": stack("        chart: charts/web"),
        **chart_files("stacks/app/1.0.0/charts/web"),
    }
    repo = repo_writer.load(files)
    (
        repo_writer.root / "stacks/app/1.0.0/charts/web/Chart.yaml"
    ).unlink()  # the loader saw it; render does not
    (failure,) = fleet.render(repo, options=options).failures
    assert (
        "chart stacks/app/1.0.0/charts/web not found" in failure.error,
        failure.about["file"],
        failure.about["line"],
    ) == (
        True,
        "stacks/app/1.0.0/stack.yaml",
        12,
    )


def _with_chart(repo: Any, chart: str) -> Any:
    """``repo`` with the web bundle's chart path replaced (past the loader, which refuses it too)."""
    located = repo.stacks["app"]["1.0.0"]
    bundle = located.model.spec.bundles[0]
    new_bundle = bundle.model_copy(update={"helm": bundle.helm.model_copy(update={"chart": chart})})
    spec = located.model.spec.model_copy(update={"bundles": [new_bundle, *located.model.spec.bundles[1:]]})
    new_located = dataclasses.replace(located, model=located.model.model_copy(update={"spec": spec}))
    return dataclasses.replace(repo, stacks={"app": {"1.0.0": new_located}})


def test_chart_path_escaping_the_repo_is_refused_before_reading(repo_writer, options, tmp_path: Path):
    write_chart(tmp_path / "outside-chart")
    files = {
        "stacks/app/1.0.0/stack.yaml": stack("        chart: charts/web", extra=PLAIN),
        **PLAIN_FILES,
        **chart_files("stacks/app/1.0.0/charts/web"),
    }
    repo = _with_chart(repo_writer.load(files), "../../../../outside-chart")
    result = fleet.render(repo, options=options)
    (failure,) = result.failures
    assert (
        "must not contain '..'" in failure.error,
        failure.about["file"],
        [b.id.bundle for b in result.bundles],
    ) == (
        True,
        "stacks/app/1.0.0/stack.yaml",
        ["plain"],
    )


def test_chart_symlinked_outside_the_repo_is_refused(repo_writer, options, tmp_path: Path):
    outside = tmp_path / "elsewhere"
    write_chart(outside)
    files = {
        "stacks/app/1.0.0/stack.yaml": stack("        chart: charts/web"),
        **chart_files("stacks/app/1.0.0/charts/web"),
    }
    repo = repo_writer.load(files)
    chart_dir = repo_writer.root / "stacks/app/1.0.0/charts/web"
    for child in sorted(chart_dir.rglob("*"), reverse=True):
        child.rmdir() if child.is_dir() else child.unlink()
    chart_dir.rmdir()
    chart_dir.symlink_to(outside)
    (failure,) = fleet.render(repo, options=options).failures
    assert "outside the fleet repo" in failure.error


def test_a_chart_repository_that_hangs_times_out_and_fails_only_that_bundle(
    repo_writer, options, http_server
):
    http_server.stall = True
    options.fetcher = helm.Fetcher(timeout=0.5)
    block = f"        chart: web\n        repository: {http_server.url}\n        version: 1.2.3"
    files = {"stacks/app/1.0.0/stack.yaml": stack(block, extra=PLAIN), **PLAIN_FILES}
    result = fleet.render(repo_writer.load(files), options=options)
    (failure,) = result.failures
    assert ("took longer than 0.5s" in failure.error, [b.id.bundle for b in result.bundles]) == (
        True,
        ["plain"],
    )


def test_yaml_stream_puts_pre_hooks_first_and_post_hooks_last(repo_writer, options):
    files = {
        "stacks/app/1.0.0/stack.yaml": stack("        chart: charts/hooked"),
        **chart_files("stacks/app/1.0.0/charts/hooked", HOOKS),
    }
    text = streams.to_yaml(fleet.render(repo_writer.load(files), options=options))
    heads = [line for line in text.splitlines() if line.startswith("# ")]
    names = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("  name: ")]
    head = "# c1 <- c1/app@1.0.0/web"
    assert (heads, names) == (
        [
            f"{head} (helm hook: pre, weight -5, delete policy before-hook-creation,hook-succeeded)",
            f"{head} (helm hook: pre, weight 0, delete policy before-hook-creation)",
            head,
            f"{head} (helm hook: post, weight 3, delete policy before-hook-creation)",
        ],
        ["migrate", "schema", "main", "announce"],
    )


CRD_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: op\nversion: 0.1.0\n",
    "crds/gadgets.yaml": """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.acme.dev}
spec: {group: acme.dev, scope: Cluster, names: {kind: Gadget, plural: gadgets}}
""",
    "templates/gadget.yaml": "apiVersion: acme.dev/v1\nkind: Gadget\nmetadata: {name: {{ .Release.Name }}}\n",
}


@pytest.mark.parametrize(
    ("include", "expected"), [("true", ["CustomResourceDefinition", "Gadget"]), ("false", ["Gadget"])]
)
def test_chart_crds_come_first_unless_left_out(repo_writer, options, include, expected):
    block = f"        chart: charts/op\n        includeCrds: {include}"
    files = {
        "stacks/app/1.0.0/stack.yaml": stack(block),
        **chart_files("stacks/app/1.0.0/charts/op", CRD_CHART),
    }
    (bundle,) = fleet.render(repo_writer.load(files), options=options).bundles
    gadget = bundle.objects[-1]
    namespace = gadget["metadata"].get("namespace", "(none)")
    assert ([o["kind"] for o in bundle.objects], namespace) == (
        expected,
        "(none)" if include == "true" else "web-ns",
    )


def test_oci_registries_are_spoken_to_over_https_unless_named(repo_writer, options, oci_server, publish_oci):
    publish_oci(oci_server, "charts/web", "1.2.3", _tgz(CHART))
    block = f"        chart: oci://{oci_server.host}/charts/web\n        version: 1.2.3"
    (failure,) = fleet.render(
        repo_writer.load({"stacks/app/1.0.0/stack.yaml": stack(block)}), options=options
    ).failures
    assert (
        f"cannot fetch chart oci://{oci_server.host}/charts/web@1.2.3" in failure.error,
        oci_server.hits,
    ) == (True, [])
