"""Stage one of rendering a target: its source (manifests, Kustomize or Helm) to documents.

Every source render goes through the content-addressed cache, so an unchanged input is rendered
once however many clusters use it. ``${...}`` references are substituted in manifests and
Kustomize output (after parsing) and in Helm values and values files (before Helm runs).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.core import values as values_
from reconciler.core.targeting import Target
from reconciler.errors import ChartError, RenderError, UnsafePathError
from reconciler.render import dependencies, generated, helm, kustomize, manifests, sops, substitute
from reconciler.render.cache import Cache, key_of
from reconciler.render.capabilities import Capabilities
from reconciler.spec import yamldocs
from reconciler.spec.loader import FleetRepo
from reconciler.spec.models import HelmSource
from reconciler.spec.trees import clean_path


@dataclass
class Context:
    """What every source render of one fleet render shares."""

    repo: FleetRepo
    cache: Cache
    fetcher: helm.Fetcher
    kustomize_timeout: float = kustomize.TIMEOUT_SECONDS
    age_keys: sops.AgeKeys | None = None
    """Identities SOPS-encrypted manifests are decrypted with (in memory, never cached on disk)."""
    _tree_ids: dict[str, str] = field(default_factory=dict)
    _inputs: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tree_id(self, path: str) -> str:
        """``FileTree.tree_id``, computed once per path and render."""
        with self._lock:
            known = self._tree_ids.get(path)
        if known is None:
            known = self.repo.tree.tree_id(path)
            with self._lock:
                self._tree_ids[path] = known
        return known

    def kustomize_inputs(self, path: str) -> list[str]:
        """``kustomize.inputs``, computed once per kustomization and render."""
        with self._lock:
            known = self._inputs.get(path)
        if known is None:
            known = kustomize.inputs(self.repo.tree, path)
            with self._lock:
                self._inputs[path] = known
        return known

    def stack_lines(self, target: Target) -> yamldocs.LineIndex:
        return self.repo.stacks[target.id.stack][target.version].lines


def render(ctx: Context, target: Target, capabilities: Capabilities) -> list[manifests.Doc]:
    """The documents of ``target``'s source, substituted (hooks not yet split off)."""
    bundle = target.bundle
    if bundle.manifests is not None:
        return _manifests(ctx, target)
    if bundle.kustomize is not None:
        return _kustomize(ctx, target)
    assert bundle.helm is not None
    return _helm(ctx, target, bundle.helm, capabilities)


def variables_of(target: Target) -> substitute.Variables:
    return substitute.Variables(cluster=target.cluster, values=target.values)


def _repo_path(ctx: Context, target: Target, rel: str, *field_path: str | int) -> str:
    try:
        return clean_path(rel, base=target.stack_dir)
    except UnsafePathError as exc:
        line = ctx.stack_lines(target).line_of(("spec", "bundles", target.bundle_index, *field_path))
        raise RenderError(exc.message, file=target.stack_file, line=line) from None


def _substituted(docs: list[manifests.Doc], target: Target) -> list[manifests.Doc]:
    variables = variables_of(target)
    return [
        manifests.Doc(
            obj=substitute.substitute(
                d.obj, variables=variables, where=substitute.Where(d.file, d.lines, d.base)
            ),
            file=d.file,
            lines=d.lines,
            base=d.base,
        )
        for d in docs
    ]


def _manifests(ctx: Context, target: Target) -> list[manifests.Doc]:
    source = target.bundle.manifests
    assert source is not None
    path = _repo_path(ctx, target, source.path, "manifests", "path")
    parts = {"source": "manifests", "path": path, "tree": ctx.tree_id(path), "recursive": source.recursive}
    docs = ctx.cache.get_or_render(
        parts,
        lambda: manifests.read_dir(ctx.repo.tree, path, recursive=source.recursive, keys=ctx.age_keys),
        label=f"manifests:{path}",
    )
    return _substituted(docs, target)


def _kustomize(ctx: Context, target: Target) -> list[manifests.Doc]:
    source = target.bundle.kustomize
    assert source is not None
    path = _repo_path(ctx, target, source.path, "kustomize", "path")
    dirs = ctx.kustomize_inputs(path)
    parts = {
        "source": "kustomize",
        "engine": kustomize.engine_version(),
        "path": path,
        "inputs": [[d, ctx.tree_id(d)] for d in dirs],
    }

    def build() -> list[manifests.Doc]:
        return kustomize.build(ctx.repo.tree, path=path, dirs=dirs, timeout=ctx.kustomize_timeout)

    docs = ctx.cache.get_or_render(parts, build, label=f"kustomize:{path}", persist=True)
    return _substituted(docs, target)


