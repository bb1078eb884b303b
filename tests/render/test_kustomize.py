"""Kustomize bundles through the real kustomize (``kubectl kustomize``)."""

from __future__ import annotations

from reconciler.render import fleet, kustomize

STACK = """\
apiVersion: stackfleet.dev/v1alpha1
kind: Stack
metadata: {name: app}
spec:
  version: 1.0.0
  bundles:
    - name: policies
      layer: addons
      kustomize: {path: overlays/prod}
    - name: plain
      layer: addons
      namespace: apps
      manifests: {path: plain}
"""

BASE = {
    "stacks/app/1.0.0/base/kustomization.yaml": "resources: [deployment.yaml, service.yaml]\n",
    "stacks/app/1.0.0/base/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello, labels: {app: hello}}
spec:
  replicas: 1
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec: {containers: [{name: hello, image: "hello:1"}]}
""",
    "stacks/app/1.0.0/base/service.yaml": """\
apiVersion: v1
kind: Service
metadata: {name: hello}
spec: {selector: {app: hello}, ports: [{port: 80}]}
""",
    "stacks/app/1.0.0/plain/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n",
}

OVERLAY = """\
namespace: apps
namePrefix: prod-
resources: [../../base]
patches:
  - target: {kind: Deployment, name: hello}
    patch: |-
      - op: replace
        path: /spec/replicas
        value: 3
"""


def _objects(result: fleet.FleetRender, bundle: str) -> list[dict]:
    return [o for b in result.bundles if b.id.bundle == bundle for o in b.objects]


def test_overlay_with_a_patch_and_name_prefix_renders_as_kustomize_does(repo_writer, options):
    files = {
        "stacks/app/1.0.0/stack.yaml": STACK,
        "stacks/app/1.0.0/overlays/prod/kustomization.yaml": OVERLAY,
        **BASE,
    }
    result = fleet.render(repo_writer.load(files), options=options)
    objs = _objects(result, "policies")
    summary = [(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in objs]
    deployment = next(o for o in objs if o["kind"] == "Deployment")
    assert (
        result.failures,
        summary,
        deployment["spec"]["replicas"],
        deployment["spec"]["template"]["spec"]["containers"],
    ) == (
        (),
        [("Service", "apps", "prod-hello"), ("Deployment", "apps", "prod-hello")],
        3,
        [{"image": "hello:1", "name": "hello"}],
    )


def test_substitution_applies_to_kustomize_output(repo_writer, options):
    overlay = OVERLAY.replace("value: 3", "value: ${values.replicas}")
    files = {
        "stacks/app/1.0.0/stack.yaml": STACK,
        "stacks/app/1.0.0/overlays/prod/kustomization.yaml": overlay,
        **BASE,
    }
    result = fleet.render(repo_writer.load(files), options=options)
    deployment = next(o for o in _objects(result, "policies") if o["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] == 3  # c1's replicas, typed


def test_remote_base_is_refused_naming_the_file_and_line(repo_writer, options):
    overlay = OVERLAY.replace(
        "resources: [../../base]", "resources:\n  - ../../base\n  - https://github.com/acme/k8s//base?ref=v1"
    )
    files = {
        "stacks/app/1.0.0/stack.yaml": STACK,
        "stacks/app/1.0.0/overlays/prod/kustomization.yaml": overlay,
        **BASE,
    }
    result = fleet.render(repo_writer.load(files), options=options)
    (failure,) = result.failures
    assert (
        "remote kustomize reference" in failure.error,
        failure.about["file"],
        failure.about["line"],
        [b.id.bundle for b in result.bundles],
    ) == (True, "stacks/app/1.0.0/overlays/prod/kustomization.yaml", 5, ["plain"])


def test_helm_chart_inflation_is_refused(repo_writer, options):
    overlay = "helmCharts:\n  - {name: x, repo: https://charts.example.test, version: 1.0.0}\n"
    files = {
        "stacks/app/1.0.0/stack.yaml": STACK,
        "stacks/app/1.0.0/overlays/prod/kustomization.yaml": overlay,
        **BASE,
    }
    (failure,) = fleet.render(repo_writer.load(files), options=options).failures
    assert "helmCharts is not supported" in failure.error


def test_kustomize_failure_names_the_repo_path_not_the_temporary_copy(repo_writer, options):
    overlay = OVERLAY.replace("resources: [../../base]", "resources: [../../base, missing.yaml]")
    files = {
        "stacks/app/1.0.0/stack.yaml": STACK,
        "stacks/app/1.0.0/overlays/prod/kustomization.yaml": overlay,
        **BASE,
    }
    (failure,) = fleet.render(repo_writer.load(files), options=options).failures
    assert (
        "kustomize build failed" in failure.error,
        "stackfleet-kustomize" in failure.error,
        failure.about["file"],
    ) == (
        True,
        False,
        "stacks/app/1.0.0/overlays/prod",
    )


def test_a_reference_leaving_the_repo_is_refused_before_kustomize_runs(repo_writer, options):
    overlay = OVERLAY.replace("resources: [../../base]", "resources:\n  - ../../../../../../etc")
    files = {
        "stacks/app/1.0.0/stack.yaml": STACK,
        "stacks/app/1.0.0/overlays/prod/kustomization.yaml": overlay,
        **BASE,
    }
    (failure,) = fleet.render(repo_writer.load(files), options=options).failures
    assert ("leaves the fleet repo" in failure.error, failure.about["line"]) == (True, 4)


def test_only_the_overlay_and_its_bases_are_read(repo_writer, options):
    files = {
        "stacks/app/1.0.0/stack.yaml": STACK,
        "stacks/app/1.0.0/overlays/prod/kustomization.yaml": OVERLAY,
        **BASE,
    }
    repo = repo_writer.load(files)
    assert kustomize.inputs(repo.tree, "stacks/app/1.0.0/overlays/prod") == [
        "stacks/app/1.0.0/base",
        "stacks/app/1.0.0/overlays/prod",
    ]


def test_a_change_outside_the_overlay_and_its_bases_does_not_build_again(repo_writer, options):
    files = {
        "stacks/app/1.0.0/stack.yaml": STACK,
        "stacks/app/1.0.0/overlays/prod/kustomization.yaml": OVERLAY,
        **BASE,
    }
    fleet.render(repo_writer.load(files), options=options)
    files["stacks/app/1.0.0/plain/cm.yaml"] += "data: {changed: 'yes'}\n"
    options.cache.stats.rendered.clear()
    fleet.render(repo_writer.load(files), options=options)
    assert options.cache.stats.rendered == ["manifests:stacks/app/1.0.0/plain"]


def test_a_build_past_its_timeout_is_stopped_and_reported(repo_writer, options):
    files = {
        "stacks/app/1.0.0/stack.yaml": STACK,
        "stacks/app/1.0.0/overlays/prod/kustomization.yaml": OVERLAY,
        **BASE,
    }
    options.kustomize_timeout = 0.001  # kubectl cannot even start in a millisecond
    result = fleet.render(repo_writer.load(files), options=options)
    (failure,) = result.failures
    assert (
        "kustomize build took longer than 0.001s" in failure.error,
        [b.id.bundle for b in result.bundles],
    ) == (
        True,
        ["plain"],
    )
