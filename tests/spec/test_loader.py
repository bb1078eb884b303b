"""The loader: one case per validation rule, each checking the rule, the file and the line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.errors import ValidationFailed
from reconciler.source.dirtree import DirTree
from reconciler.spec import loader
from reconciler.spec.yamldocs import Limits

STACK = "stacks/web/1.0.0/stack.yaml"
BASE_REPO = Path(__file__).parent / "data" / "base-repo"


@dataclass(frozen=True)
class Case:
    name: str
    changes: dict[str, str | bytes | None]
    rule: str
    file: str
    line: int | None
    says: str


def replace(file: str, old: str, new: str) -> dict[str, str]:
    text = (BASE_REPO / file).read_text()
    assert old in text, old
    return {file: text.replace(old, new)}


CASES = [
    Case("unknown stack", replace("clusters/dev-1.yaml", "spec:\n", "spec:\n  stacks: [{name: nope, version: 1.0.0}]\n"),
         "unknown-stack", "clusters/dev-1.yaml", 5, "unknown stack 'nope'"),
    Case("unknown exact version", replace("fleet.yaml", '"^1.0.0"', "1.2.0"),
         "unknown-version", "fleet.yaml", 9, "no version of stack 'web' satisfies '1.2.0'"),
    Case("unsatisfiable range", replace("fleet.yaml", '"^1.0.0"', '">=2.0.0 <3"'),
         "unknown-version", "fleet.yaml", 9, "satisfies '>=2.0.0 <3'"),
    Case("range syntax", replace("fleet.yaml", '"^1.0.0"', '"~~1"'),
         "version-syntax", "fleet.yaml", 9, "not a version or semver range"),
    Case("stack version not semver", {"stacks/web/1.0/stack.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Stack\nmetadata: {name: web}\nspec:\n  version: '1.0'\n  bundles: [{name: a, layer: infra, manifests: {path: m}}]\n", "stacks/web/1.0/m/x.yaml": "{}\n"},
         "version-syntax", "stacks/web/1.0/stack.yaml", 5, "not a semantic version"),
    Case("dependency cycle", replace(STACK, "layer: infra\n", "layer: infra\n      dependsOn: [app]\n"),
         "cycle", STACK, 9, "dependency cycle: config -> app -> config"),
    Case("dependsOn unknown bundle", replace(STACK, "dependsOn: [config]", "dependsOn: [confg]"),
         "unknown-bundle", STACK, 12, "unknown bundle 'confg'"),
    Case("dependsOn a later layer", replace(STACK, "layer: infra\n", "layer: infra\n      dependsOn: [policies]\n"),
         "layer-order", STACK, 9, "cannot depend on 'policies' of the later layer addons"),
    Case("duplicate cluster", {"clusters/dev-1-copy.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Cluster\nmetadata: {name: dev-1}\nspec: {connection: {context: x}}\n"},
         "duplicate", "clusters/dev-1.yaml", 3, "duplicate cluster name 'dev-1'"),
    Case("duplicate bundle", replace(STACK, "- name: policies", "- name: app"),
         "duplicate", STACK, 14, "duplicate bundle name 'app'"),
    Case("duplicate assignment", replace("fleet.yaml", "stacks: [{name: web, version: \"^1.0.0\"}]\n",
         "stacks: [{name: web, version: \"^1.0.0\"}]\n    - name: web-all\n      selector: {}\n      stacks: [{name: web, version: \"^1.0.0\"}]\n"),
         "duplicate", "fleet.yaml", 10, "duplicate assignment name 'web-all'"),
    Case("selectors conflict", replace("fleet.yaml", "stacks: [{name: web, version: \"^1.0.0\"}]\n",
         "stacks: [{name: web, version: \"^1.0.0\"}]\n    - name: web-pinned\n      selector: {matchLabels: {env: dev}}\n      stacks: [{name: web, version: 1.0.0}]\n"),
         "selector-conflict", "fleet.yaml", 12, "assignment/web-all assigns stack web@^1.0.0 and assignment/web-pinned"),
    Case("missing manifests directory", replace(STACK, "path: manifests", "path: manifestz"),
         "path", STACK, 9, "directory 'stacks/web/1.0.0/manifestz' does not exist"),
    Case("missing chart", {"stacks/web/1.0.0/charts/app/Chart.yaml": None},
         "path", STACK, 13, "chart 'stacks/web/1.0.0/charts/app' not found"),
    Case("missing values file", {"stacks/web/1.0.0/values/dev.yaml": None},
         "path", STACK, 13, "file 'stacks/web/1.0.0/values/dev.yaml' does not exist"),
    Case("kustomize dir without kustomization", {"stacks/web/1.0.0/policies/kustomization.yaml": None, "stacks/web/1.0.0/policies/x.yaml": "{}\n"},
         "path", STACK, 16, "has no kustomization.yaml"),
    Case("path with ..", replace(STACK, "path: manifests", "path: ../../../clusters"),
         "path", STACK, 9, "must not contain '..'"),
    Case("absolute path", replace(STACK, "path: manifests", "path: /etc"),
         "path", STACK, 9, "must be relative"),
    Case("chart path escaping the repo", replace(STACK, "chart: charts/app", "chart: ../../../../outside"),
         "path", STACK, 13, "must not contain '..'"),
    Case("misspelled field", replace(STACK, "dependsOn: [config]", "dependOn: [config]"),
         "schema", STACK, 12, "unknown field 'dependOn'"),
    Case("malformed health expression", replace("fleet.yaml", "  managementCluster: mgmt\n",
         "  managementCluster: mgmt\n  health:\n    - kind: Database\n      healthy: \"status.phase = 'Ready'\"\n"),
         "schema", "fleet.yaml", 8, "at column 14: cannot read"),
    Case("missing required field", replace("clusters/mgmt.yaml", "  connection: {context: mgmt}\n", "  paused: true\n"),
         "schema", "clusters/mgmt.yaml", 4, "missing required field 'connection'"),
    Case("wrong apiVersion", replace("clusters/mgmt.yaml", "stackfleet.dev/v1alpha1", "stackfleet.dev/v1"),
         "schema", "clusters/mgmt.yaml", 1, "apiVersion must be"),
    Case("wrong kind in clusters/", replace("clusters/mgmt.yaml", "kind: Cluster", "kind: Stack"),
         "schema", "clusters/mgmt.yaml", 2, "expected kind 'Cluster'"),
    Case("invalid duration", replace(STACK, "layer: infra\n", "layer: infra\n      healthTimeout: 5 minutes\n"),
         "schema", STACK, 9, "should match pattern"),
    Case("invalid selector operator", replace("fleet.yaml", "selector: {matchLabels: {env: dev}}", "selector: {matchExpressions: [{key: env, operator: Equals}]}"),
         "schema", "fleet.yaml", 8, "Input should be 'In', 'NotIn', 'Exists' or 'DoesNotExist'"),
    Case("selector values with Exists", replace("fleet.yaml", "selector: {matchLabels: {env: dev}}", "selector: {matchExpressions: [{key: env, operator: Exists, values: [x]}]}"),
         "schema", "fleet.yaml", 8, "operator Exists takes no values"),
    Case("bundle with two sources", replace(STACK, "manifests: {path: manifests}", "manifests: {path: manifests}\n      kustomize: {path: policies}"),
         "schema", STACK, 7, "needs exactly one of manifests, kustomize or helm"),
    Case("stack directory mismatch", replace(STACK, "metadata: {name: web}", "metadata: {name: webb}"),
         "stack-identity", STACK, 3, "does not match its directory stacks/web/"),
    Case("unknown layer", replace(STACK, "layer: infra", "layer: platform"),
         "unknown-layer", STACK, 8, "unknown layer 'platform'"),
    Case("management target without a management cluster", {**replace("fleet.yaml", "  managementCluster: mgmt\n", ""), **replace(STACK, "layer: infra\n", "layer: infra\n      target: management\n")},
         "management-cluster", STACK, 9, "needs fleet.yaml spec.managementCluster"),
    Case("unknown management cluster", replace("fleet.yaml", "managementCluster: mgmt", "managementCluster: hub"),
         "unknown-cluster", "fleet.yaml", 5, "management cluster 'hub'"),
    Case("kubeconfig secret on an unknown cluster", replace("clusters/dev-1.yaml", "cluster: mgmt", "cluster: hub"),
         "unknown-cluster", "clusters/dev-1.yaml", 6, "unknown cluster 'hub'"),
    Case("duplicate YAML key", replace("clusters/mgmt.yaml", "metadata: {name: mgmt, labels: {role: management}}", "metadata: {name: mgmt, name: other}"),
         "yaml", "clusters/mgmt.yaml", 3, "duplicate key 'name'"),
    Case("malformed YAML", {"clusters/mgmt.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: [Cluster\n"},
         "yaml", "clusters/mgmt.yaml", 3, "malformed YAML"),
    Case("not UTF-8", {"clusters/bad.yaml": b"apiVersion: x\n\xff\xfekind: Cluster\n"},
         "yaml", "clusters/bad.yaml", 2, "not valid UTF-8"),
    Case("alias bomb", {"clusters/bomb.yaml": "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
         f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True))},
         "yaml", "clusters/bomb.yaml", 6, "alias bomb"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_rule_names_file_line_and_reason(write_repo, case: Case) -> None:
    root = write_repo(case.changes)
    with pytest.raises(ValidationFailed) as failed:
        loader.load(DirTree(root))
    found = [p for p in failed.value.problems if p.rule == case.rule and case.says in p.message]
    assert found, f"no {case.rule} problem saying {case.says!r} in:\n{failed.value}"
    assert (found[0].location.file, found[0].location.line) == (case.file, case.line)


def test_the_base_repo_is_valid(write_repo) -> None:
    repo = loader.load(DirTree(write_repo()))
    assert repo.summary() == "2 clusters, 1 stacks (1 versions), 3 bundles, 1 assignments"


def test_all_problems_of_a_repo_are_reported_at_once(write_repo) -> None:
    changes = {
        **replace("fleet.yaml", '"^1.0.0"', "3.0.0"),
        **replace("clusters/mgmt.yaml", "connection", "conection"),
        "clusters/bad.yaml": "a: 1\na: 2\n",
    }
    with pytest.raises(ValidationFailed) as failed:
        loader.load(DirTree(write_repo(changes)))
    rules = sorted(p.rule for p in failed.value.problems)
    assert rules == ["schema", "schema", "unknown-version", "yaml"]  # nothing about mgmt being unknown


def test_symlink_out_of_the_repo_is_refused_and_not_read(write_repo, tmp_path: Path) -> None:
    secret = tmp_path / "outside.yaml"
    secret.write_text("canary-secret-value\n")
    root = write_repo()
    os.symlink(secret, root / "clusters" / "leak.yaml")
    with pytest.raises(ValidationFailed) as failed:
        loader.load(DirTree(root))
    assert [p.rule for p in failed.value.problems] == ["unsafe-path"]
    assert "symlink leads outside the fleet repo" in str(failed.value)
    assert "canary-secret-value" not in str(failed.value)


def test_symlink_loop_is_refused(write_repo) -> None:
    root = write_repo()
    os.symlink("loop-b.yaml", root / "clusters" / "loop-a.yaml")
    os.symlink("loop-a.yaml", root / "clusters" / "loop-b.yaml")
    with pytest.raises(ValidationFailed) as failed:
        loader.load(DirTree(root))
    assert {p.rule for p in failed.value.problems} == {"unsafe-path"}


def test_oversized_file_is_refused_before_reading(write_repo) -> None:
    root = write_repo({"clusters/huge.yaml": "# " + "x" * 2000 + "\n"})
    with pytest.raises(ValidationFailed) as failed:
        loader.load(DirTree(root, max_file_bytes=1000))
    problem = failed.value.problems[0]
    assert (problem.rule, problem.location.file) == ("limits", "clusters/huge.yaml")
    assert "over the limit of 1000" in problem.message


def test_too_many_documents_are_refused() -> None:
    from reconciler.errors import YamlError
    from reconciler.spec import yamldocs

    with pytest.raises(YamlError, match="more than 100 documents"):
        yamldocs.load_documents(b"---\na: 1\n" * 1000, file="many.yaml", limits=Limits(max_documents=100))


def test_explicit_cluster_entry_beats_a_selector(write_repo) -> None:
    from reconciler.spec import assignments

    changes = {
        **replace("clusters/dev-1.yaml", "spec:\n", "spec:\n  stacks: [{name: web, version: 1.1.0}]\n"),
        "stacks/web/1.1.0/stack.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Stack\nmetadata: {name: web}\n"
        "spec:\n  version: 1.1.0\n  bundles: [{name: a, layer: infra, manifests: {path: m}}]\n",
        "stacks/web/1.1.0/m/x.yaml": "{}\n",
        **replace("fleet.yaml", '"^1.0.0"', "1.0.0"),
    }
    repo = loader.load(DirTree(write_repo(changes)))
    resolved, problems = assignments.resolve(repo)
    assert problems == []
    assert [(a.stack, a.version, a.source) for a in resolved["dev-1"]] == [("web", "1.1.0", "cluster")]


def test_a_range_resolves_to_the_highest_version_present(write_repo) -> None:
    from reconciler.spec import assignments

    extra = {
        f"stacks/web/{v}/stack.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Stack\nmetadata: {name: web}\n"
        f"spec:\n  version: {v}\n  bundles: [{{name: a, layer: infra, manifests: {{path: m}}}}]\n"
        for v in ("1.2.0", "1.10.1", "2.0.0")
    }
    extra |= {f"stacks/web/{v}/m/x.yaml": "{}\n" for v in ("1.2.0", "1.10.1", "2.0.0")}
    repo = loader.load(DirTree(write_repo(extra)))
    resolved, _ = assignments.resolve(repo)
    assert [(a.version, a.constraint, a.source) for a in resolved["dev-1"]] == [("1.10.1", "^1.0.0", "assignment/web-all")]
