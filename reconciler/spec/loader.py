"""Read a fleet repo from a ``FileTree`` (a directory or a Git commit) into one validated ``FleetRepo``.

Loading never stops at the first problem: every document is parsed and checked, and all problems
come back together in ``ValidationFailed``, each with file, line and field path.

Layout::

    fleet.yaml                              kind: Fleet (optional)
    clusters/*.yaml                         kind: Cluster (one or more documents per file)
    stacks/<stack>/<version>/stack.yaml     kind: Stack
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from reconciler.errors import Location, Problem, SpecError, UnsafePathError, ValidationFailed, YamlError
from reconciler.spec import checks, yamldocs
from reconciler.spec.models import API_VERSION, DEFAULT_FLEET, KINDS, Cluster, Fleet, Model, Stack
from reconciler.spec.trees import FileTree
from reconciler.spec.versions import is_version, sort_versions

FLEET_FILES = ("fleet.yaml", "fleet.yml")
CLUSTERS_DIR = "clusters"
STACKS_DIR = "stacks"
STACK_FILE = "stack.yaml"

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Located(Generic[M]):
    """A parsed document and where it came from."""

    model: M
    file: str
    lines: yamldocs.LineIndex

    def at(self, *path: str | int, field: str | None = None) -> Location:
        """The location of ``path`` inside this document."""
        return Location(self.file, self.lines.line_of(path), field or ".".join(str(p) for p in path) or None)


@dataclass(frozen=True)
class FleetRepo:
    """A validated fleet repo at one revision. Treat it as immutable."""

    revision: str
    fleet: Located[Fleet]
    clusters: Mapping[str, Located[Cluster]]
    stacks: Mapping[str, Mapping[str, Located[Stack]]]
    """Stack name -> version -> stack."""
    tree: FileTree = field(repr=False, compare=False)
    broken: frozenset[tuple[str, str]] = frozenset()
    """(kind, name) of documents that failed to parse: references to them are not reported again."""

    @property
    def name(self) -> str:
        return self.fleet.model.metadata.name

    def stack(self, name: str, version: str) -> Stack:
        return self.stacks[name][version].model

    def versions(self, name: str) -> list[str]:
        """Valid semver versions of stack ``name`` present in the repo, ascending (others are reported by checks)."""
        return sort_versions(v for v in self.stacks.get(name, {}) if is_version(v))

    @staticmethod
    def stack_dir(name: str, version: str) -> str:
        return f"{STACKS_DIR}/{name}/{version}"

    def summary(self) -> str:
        bundles = sum(
            len(s.model.spec.bundles) for versions in self.stacks.values() for s in versions.values()
        )
        versions = sum(len(v) for v in self.stacks.values())
        return (
            f"{len(self.clusters)} clusters, {len(self.stacks)} stacks ({versions} versions), "
            f"{bundles} bundles, {len(self.fleet.model.spec.assignments)} assignments"
        )


def load(tree: FileTree) -> FleetRepo:
    """Load and validate the fleet repo in ``tree``; raises ``ValidationFailed`` with every problem."""
    problems: list[Problem] = []
    broken: set[tuple[str, str]] = set()
    if not any(tree.is_file(name) for name in FLEET_FILES) and not tree.is_dir(CLUSTERS_DIR):
        where = tree.revision.removeprefix("dir:")
        raise ValidationFailed([Problem(Location("."), f"{where} is not a fleet repo: it has neither "
                                        f"{FLEET_FILES[0]} nor a {CLUSTERS_DIR}/ directory", rule="not-a-fleet-repo")],
                               revision=tree.revision)
    fleet = _load_fleet(tree, problems, broken)
    clusters = _load_clusters(tree, problems, broken)
    stacks = _load_stacks(tree, problems, broken)
    repo = FleetRepo(
        revision=tree.revision,
        fleet=fleet,
        clusters=MappingProxyType(clusters),
        stacks=MappingProxyType({k: MappingProxyType(v) for k, v in sorted(stacks.items())}),
        tree=tree,
        broken=frozenset(broken),
    )
    problems.extend(checks.run_all(repo))
    if problems:
        raise ValidationFailed(problems, revision=tree.revision)
    return repo


# ----------------------------------------------------------------------------- reading documents


def _read_docs(tree: FileTree, path: str, problems: list[Problem]) -> list[yamldocs.Document]:
    try:
        return yamldocs.load_documents(tree.read(path), file=path)
    except YamlError as exc:
        problems.append(Problem(exc.location, exc.reason, rule="yaml"))
    except UnsafePathError as exc:
        problems.append(Problem(Location(path), exc.message, rule="unsafe-path"))
    except SpecError as exc:
        problems.append(Problem(Location(path), exc.message, rule="limits"))
    return []


def _parse(
    doc: yamldocs.Document, kind: str, problems: list[Problem], broken: set[tuple[str, str]]
) -> Located[Any] | None:
    data = doc.data
    if not isinstance(data, dict):
        problems.append(Problem(Location(doc.file, doc.line), "a document must be a mapping", rule="schema"))
        return None
    if data.get("apiVersion") != API_VERSION:
        where = Location(doc.file, doc.lines.line_of(("apiVersion",)), "apiVersion")
        problems.append(Problem(where, f"apiVersion must be {API_VERSION!r}", rule="schema"))
        return None
    if data.get("kind") != kind:
        where = Location(doc.file, doc.lines.line_of(("kind",)), "kind")
        problems.append(
            Problem(where, f"expected kind {kind!r} here, found {data.get('kind')!r}", rule="schema")
        )
        return None
    try:
        model = KINDS[kind].model_validate(data)
    except ValidationError as exc:
        problems.extend(_schema_problems(exc, doc))
        name = (data.get("metadata") or {}).get("name") if isinstance(data.get("metadata"), dict) else None
        if isinstance(name, str):
            broken.add((kind, name))
        return None
    return Located(model=model, file=doc.file, lines=doc.lines)


def _schema_problems(exc: ValidationError, doc: yamldocs.Document) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
        dotted = ".".join(str(p) for p in loc)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = f"unknown field {loc[-1]!r}" if loc else "unknown field"
        elif err["type"] == "missing":
            message = f"missing required field {loc[-1]!r}" if loc else message
        line = doc.lines.line_of(loc)
        out.append(Problem(Location(doc.file, line, dotted or None), message, rule="schema"))
    return out


# ----------------------------------------------------------------------------- the three kinds


def _load_fleet(tree: FileTree, problems: list[Problem], broken: set[tuple[str, str]]) -> Located[Fleet]:
    default = Located(model=DEFAULT_FLEET, file="(default fleet)", lines=yamldocs.LineIndex())
    for name in FLEET_FILES:
        if not tree.is_file(name):
            continue
        before = len(problems)
        docs = _read_docs(tree, name, problems)
        if len(docs) != 1:
            if docs:
                problems.append(Problem(Location(name, docs[1].line), "fleet.yaml holds one Fleet document"))
            elif len(problems) == before:
                problems.append(Problem(Location(name), f"{name} is empty: it holds one Fleet document", rule="empty"))
            return default
        parsed = _parse(docs[0], "Fleet", problems, broken)
        return parsed if parsed is not None else default
    return default


def _load_clusters(
    tree: FileTree, problems: list[Problem], broken: set[tuple[str, str]]
) -> dict[str, Located[Cluster]]:
    out: dict[str, Located[Cluster]] = {}
    for path in _yaml_files(tree, CLUSTERS_DIR, problems):
        for doc in _read_docs(tree, path, problems):
            parsed = _parse(doc, "Cluster", problems, broken)
            if parsed is None:
                continue
            name = parsed.model.metadata.name
            if name in out:
                first = out[name]
                problems.append(
                    Problem(
                        parsed.at("metadata", "name"),
                        f"duplicate cluster name {name!r} (first defined at {first.at('metadata', 'name')})",
                        rule="duplicate",
                    )
                )
                continue
            out[name] = parsed
    return dict(sorted(out.items()))


def _load_stacks(
    tree: FileTree, problems: list[Problem], broken: set[tuple[str, str]]
) -> dict[str, dict[str, Located[Stack]]]:
    out: dict[str, dict[str, Located[Stack]]] = {}
    for stack_name in _subdirs(tree, STACKS_DIR, problems):
        for version in _subdirs(tree, f"{STACKS_DIR}/{stack_name}", problems):
            path = f"{STACKS_DIR}/{stack_name}/{version}/{STACK_FILE}"
            if not tree.is_file(path):
                problems.append(Problem(Location(path), f"missing {STACK_FILE}", rule="missing-path"))
                continue
            docs = _read_docs(tree, path, problems)
            if len(docs) != 1:
                if docs:
                    problems.append(
                        Problem(Location(path, docs[1].line), "stack.yaml holds one Stack document")
                    )
                continue
            parsed = _parse(docs[0], "Stack", problems, broken)
            if parsed is not None:
                out.setdefault(stack_name, {})[version] = parsed
    return out


def _subdirs(tree: FileTree, path: str, problems: list[Problem]) -> list[str]:
    if not tree.is_dir(path):
        return []
    try:
        return [n for n in tree.list_dir(path) if tree.is_dir(f"{path}/{n}")]
    except UnsafePathError as exc:
        problems.append(Problem(Location(exc.path), exc.message, rule="unsafe-path"))
        return []


def _yaml_files(tree: FileTree, path: str, problems: list[Problem]) -> list[str]:
    if not tree.is_dir(path):
        return []
    out = []
    for name in tree.list_dir(path):
        child = f"{path}/{name}"
        try:
            if name.endswith((".yaml", ".yml")) and tree.is_file(child):
                out.append(child)
        except UnsafePathError as exc:
            problems.append(Problem(Location(child), exc.message, rule="unsafe-path"))
    return out
