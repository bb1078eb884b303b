"""Render a Helm chart with the real Helm v4 engine (``helm-python-sdk``), offline.

Charts come from the fleet repo (a chart directory or a packaged ``.tgz``, read through the
``FileTree`` and handed to Helm as an in-memory archive, so templates can read no file outside the
chart), from an HTTP chart repository (``index.yaml``) or from an OCI registry; only fetching a remote
chart touches the network. Rendering never contacts a cluster: ``lookup`` returns empty results.
``.Capabilities`` shows the destination's Kubernetes version and extra API versions.

Output: the chart's CRDs (``crds/``, unless ``includeCrds: false``) then every rendered template in
path order; ``NOTES.txt`` and empty documents are dropped. Helm hooks are split off by ``hooks``.

This is the only module that imports ``helm_python``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import helm_python
from helm_python import _native

from reconciler.errors import ChartError, RenderError, StackfleetError
from reconciler.render import manifests
from reconciler.render.capabilities import Capabilities
from reconciler.spec.trees import FileTree, walk_files

ENGINE_VERSION = f"helm-{helm_python.helm_sdk_version()}"
MAX_CHART_FILES = 5_000
PULL_TIMEOUT_SECONDS = 60.0

T = TypeVar("T")


@dataclass(frozen=True)
class ChartRef:
    """Where a chart comes from: a repo path (``local``), an HTTP repository, or ``oci://``."""

    chart: str
    repository: str | None = None
    version: str | None = None

    @property
    def local(self) -> bool:
        return self.repository is None and not self.chart.startswith("oci://")

    def __str__(self) -> str:
        if self.repository:
            return f"{self.chart}@{self.version} from {self.repository}"
        return f"{self.chart}@{self.version}" if self.version else self.chart


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str
    values: dict[str, Any]
    capabilities: Capabilities = field(default_factory=Capabilities)
    include_crds: bool = True


@dataclass
class Fetcher:
    """Fetches remote charts and keeps their archives (in memory, and in ``cache_dir`` if given)."""

    plain_http_hosts: frozenset[str] = frozenset()
    """OCI registries spoken to over plain HTTP (local registries only)."""
    cache_dir: Path | None = None
    timeout: float = PULL_TIMEOUT_SECONDS
    archives: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def archive(self, ref: ChartRef) -> bytes:
        key = json.dumps([ref.chart, ref.repository, ref.version])
        with self.lock:
            cached = self.archives.get(key)
        if cached is None:
            exact = _is_exact(ref.version)
            cached = (self._from_disk(key) if exact else None) or self._pull(ref)
            with self.lock:
                self.archives[key] = cached
            if exact:  # a range may resolve to a newer chart later: never kept across restarts
                self._to_disk(key, cached)
        return cached

    def _pull(self, ref: ChartRef) -> bytes:
        with tempfile.TemporaryDirectory(prefix="stackfleet-chart-") as tmp:
            _with_timeout(
                lambda: _pull_into(ref, Path(tmp), plain_http=self._plain_http(ref)), self.timeout, ref
            )
            found = sorted(Path(tmp).glob("*.tgz"))
            if not found:
                raise ChartError(f"chart {ref} was not downloaded")
            return found[0].read_bytes()

    def _plain_http(self, ref: ChartRef) -> bool:
        host = ref.chart.removeprefix("oci://").split("/", 1)[0]
        return ref.chart.startswith("oci://") and host in self.plain_http_hosts

    def _disk_path(self, key: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / "charts" / (hashlib.sha256(key.encode()).hexdigest() + ".tgz")

    def _from_disk(self, key: str) -> bytes | None:
        path = self._disk_path(key)
        return path.read_bytes() if path is not None and path.is_file() else None

    def _to_disk(self, key: str, data: bytes) -> None:
        path = self._disk_path(key)
        if path is not None and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)


def _is_exact(version: str | None) -> bool:
    return version is not None and re.fullmatch(r"v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?", version) is not None


def _pull_into(ref: ChartRef, dest: Path, *, plain_http: bool) -> None:
    helm_python.pull(
        ref.chart, destination=dest, version=ref.version, repo_url=ref.repository, plain_http=plain_http
    )


