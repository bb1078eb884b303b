"""The fleet render pipeline: namespaces, marks, patches, duplicates, failure isolation, order, cache."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path

from reconciler.core.objects import read_owner
from reconciler.render import cache, fleet
from reconciler.source import opening
from reconciler.spec import loader

ROOT = Path(__file__).resolve().parents[2]

MANIFESTS = {
    "stacks/app/1.0.0/m/a.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {replicas: "${values.replicas}", cluster: "${cluster.name}"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec: {replicas: "${values.replicas}"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader, namespace: should-go}
""",
    "stacks/app/1.0.0/m/crd.json": json.dumps(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.acme.dev"},
            "spec": {
                "group": "acme.dev",
                "scope": "Cluster",
                "names": {"kind": "Widget", "plural": "widgets"},
            },
        }
    ),
    "stacks/app/1.0.0/m/sub/list.yaml": """\
apiVersion: v1
kind: List
items:
  - {apiVersion: acme.dev/v1, kind: Widget, metadata: {name: w1}}
  - {apiVersion: acme.dev/v1, kind: Gadget, metadata: {name: g1}}
""",
    "stacks/app/1.0.0/m/README.md": "not a manifest",
    "stacks/app/1.0.0/other/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n",
}


def stack(bundles: str) -> str:
    return f"""\
apiVersion: stackfleet.dev/v1alpha1
kind: Stack
metadata: {{name: app}}
spec:
  version: 1.0.0
  bundles:
{bundles}"""


ONE = stack("    - {name: main, layer: addons, namespace: team, manifests: {path: m}}\n")


def _names(result: fleet.FleetRender) -> list[tuple[str, str, str, str]]:
    return [
        (b.dest, b.id.bundle, o["kind"], o["metadata"].get("namespace", "-") + "/" + o["metadata"]["name"])
        for b in result.bundles
        for o in b.objects
    ]


def test_objects_get_namespaces_marks_and_a_stable_order(repo_writer, options):
    result = fleet.render(
        repo_writer.load({"stacks/app/1.0.0/stack.yaml": ONE, **MANIFESTS}), options=options
    )
    assert _names(result) == [
        ("c1", "main", "CustomResourceDefinition", "-/widgets.acme.dev"),
        ("c1", "main", "ClusterRole", "-/reader"),
        ("c1", "main", "ConfigMap", "team/settings"),
        ("c1", "main", "Deployment", "team/web"),
        ("c1", "main", "Widget", "-/w1"),  # custom kinds last; cluster-scoped ("" namespace) first
        ("c1", "main", "Gadget", "team/g1"),
    ]


def test_every_object_names_itself_as_ours(repo_writer, options):
    result = fleet.render(
        repo_writer.load({"stacks/app/1.0.0/stack.yaml": ONE, **MANIFESTS}), options=options
    )
    owners = {str(read_owner(o)) for b in result.bundles for o in b.objects}
    annotations = {k for b in result.bundles for o in b.objects for k in o["metadata"]["annotations"]}
    versions = {b.version for b in result.bundles}
    assert (owners, annotations, versions) == (
        {"Owner(fleet='acme', stack='app', bundle='main')"}, {"stackfleet.dev/owner"}, {"1.0.0"})


def test_values_are_substituted_with_their_types(repo_writer, options):
    result = fleet.render(
        repo_writer.load({"stacks/app/1.0.0/stack.yaml": ONE, **MANIFESTS}), options=options
    )
    objs = {o["kind"]: o for o in result.bundles[0].objects}
    assert (objs["ConfigMap"]["data"], objs["Deployment"]["spec"]["replicas"]) == (
        {"replicas": 3, "cluster": "c1"},
        3,
    )


def test_undefined_variable_fails_its_bundle_naming_file_and_line_others_render(repo_writer, options):
    bundles = "    - {name: main, layer: addons, manifests: {path: m}}\n    - {name: other, layer: addons, manifests: {path: other}}\n"
    files = {**MANIFESTS, "stacks/app/1.0.0/stack.yaml": stack(bundles)}
    files["stacks/app/1.0.0/m/a.yaml"] = files["stacks/app/1.0.0/m/a.yaml"].replace(
        "${cluster.name}", "${values.clusterName}"
    )
    result = fleet.render(repo_writer.load(files), options=options)
    (failure,) = result.failures
    assert (
        failure.error,
        failure.about,
        [b.id.bundle for b in result.bundles],
    ) == (
        "bundle app@1.0.0/main for cluster c1: undefined variable ${values.clusterName} "
        "[file=stacks/app/1.0.0/m/a.yaml, line=4, field=data.cluster]",
        {
            "stack": "app",
            "version": "1.0.0",
            "bundle": "main",
            "file": "stacks/app/1.0.0/m/a.yaml",
            "line": 4,
            "field": "data.cluster",
        },
        ["other"],
    )


