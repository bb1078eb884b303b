"""Chart dependencies that are not vendored, fetched as ``helm dependency build`` would.

A local chart's ``Chart.yaml`` lists ``dependencies``; Helm renders only those present in its
``charts/`` directory (a subdirectory or a ``<name>-<version>.tgz``) and silently leaves the others
out. ``missing(tree, path)`` finds the ones that are not there; ``fetch`` gets each one:

- from an HTTP(S) chart repository or an OCI registry, at the version ``Chart.lock`` pins when the
  chart has a lock (else the version or range of ``Chart.yaml``), through the render's ``Fetcher``;
- from ``file://<path>`` (relative to the chart), packed from the fleet repo;
- anything else (no repository, a repository alias like ``@stable``) is a ``ChartError`` naming
  ``Chart.yaml`` and the dependency, never a silent drop.

The fetched archives go into the chart's ``charts/`` as ``<name>-<version>.tgz``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ChartError
from reconciler.spec import yamldocs
from reconciler.spec.trees import FileTree


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str
    repository: str
    line: int | None = None


def missing(tree: FileTree, path: str) -> list[Dependency]:
    """The dependencies of the chart at ``path`` that its ``charts/`` does not hold."""
    chart_file = f"{path}/Chart.yaml"
    document = yamldocs.load_one(tree.read(chart_file), file=chart_file)
    data = document.data if document is not None and isinstance(document.data, dict) else {}
    locked = _locked(tree, path)
    found = []
    for index, raw in enumerate(data.get("dependencies") or []):
        if not isinstance(raw, Mapping) or not raw.get("name"):
            continue
        name = str(raw["name"])
        if _vendored(tree, path, name):
            continue
        line = document.lines.line_of(("dependencies", index)) if document is not None else None
        version = locked.get(name) or str(raw.get("version") or "")
        found.append(Dependency(name, version, str(raw.get("repository") or ""), line))
    return found


def fetch(dependency: Dependency, *, tree: FileTree, path: str, remote: Callable[[str, str, str], bytes],
          local: Callable[[str], bytes]) -> bytes:
    """The archive of ``dependency`` of the chart at ``path`` (``remote(chart, repository, version)``,
    ``local(repo path)``)."""
    repository = dependency.repository
    if repository.startswith("file://"):
        target = posixpath.normpath(posixpath.join(path, repository.removeprefix("file://")))
        return local(target)
    if repository.startswith(("https://", "http://")):
        return remote(dependency.name, repository, dependency.version)
    if repository.startswith("oci://"):
        return remote(f"{repository.rstrip('/')}/{dependency.name}", "", dependency.version)
    raise ChartError(
        f"dependency {dependency.name} of chart {path} is not in its charts/ directory and repository "
        f"{repository or '(none)'} cannot be fetched: vendor it (helm dependency build) or give an "
        f"https://, oci:// or file:// repository", file=f"{path}/Chart.yaml", line=dependency.line)


def _vendored(tree: FileTree, path: str, name: str) -> bool:
    if tree.is_file(f"{path}/charts/{name}/Chart.yaml"):
        return True
    return any(_archive_of(f, name) for f in _listing(tree, f"{path}/charts"))


def _archive_of(file: str, name: str) -> bool:
    base = file.rpartition("/")[2]
    return base.endswith(".tgz") and base.startswith(f"{name}-") and base[len(name) + 1:][:1].isdigit()


def _listing(tree: FileTree, directory: str) -> list[str]:
    return [f"{directory}/{n}" for n in tree.list_dir(directory)] if tree.is_dir(directory) else []


def _locked(tree: FileTree, path: str) -> dict[str, str]:
    lock_file = f"{path}/Chart.lock"
    if not tree.is_file(lock_file):
        return {}
    document = yamldocs.load_one(tree.read(lock_file), file=lock_file)
    data: Any = document.data if document is not None else {}
    entries = data.get("dependencies") if isinstance(data, dict) else None
    return {str(d["name"]): str(d.get("version", "")) for d in entries or [] if isinstance(d, Mapping) and d.get("name")}