def _with_timeout(call: Callable[[], T], timeout: float, ref: ChartRef) -> T:
    """Run ``call`` in a worker thread; a fetch past ``timeout`` is abandoned and reported."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name="stackfleet-chart-pull", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise ChartError(f"fetching chart {ref} took longer than {timeout:g}s")
    if "error" in box:
        raise _chart_error(box["error"], f"cannot fetch chart {ref}") from None
    return box["result"]  # type: ignore[no-any-return]


def _chart_error(exc: BaseException, prefix: str) -> StackfleetError:
    if isinstance(exc, StackfleetError):
        return exc
    message = str(exc).strip() or type(exc).__name__
    return ChartError(f"{prefix}: {message}")


# ----------------------------------------------------------------------------- local charts


def local_archive(tree: FileTree, path: str, *, extra: Mapping[str, bytes] | None = None) -> bytes:
    """The chart at repo path ``path`` (a directory or a ``.tgz``) as archive bytes; ``extra``: more files
    for a chart directory (path inside the chart: bytes), as its fetched dependencies."""
    if path.endswith(".tgz"):
        if not tree.is_file(path):
            raise ChartError(f"chart archive {path} not found in the fleet repo", file=path)
        return tree.read(path)
    if not tree.is_file(f"{path}/Chart.yaml"):
        raise ChartError(f"chart {path} not found in the fleet repo (no {path}/Chart.yaml)", file=path)
    return _pack(tree, path, extra or {})


def _pack(tree: FileTree, path: str, extra: Mapping[str, bytes]) -> bytes:
    files = walk_files(tree, path)
    if len(files) > MAX_CHART_FILES:
        raise ChartError(f"chart {path} has more than {MAX_CHART_FILES} files", file=path)
    top = path.rstrip("/").rpartition("/")[2] or "chart"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for file in files:
            data = tree.read(file)
            _add(tar, f"{top}/{file[len(path) + 1 :]}", data)
        for name, data in sorted(extra.items()):
            _add(tar, f"{top}/{name}", data)
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0
    tar.addfile(info, io.BytesIO(data))


# ----------------------------------------------------------------------------- rendering


def render(archive: bytes, release: Release, *, file_prefix: str) -> list[manifests.Doc]:
    """The objects the chart in ``archive`` renders for ``release`` (CRDs first, hooks included).

    ``file_prefix`` replaces the chart's name in template paths, so errors name repo files.
    """
    try:
        chart = helm_python.Chart.load_archive(archive)
    except helm_python.HelmError as exc:
        raise _chart_error(exc, "cannot load chart") from None
    with chart:
        crds = _crd_docs(chart, file_prefix) if release.include_crds else []
        try:
            return crds + _template_docs(chart, release, file_prefix)
        except ChartError as exc:
            raise ChartError(_repo_paths(exc.message, chart.name, file_prefix), file=file_prefix) from None


def _repo_paths(message: str, chart_name: str, prefix: str) -> str:
    """Helm names templates ``<chart>/templates/x.yaml``; say where they are in the repo instead."""
    return re.sub(rf"(?<![\w./-]){re.escape(chart_name)}/", lambda _: f"{prefix}/", message)


def _crd_docs(chart: helm_python.Chart, prefix: str) -> list[manifests.Doc]:
    out: list[manifests.Doc] = []
    for crd in sorted(chart.crds, key=lambda c: c["filename"]):
        out.extend(manifests.parse(crd["data"].encode(), file=_repo_file(crd["filename"], prefix)))
    return out


def _template_docs(chart: helm_python.Chart, release: Release, prefix: str) -> list[manifests.Doc]:
    out: list[manifests.Doc] = []
    for name, text in sorted(_render_templates(chart, release).items()):
        if name.endswith("NOTES.txt") or not text.strip():
            continue
        try:
            out.extend(manifests.parse(text.encode(), file=_repo_file(name, prefix)))
        except RenderError as exc:
            raise ChartError(f"chart rendered invalid YAML: {exc}") from None
    return out


def _render_templates(chart: helm_python.Chart, release: Release) -> dict[str, str]:
    options = {
        "name": release.name,
        "namespace": release.namespace,
        "is_install": True,
        "kube_version": release.capabilities.kube_version,
        "api_versions": list(release.capabilities.api_versions),
    }
    try:  # Chart.render takes no capabilities; the library's own call does
        rendered = _native.call_string(
            "helm_render", chart._raw(), json.dumps(release.values), json.dumps(options)
        )
    except helm_python.HelmError as exc:
        raise _chart_error(exc, "template error") from None
    result: dict[str, str] = json.loads(rendered)
    return result


def _repo_file(name: str, prefix: str) -> str:
    """``edge-proxy/templates/x.yaml`` -> ``<prefix>/templates/x.yaml``."""
    rest = name.partition("/")[2]
    return f"{prefix}/{rest}" if rest else prefix