# ----------------------------------------------------------------------------- helm


def _helm(
    ctx: Context, target: Target, source: HelmSource, capabilities: Capabilities
) -> list[manifests.Doc]:
    release = helm.Release(
        name=source.release_name or target.bundle.name,
        namespace=release_namespace(target),
        values=helm_values(ctx, target, source),
        capabilities=capabilities,
        include_crds=source.include_crds,
    )
    chart_id, prefix, archive = _chart(ctx, target, source)
    parts = {
        "source": "helm",
        "engine": helm.ENGINE_VERSION,
        "chart": chart_id,
        "release": [release.name, release.namespace],
        "values": release.values,
        "capabilities": [capabilities.kube_version, list(capabilities.api_versions)],
        "crds": release.include_crds,
    }

    def run() -> list[manifests.Doc]:
        first = helm.render(archive(), release, file_prefix=prefix)
        if not source.keep_generated:
            return first
        second = helm.render(archive(), release, file_prefix=prefix)  # what differs was generated
        return generated.mark(first, second, inputs=key_of(parts)[:20])

    return ctx.cache.get_or_render(parts, run, label=f"helm:{prefix}", persist=True)


def release_namespace(target: Target) -> str:
    source = target.bundle.helm
    return (source.namespace if source else None) or target.bundle.namespace or "default"


def _chart(ctx: Context, target: Target, source: HelmSource) -> tuple[Any, str, Callable[[], bytes]]:
    """The chart's content id, the repo path (or reference) naming its files, and its archive."""
    ref = helm.ChartRef(chart=source.chart, repository=source.repository, version=source.version)
    if not ref.local:
        return [ref.chart, ref.repository, ref.version], str(ref), lambda: ctx.fetcher.archive(ref)
    path = _repo_path(ctx, target, source.chart, "helm", "chart")
    if not (ctx.repo.tree.is_file(path) or ctx.repo.tree.is_file(f"{path}/Chart.yaml")):
        line = ctx.stack_lines(target).line_of(("spec", "bundles", target.bundle_index, "helm", "chart"))
        raise ChartError(f"chart {path} not found in the fleet repo", file=target.stack_file, line=line)
    if path.endswith(".tgz"):
        return ["repo", path, ctx.tree_id(path)], path, lambda: helm.local_archive(ctx.repo.tree, path)
    needed = dependencies.missing(ctx.repo.tree, path)
    chart_id = ["repo", path, ctx.tree_id(path), [[d.name, d.repository, d.version] for d in needed]]
    return chart_id, path, lambda: helm.local_archive(ctx.repo.tree, path, extra=_fetched(ctx, path, needed))


def _fetched(ctx: Context, path: str, needed: list[dependencies.Dependency]) -> dict[str, bytes]:
    """The archives of the dependencies the chart at ``path`` does not vendor, as ``charts/<name>-<version>.tgz``."""
    def remote(chart: str, repository: str, version: str) -> bytes:
        return ctx.fetcher.archive(helm.ChartRef(chart=chart, repository=repository or None, version=version or None))

    def local(target: str) -> bytes:
        return helm.local_archive(ctx.repo.tree, target)

    return {f"charts/{d.name}-{d.version or 'local'}.tgz": dependencies.fetch(
        d, tree=ctx.repo.tree, path=path, remote=remote, local=local) for d in needed}


def helm_values(ctx: Context, target: Target, source: HelmSource) -> dict[str, Any]:
    """Values files (in order) then ``values``, each substituted, deep-merged."""
    variables = variables_of(target)
    layers: list[dict[str, Any]] = []
    for i, rel in enumerate(source.values_files):
        path = _repo_path(ctx, target, rel, "helm", "valuesFiles", i)
        document = yamldocs.load_one(ctx.repo.tree.read(path), file=path)
        data = document.data if document is not None else {}
        if not isinstance(data, dict):
            raise RenderError(
                "a values file must hold a mapping", file=path, line=document.line if document else None
            )
        where = substitute.Where(path, document.lines if document else None)
        layers.append(substitute.substitute(data, variables=variables, where=where))
    base = ("spec", "bundles", target.bundle_index, "helm", "values")
    where = substitute.Where(target.stack_file, ctx.stack_lines(target), base)
    layers.append(substitute.substitute(source.values, variables=variables, where=where))
    return values_.merge(*layers)
