"""Semantic checks of a parsed fleet repo: what a schema cannot see.

Each check is a function from the repo to a list of problems; ``run_all`` runs every one. Checks:
stack directory names, layers, bundle names, dependsOn targets and cycles, bundle paths (present,
inside the repo, no symlinks out), the management cluster, connections, stack assignments (unknown
stacks and versions, unsatisfiable ranges, conflicting selectors) and duplicate assignment names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from reconciler.errors import Problem, SpecError, UnsafePathError
from reconciler.spec import assignments, versions
from reconciler.spec.models import Bundle, Stack, StackRef
from reconciler.spec.trees import clean_path

if TYPE_CHECKING:
    from reconciler.spec.loader import FleetRepo, Located

Check = Callable[["FleetRepo"], list[Problem]]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def run_all(repo: FleetRepo) -> list[Problem]:
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(repo))
    return [p for p in problems if not _about_broken(repo, p)]


def _about_broken(repo: FleetRepo, problem: Problem) -> bool:
    """A reference to a document that failed to parse is a consequence, not a new problem."""
    return problem.refers_to is not None and problem.refers_to in repo.broken


def _stacks(repo: FleetRepo) -> Iterator[tuple[str, str, Located[Stack]]]:
    for name, by_version in repo.stacks.items():
        for version, located in by_version.items():
            yield name, version, located


# ----------------------------------------------------------------------------- stacks


def check_stack_identity(repo: FleetRepo) -> list[Problem]:
    """``metadata.name`` and ``spec.version`` match the directories, and the version is semver."""
    out = []
    for name, version, located in _stacks(repo):
        stack = located.model
        if stack.metadata.name != name:
            out.append(
                Problem(
                    located.at("metadata", "name"),
                    f"stack name {stack.metadata.name!r} does not match its directory stacks/{name}/",
                    rule="stack-identity",
                )
            )
        if stack.spec.version != version:
            out.append(
                Problem(
                    located.at("spec", "version"),
                    f"version {stack.spec.version!r} does not match its directory {version}/",
                    rule="stack-identity",
                )
            )
        try:
            versions.parse_version(version)
        except versions.VersionSyntaxError as exc:
            out.append(Problem(located.at("spec", "version"), str(exc), rule="version-syntax"))
    return out


def check_bundle_names_and_layers(repo: FleetRepo) -> list[Problem]:
    layers = repo.fleet.model.spec.layers
    out = []
    for _, _, located in _stacks(repo):
        seen: dict[str, int] = {}
        for i, bundle in enumerate(located.model.spec.bundles):
            if bundle.name in seen:
                out.append(
                    Problem(
                        located.at("spec", "bundles", i, "name"),
                        f"duplicate bundle name {bundle.name!r} (also bundle #{seen[bundle.name] + 1})",
                        rule="duplicate",
                    )
                )
            seen.setdefault(bundle.name, i)
            if bundle.layer not in layers:
                out.append(
                    Problem(
                        located.at("spec", "bundles", i, "layer"),
                        f"unknown layer {bundle.layer!r} (layers: {', '.join(layers)})",
                        rule="unknown-layer",
                    )
                )
            if bundle.target == "management" and repo.fleet.model.spec.management_cluster is None:
                out.append(
                    Problem(
                        located.at("spec", "bundles", i, "target"),
                        "target: management needs fleet.yaml spec.managementCluster",
                        rule="management-cluster",
                    )
                )
    return out


def check_dependencies(repo: FleetRepo) -> list[Problem]:
    """dependsOn names bundles of the same stack, not of a later layer, and has no cycles."""
    out = []
    layers = repo.fleet.model.spec.layers
    for _, _, located in _stacks(repo):
        bundles = {b.name: b for b in located.model.spec.bundles}
        for i, bundle in enumerate(located.model.spec.bundles):
            for j, dep in enumerate(bundle.depends_on):
                where = located.at("spec", "bundles", i, "dependsOn", j)
                if dep not in bundles:
                    out.append(
                        Problem(where, f"dependsOn names unknown bundle {dep!r}", rule="unknown-bundle")
                    )
                elif _layer_index(layers, bundles[dep]) > _layer_index(layers, bundle):
                    out.append(
                        Problem(
                            where,
                            f"bundle {bundle.name!r} (layer {bundle.layer}) cannot depend on {dep!r} "
                            f"of the later layer {bundles[dep].layer}",
                            rule="layer-order",
                        )
                    )
        out.extend(_cycles(located, bundles))
    return out


def _layer_index(layers: list[str], bundle: Bundle) -> int:
    return layers.index(bundle.layer) if bundle.layer in layers else -1


def _cycles(located: Located[Stack], bundles: dict[str, Bundle]) -> list[Problem]:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    found: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in bundles[name].depends_on:
            if dep not in bundles:
                continue
            if state.get(dep) == 1:
                found.append([*path[path.index(dep) :], dep] if dep in path else [name, dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in bundles:
        if name not in state:
            visit(name, [name])
    index = {b.name: i for i, b in enumerate(located.model.spec.bundles)}
    return [
        Problem(
            located.at("spec", "bundles", index[cycle[0]], "dependsOn"),
            f"dependency cycle: {' -> '.join(cycle)}",
            rule="cycle",
        )
        for cycle in found
    ]


def check_bundle_paths(repo: FleetRepo) -> list[Problem]:
    """Every path a bundle names stays in the repo and exists (manifests, kustomization, chart, values files)."""
    out = []
    for name, version, located in _stacks(repo):
        base = repo.stack_dir(name, version)
        for i, bundle in enumerate(located.model.spec.bundles):
            for field_path, rel, expect in _bundle_paths(bundle):
                where = located.at("spec", "bundles", i, *field_path)
                problem = _path_problem(repo, base=base, rel=rel, expect=expect)
                if problem:
                    out.append(Problem(where, problem, rule="path"))
    return out


def _bundle_paths(bundle: Bundle) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    if bundle.manifests is not None:
        yield ("manifests", "path"), bundle.manifests.path, "dir"
    if bundle.kustomize is not None:
        yield ("kustomize", "path"), bundle.kustomize.path, "kustomization"
    if bundle.helm is not None:
        if bundle.helm.is_local:
            yield ("helm", "chart"), bundle.helm.chart, "chart"
        for k, values_file in enumerate(bundle.helm.values_files):
            yield ("helm", "valuesFiles", k), values_file, "file"


def _path_problem(repo: FleetRepo, *, base: str, rel: str, expect: str) -> str | None:
    tree = repo.tree
    try:
        path = clean_path(rel, base=base)
        if expect == "dir":
            return None if tree.is_dir(path) else f"directory {path!r} does not exist"
        if expect == "file":
            return None if tree.is_file(path) else f"file {path!r} does not exist"
        if expect == "kustomization":
            if not tree.is_dir(path):
                return f"directory {path!r} does not exist"
            if not any(tree.is_file(f"{path}/{f}") for f in KUSTOMIZATION_FILES):
                return f"directory {path!r} has no kustomization.yaml"
            return None
        if path.endswith(".tgz"):
            return None if tree.is_file(path) else f"chart archive {path!r} does not exist"
        if not tree.is_file(f"{path}/Chart.yaml"):
            return f"chart {path!r} not found (no {path}/Chart.yaml)"
        return None
    except UnsafePathError as exc:
        return exc.message
    except SpecError as exc:
        return exc.message


# ----------------------------------------------------------------------------- clusters and fleet


def check_management_cluster(repo: FleetRepo) -> list[Problem]:
    mgmt = repo.fleet.model.spec.management_cluster
    if mgmt is None or mgmt in repo.clusters:
        return []
    where = repo.fleet.at("spec", "managementCluster")
    return [
        Problem(
            where,
            f"management cluster {mgmt!r} is not a Cluster of this repo",
            rule="unknown-cluster",
            refers_to=("Cluster", mgmt),
        )
    ]


def check_connections(repo: FleetRepo) -> list[Problem]:
    out = []
    for name, located in repo.clusters.items():
        secret = located.model.spec.connection.kubeconfig_secret
        if secret is None:
            continue
        where = located.at("spec", "connection", "kubeconfigSecret", "cluster")
        if secret.cluster not in repo.clusters:
            out.append(
                Problem(
                    where,
                    f"kubeconfigSecret names unknown cluster {secret.cluster!r}",
                    rule="unknown-cluster",
                    refers_to=("Cluster", secret.cluster),
                )
            )
        elif secret.cluster == name:
            out.append(
                Problem(where, "a cluster cannot read its own kubeconfig from itself", rule="connection")
            )
    return out


def check_assignment_names(repo: FleetRepo) -> list[Problem]:
    out = []
    seen: set[str] = set()
    for i, assignment in enumerate(repo.fleet.model.spec.assignments):
        if assignment.name in seen:
            out.append(
                Problem(
                    repo.fleet.at("spec", "assignments", i, "name"),
                    f"duplicate assignment name {assignment.name!r}",
                    rule="duplicate",
                )
            )
        seen.add(assignment.name)
    return out


def check_assignment_refs(repo: FleetRepo) -> list[Problem]:
    """Selector assignments name existing stacks and satisfiable versions, even if they match no cluster."""
    out = []
    for i, assignment in enumerate(repo.fleet.model.spec.assignments):
        for j, ref in enumerate(assignment.stacks):
            problem = _ref_problem(repo, ref)
            if problem:
                rule, message = problem
                field = "name" if rule == "unknown-stack" else "version"
                where = repo.fleet.at("spec", "assignments", i, "stacks", j, field)
                out.append(Problem(where, message, rule=rule, refers_to=("Stack", ref.name)))
    return out


def _ref_problem(repo: FleetRepo, ref: StackRef) -> tuple[str, str] | None:
    available = repo.versions(ref.name)
    if not available:
        return "unknown-stack", f"unknown stack {ref.name!r}"
    try:
        if versions.resolve(ref.version, available) is None:
            return "unknown-version", (
                f"no version of stack {ref.name!r} satisfies {ref.version!r} (available: {', '.join(available)})"
            )
    except versions.VersionSyntaxError as exc:
        return "version-syntax", str(exc)
    return None


def check_cluster_assignments(repo: FleetRepo) -> list[Problem]:
    return assignments.resolve(repo)[1]


CHECKS: tuple[Check, ...] = (
    check_stack_identity,
    check_bundle_names_and_layers,
    check_dependencies,
    check_bundle_paths,
    check_management_cluster,
    check_connections,
    check_assignment_names,
    check_assignment_refs,
    check_cluster_assignments,
)