def test_bad_manifest_names_file_and_line(repo_writer, options):
    files = {
        "stacks/app/1.0.0/stack.yaml": ONE,
        "stacks/app/1.0.0/m/x.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n",
    }
    (failure,) = fleet.render(repo_writer.load(files), options=options).failures
    assert (failure.about["file"], failure.about["line"], "object has no kind" in failure.error) == (
        "stacks/app/1.0.0/m/x.yaml",
        5,
        True,
    )


def test_duplicate_objects_in_one_cluster_fail_the_later_bundle_naming_both(repo_writer, options):
    bundles = "    - {name: first, layer: addons, manifests: {path: other}}\n    - {name: second, layer: addons, manifests: {path: again}}\n"
    files = {
        "stacks/app/1.0.0/stack.yaml": stack(bundles),
        "stacks/app/1.0.0/other/cm.yaml": MANIFESTS["stacks/app/1.0.0/other/cm.yaml"],
        "stacks/app/1.0.0/again/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: default}\n",
    }
    result = fleet.render(repo_writer.load(files), options=options)
    (failure,) = result.failures
    assert (failure.id.bundle, failure.error, [b.id.bundle for b in result.bundles]) == (
        "second",
        "bundle app@1.0.0/second for cluster c1: ConfigMap/default/other in cluster c1 is rendered by bundle "
        "c1/app/first (stacks/app/1.0.0/other/cm.yaml) and by bundle c1/app/second "
        "(stacks/app/1.0.0/again/cm.yaml) [file=stacks/app/1.0.0/again/cm.yaml]",
        ["first"],
    )


def test_same_object_on_different_clusters_is_not_a_duplicate(repo_writer, options):
    c2 = "apiVersion: stackfleet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c2}\nspec:\n  connection: {context: c2}\n  stacks: [{name: app, version: 1.0.0}]\n"
    files = {"stacks/app/1.0.0/stack.yaml": ONE, "clusters/c2.yaml": c2, **MANIFESTS}
    files["stacks/app/1.0.0/m/a.yaml"] = files["stacks/app/1.0.0/m/a.yaml"].replace("${values.replicas}", "2")
    result = fleet.render(repo_writer.load(files), options=options)
    assert (result.failures, [b.dest for b in result.bundles]) == ((), ["c1", "c2"])


PATCHED = stack(
    """\
    - name: main
      layer: addons
      namespace: team
      manifests: {path: m}
      patches:
        - target: {kind: Deployment, labelSelector: {matchLabels: {app: web}}}
          jsonPatch: [{op: add, path: /spec/paused, value: true}]
        - target: {group: "", version: v1, kind: ConfigMap, namespace: team}
          mergePatch: {data: {cluster: null, added: "yes"}}
"""
)


def test_json_and_merge_patches_apply_to_their_targets(repo_writer, options):
    result = fleet.render(
        repo_writer.load({"stacks/app/1.0.0/stack.yaml": PATCHED, **MANIFESTS}), options=options
    )
    objs = {o["kind"]: o for o in result.bundles[0].objects}
    assert (objs["Deployment"]["spec"], objs["ConfigMap"]["data"]) == (
        {"replicas": 3, "paused": True},
        {"replicas": 3, "added": "yes"},
    )


def test_patch_matching_nothing_names_the_patch_line(repo_writer, options):
    files = {"stacks/app/1.0.0/stack.yaml": PATCHED.replace("app: web", "app: nope"), **MANIFESTS}
    (failure,) = fleet.render(repo_writer.load(files), options=options).failures
    assert ("patch 0 matches no object" in failure.error, failure.about["file"], failure.about["line"]) == (
        True,
        "stacks/app/1.0.0/stack.yaml",
        12,
    )


def test_json_patch_that_does_not_apply_is_an_error(repo_writer, options):
    files = {
        "stacks/app/1.0.0/stack.yaml": PATCHED.replace(
            "op: add, path: /spec/paused", "op: replace, path: /spec/missing"
        ),
        **MANIFESTS,
    }
    (failure,) = fleet.render(repo_writer.load(files), options=options).failures
    assert "JSON patch does not apply to Deployment/web" in failure.error


def test_unchanged_bundles_are_not_rendered_again_after_a_commit(repo_writer, options):
    bundles = "    - {name: main, layer: addons, namespace: team, manifests: {path: m}}\n    - {name: other, layer: addons, manifests: {path: other}}\n"
    files = {"stacks/app/1.0.0/stack.yaml": stack(bundles), **MANIFESTS}
    first = fleet.render(repo_writer.load(files), options=options)
    options.cache.stats.rendered.clear()
    files["stacks/app/1.0.0/other/cm.yaml"] += "data: {changed: 'yes'}\n"
    second = fleet.render(repo_writer.load(files), options=options)
    changed = [
        b.id.bundle
        for b, a in zip(second.bundles, first.bundles, strict=True)
        if b.content_hash != a.content_hash
    ]
    assert (options.cache.stats.rendered, changed) == (["manifests:stacks/app/1.0.0/other"], ["other"])


def test_disk_cache_serves_a_new_process_without_rendering(repo_writer, options, tmp_path):
    files = {
        "stacks/app/1.0.0/stack.yaml": stack("    - {name: k, layer: addons, kustomize: {path: k}}\n"),
        "stacks/app/1.0.0/k/kustomization.yaml": "namePrefix: x-\nresources: [cm.yaml]\n",
        "stacks/app/1.0.0/k/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    }
    repo = repo_writer.load(files)
    warm = dataclasses.replace(options, cache=cache.Cache(directory=tmp_path / "cache"))
    first = fleet.render(repo, options=warm)
    restarted = dataclasses.replace(options, cache=cache.Cache(directory=tmp_path / "cache"))
    second = fleet.render(repo, options=restarted)
    assert (
        restarted.cache.stats.misses,
        second.bundles == first.bundles,
        first.bundles[0].objects[0]["metadata"]["name"],
    ) == (
        0,
        True,
        "x-c",
    )


def test_only_selected_clusters_and_bundles_are_returned(repo_writer, options):
    bundles = "    - {name: main, layer: addons, namespace: team, manifests: {path: m}}\n    - {name: cm, layer: cluster, target: management, manifests: {path: other}}\n"
    repo = repo_writer.load({"stacks/app/1.0.0/stack.yaml": stack(bundles), **MANIFESTS})
    by_cluster = fleet.render(repo, options=options, clusters=["mgmt"])
    by_bundle = fleet.render(repo, options=options, bundles=["app/main"])
    assert (
        [(b.dest, b.id.bundle) for b in by_cluster.bundles],
        [(b.dest, b.id.bundle) for b in by_bundle.bundles],
    ) == (
        [("mgmt", "cm")],
        [("c1", "main")],
    )


def test_rendering_twice_gives_equal_bundles_and_hashes(repo_writer, options):
    repo = repo_writer.load({"stacks/app/1.0.0/stack.yaml": ONE, **MANIFESTS})
    cold = fleet.render(repo, options=dataclasses.replace(options, cache=cache.Cache()))
    warm = fleet.render(repo, options=options)
    again = fleet.render(repo, options=options)
    assert (
        cold.bundles == warm.bundles == again.bundles,
        cold.bundles[0].content_hash.startswith("sha256:"),
    ) == (True, True)


def test_a_crd_in_another_bundle_of_the_destination_makes_its_kind_cluster_scoped(repo_writer, options):
    bundles = (
        "    - {name: crds, layer: infra, manifests: {path: crds}}\n"
        "    - {name: users, layer: addons, namespace: team, manifests: {path: users}}\n"
    )
    files = {
        "stacks/app/1.0.0/stack.yaml": stack(bundles),
        "stacks/app/1.0.0/crds/crd.json": MANIFESTS["stacks/app/1.0.0/m/crd.json"],
        "stacks/app/1.0.0/users/w.yaml": "apiVersion: acme.dev/v1\nkind: Widget\nmetadata: {name: w}\n---\n"
        "apiVersion: acme.dev/v1\nkind: Gadget\nmetadata: {name: g}\n",
    }
    result = fleet.render(repo_writer.load(files), options=options)
    assert _names(result) == [
        ("c1", "crds", "CustomResourceDefinition", "-/widgets.acme.dev"),
        ("c1", "users", "Widget", "-/w"),
        ("c1", "users", "Gadget", "team/g"),
    ]


def _git(work, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.test",
        "GIT_COMMITTER_NAME": "T",
    }
    env |= {
        "GIT_COMMITTER_EMAIL": "t@example.test",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)


def test_after_a_commit_only_the_touched_bundle_renders_again(tmp_path, options, monkeypatch):
    work = tmp_path / "work"
    shutil.copytree(ROOT / "fleet", work)
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "fleet")
    monkeypatch.setenv("STACKFLEET_CACHE_DIR", str(tmp_path / "mirrors"))
    fleet.render(loader.load(opening.open_tree(f"{work}@main")), options=options)
    options.cache.stats.rendered.clear()
    apps = work / "stacks/platform/1.4.0/apps/apps.yaml"
    apps.write_text(apps.read_text() + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: added}\n")
    _git(work, "commit", "-q", "-am", "one more object in platform 1.4.0 app-config")
    result = fleet.render(loader.load(opening.open_tree(f"{work}@main")), options=options)
    added = sorted(b.dest for b in result.bundles for o in b.objects if o["metadata"]["name"] == "added")
    assert (options.cache.stats.rendered, added) == (
        ["manifests:stacks/platform/1.4.0/apps"],
        ["prod-eu-1", "prod-eu-2", "prod-us-1", "stage-eu-1"],
    )
