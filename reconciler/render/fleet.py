"""Render every target of a fleet repo into ``DesiredBundle`` values (or ``RenderFailure``).

The pipeline, per target:

1. source: manifests, Kustomize or Helm to documents, substituted (``render.sources``, cached);
2. Helm hooks split off (``render.helmhooks``): test hooks dropped, pre/post hooks kept as ``HelmHook``;
3. namespace defaulting: namespaced objects without a namespace get the bundle's namespace (for Helm,
   the release namespace), else ``default``; cluster-scoped objects lose any namespace. Cluster-scoped
   means a built-in cluster-scoped kind, or a custom kind whose CRD, rendered for the same destination
   cluster, says ``scope: Cluster``;
4. the bundle's patches;
5. ownership marks: labels ``stackfleet.dev/{fleet,stack,bundle}``, the self-naming
   ``stackfleet.dev/owner`` annotation (the stack version is not marked on objects: a bump would rewrite
   every object of the stack; the inventory and the plan's bundle records keep it);
6. stable order within the bundle: kind rank, namespace, name (then group and kind).

Then, per destination cluster, an object rendered by two bundles fails the later bundle (in
destination, layer, cluster, stack, bundle order) with an error naming both. A failing bundle becomes
a ``RenderFailure``; every other bundle still renders.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from reconciler.core import objects as objects_
from reconciler.core import targeting
from reconciler.core.desired import BundleId, DesiredBundle, HelmHook, RenderFailure
from reconciler.core.jsonvalues import clone
from reconciler.core.objects import Obj, ObjectKey
from reconciler.core.targeting import Target
from reconciler.errors import DuplicateObjectError, StackfleetError
from reconciler.render import helm, helmhooks, patches, scopes, sops, sources
from reconciler.render.cache import Cache
from reconciler.render.capabilities import DEFAULT, Capabilities
from reconciler.render.manifests import Doc
from reconciler.spec.loader import FleetRepo
from reconciler.spec.yamldocs import LineIndex


@dataclass
class Options:
    capabilities: Mapping[str, Capabilities] = field(default_factory=dict)
    """Per destination cluster; others get ``default_capabilities``."""
    default_capabilities: Capabilities = DEFAULT
    cache: Cache = field(default_factory=Cache)
    fetcher: helm.Fetcher = field(default_factory=helm.Fetcher)
    workers: int = 4
    kustomize_timeout: float = 60.0
    age_keys: sops.AgeKeys | None = None
    """Age identities for SOPS-encrypted manifests (``render.sops``)."""

    def capabilities_of(self, dest: str) -> Capabilities:
        return self.capabilities.get(dest, self.default_capabilities)


@dataclass(frozen=True)
class FleetRender:
    revision: str
    bundles: tuple[DesiredBundle, ...]
    failures: tuple[RenderFailure, ...]

    @property
    def object_count(self) -> int:
        return sum(len(b.objects) + len(b.hooks) for b in self.bundles)


@dataclass(frozen=True)
class _Sourced:
    target: Target
    docs: tuple[Doc, ...] = ()
    failure: RenderFailure | None = None


@dataclass(frozen=True)
class _Finished:
    desired: DesiredBundle
    files: Mapping[ObjectKey, str]


def render(
    repo: FleetRepo,
    *,
    options: Options | None = None,
    clusters: Collection[str] | None = None,
    bundles: Collection[str] | None = None,
    targets: Sequence[Target] | None = None,
) -> FleetRender:
    """Render ``repo``: every target, or those for destination ``clusters`` and of ``bundles``
    (``<bundle>`` or ``<stack>/<bundle>``; other bundles of those destinations still count for CRD
    scopes and duplicates). ``targets``: the repo's targets when the caller already built them."""
    options = options or Options()
    built = targeting.build(repo) if targets is None else targets
    targets = [t for t in built if clusters is None or t.dest in clusters]
    ctx = sources.Context(
        repo=repo, cache=options.cache, fetcher=options.fetcher, kustomize_timeout=options.kustomize_timeout,
        age_keys=options.age_keys,
    )
    sourced = _map(lambda t: _source(ctx, t, options), targets, workers=options.workers)
    custom = _custom_scopes(sourced)
    finished, failures = _finish_all(repo, sourced, custom)
    kept, dupes = _deduplicate(finished)
    failures.extend(dupes)
    return FleetRender(
        revision=repo.revision,
        bundles=tuple(f.desired for f in kept if _selected(f.desired.id, bundles)),
        failures=tuple(
            sorted((f for f in failures if _selected(f.id, bundles)), key=lambda f: (f.dest, f.id))
        ),
    )


def _selected(bundle_id: BundleId, wanted: Collection[str] | None) -> bool:
    if not wanted:
        return True
    return bundle_id.bundle in wanted or f"{bundle_id.stack}/{bundle_id.bundle}" in wanted


def _map(func: Callable[[Target], _Sourced], targets: list[Target], *, workers: int) -> list[_Sourced]:
    if workers <= 1 or len(targets) <= 1:
        return [func(t) for t in targets]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stackfleet-render") as pool:
        return list(pool.map(func, targets))


def _source(ctx: sources.Context, target: Target, options: Options) -> _Sourced:
    try:
        docs = sources.render(ctx, target, options.capabilities_of(target.dest))
    except Exception as exc:  # one bad bundle (even a bug) never stops the others
        return _Sourced(target, failure=failure_of(target, exc))
    return _Sourced(target, docs=tuple(docs))


def failure_of(target: Target, exc: BaseException) -> RenderFailure:
    """A ``RenderFailure`` whose error names the stack, version, bundle and file."""
    about: dict[str, object] = {
        "stack": target.id.stack,
        "version": target.version,
        "bundle": target.id.bundle,
    }
    if isinstance(exc, StackfleetError):
        about.update(exc.about)
        detail = str(exc)
    else:
        detail = f"{type(exc).__name__}: {exc}"
    error = f"bundle {target.id.stack}@{target.version}/{target.id.bundle} for cluster {target.id.cluster}: {detail}"
    return RenderFailure(id=target.id, dest=target.dest, error=error, about=about)


def _custom_scopes(sourced: list[_Sourced]) -> dict[str, frozenset[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for item in sourced:
        found.setdefault(item.target.dest, set()).update(
            scopes.declared_cluster_scoped(d.obj for d in item.docs)
        )
    return {dest: frozenset(kinds) for dest, kinds in found.items()}


def stack_lines(repo: FleetRepo, target: Target) -> LineIndex:
    return repo.stacks[target.id.stack][target.version].lines


def _finish_all(
    repo: FleetRepo, sourced: list[_Sourced], custom: Mapping[str, frozenset[tuple[str, str]]]
) -> tuple[list[_Finished], list[RenderFailure]]:
    finished: list[_Finished] = []
    failures: list[RenderFailure] = []
    for item in sourced:
        if item.failure is not None:
            failures.append(item.failure)
            continue
        try:
            kinds = custom.get(item.target.dest, frozenset())
            finished.append(
                finish(item.target, list(item.docs), custom=kinds, lines=stack_lines(repo, item.target))
            )
        except Exception as exc:  # as in _source
            failures.append(failure_of(item.target, exc))
    return finished, failures


# ----------------------------------------------------------------------------- one bundle


def finish(
    target: Target, docs: list[Doc], *, custom: Collection[tuple[str, str]], lines: LineIndex | None = None
) -> _Finished:
    """Steps 2 to 6 of the pipeline for one target (``lines``: of its stack.yaml, for patch errors)."""
    plain, found_hooks = helmhooks.split(docs) if target.bundle.helm is not None else (docs, [])
    namespace = bundle_namespace(target)
    # Substitution builds new mappings and lists, so only Helm output (cached as is) needs a copy.
    fresh = clone if target.bundle.helm is not None else _same
    objs = [default_namespace(fresh(d.obj), namespace=namespace, custom=custom) for d in plain]
    made = _created_namespace(target, namespace, objs)
    objs = patches.apply_all(objs + made, target.bundle.patches, where=lambda i: _patch_where(target, i, lines))
    files = _files_of(target, objs, [d.file for d in plain] + [CREATED] * len(made))
    marked = sorted((mark(o, target) for o in objs), key=object_order)
    helm_hooks = [_helm_hook(h, target, namespace=namespace, custom=custom) for h in found_hooks]
    return _Finished(desired=desired_bundle(target, marked, sorted(helm_hooks, key=hook_order)), files=files)


CREATED = "(createNamespace)"
"""The file of a Namespace that ``createNamespace`` adds: it yields to any bundle rendering it."""


def _created_namespace(target: Target, namespace: str, objs: list[Obj]) -> list[Obj]:
    if not target.bundle.create_namespace or any(ObjectKey.of(o) == _namespace_key(namespace) for o in objs):
        return []
    meta = {"name": namespace, "annotations": {objects_.ANNOTATION_CREATED_NAMESPACE: "true"}}
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": meta}]


def _namespace_key(name: str) -> ObjectKey:
    return ObjectKey.of({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def bundle_namespace(target: Target) -> str:
    """Where namespaced objects that name no namespace go."""
    if target.bundle.helm is not None:
        return sources.release_namespace(target)
    return target.bundle.namespace or "default"


def desired_bundle(target: Target, objs: list[Obj], helm_hooks: list[HelmHook]) -> DesiredBundle:
    return DesiredBundle(
        id=target.id,
        dest=target.dest,
        fleet=target.fleet,
        version=target.version,
        layer=target.layer,
        layer_index=target.layer_index,
        depends_on=tuple(target.bundle.depends_on),
        objects=tuple(objs),
        policy=target.policy,
        hooks=tuple(helm_hooks),
        paused=target.paused,
        content_hash=content_hash(objs, helm_hooks),
        source=target.source,
    )


def _patch_where(target: Target, index: int, lines: LineIndex | None) -> tuple[str, int | None]:
    path = ("spec", "bundles", target.bundle_index, "patches", index)
    return target.stack_file, lines.line_of(path) if lines is not None else None


def _files_of(target: Target, objs: list[Obj], files: list[str]) -> dict[ObjectKey, str]:
    out: dict[ObjectKey, str] = {}
    for obj, file in zip(objs, files, strict=True):
        key = ObjectKey.of(obj)
        if key in out:
            raise DuplicateObjectError(
                f"{key} is rendered twice by this bundle ({out[key]} and {file})", file=file
            )
        out[key] = file
    return out




def _same(value: Obj) -> Obj:
    return value


def default_namespace(obj: Obj, *, namespace: str, custom: Collection[tuple[str, str]]) -> Obj:
    meta = obj.setdefault("metadata", {})
    if scopes.is_cluster_scoped(obj, custom=custom):
        meta.pop("namespace", None)
    elif not meta.get("namespace"):
        obj["metadata"] = _with_namespace(meta, namespace)
    return obj


def _with_namespace(meta: dict[str, object], namespace: str) -> dict[str, object]:
    """``meta`` with ``namespace`` written right after ``name``, where a person would write it."""
    out: dict[str, object] = {}
    for key, value in meta.items():
        if key != "namespace":
            out[key] = value
        if key == "name":
            out["namespace"] = namespace
    out.setdefault("namespace", namespace)
    return out


def mark(obj: Obj, target: Target) -> Obj:
    """``obj`` with stackfleet's ownership labels and annotations."""
    meta = obj.setdefault("metadata", {})
    labels = meta.get("labels") or {}
    meta["labels"] = {
        **labels,
        objects_.LABEL_FLEET: target.fleet,
        objects_.LABEL_STACK: target.id.stack,
        objects_.LABEL_BUNDLE: target.id.bundle,
    }
    owner = objects_.owner_annotation(
        fleet=target.fleet, stack=target.id.stack, bundle=target.id.bundle, key=ObjectKey.of(obj)
    )
    annotations = meta.get("annotations") or {}
    meta["annotations"] = {
        **annotations,
        objects_.ANNOTATION_OWNER: owner,
    }
    return obj


def _helm_hook(
    hook: HelmHook, target: Target, *, namespace: str, custom: Collection[tuple[str, str]]
) -> HelmHook:
    obj = default_namespace(clone(hook.object), namespace=namespace, custom=custom)
    return dataclasses.replace(hook, object=mark(obj, target))


def object_order(obj: Obj) -> tuple[int, str, str, str, str]:
    key = ObjectKey.of(obj)
    return (scopes.kind_rank(obj), key.namespace, key.name, key.group, key.kind)


def hook_order(hook: HelmHook) -> tuple[int, int, tuple[int, str, str, str, str]]:
    return (0 if hook.phase == "pre" else 1, hook.weight, object_order(hook.object))


def content_hash(objs: list[Obj], helm_hooks: list[HelmHook]) -> str:
    body = {
        "objects": objs,
        "hooks": [[h.phase, h.weight, list(h.delete_policies), h.object, *([h.last_phase] if h.last_phase else [])]
                  for h in helm_hooks],
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------------------- duplicates


def _deduplicate(finished: list[_Finished]) -> tuple[list[_Finished], list[RenderFailure]]:
    """Per destination, the first bundle (in stable order) keeps an object; later claimants fail."""
    owners: dict[tuple[str, ObjectKey], tuple[BundleId, str]] = {}
    kept: list[_Finished] = []
    failures: list[RenderFailure] = []
    declared = {(f.desired.dest, k) for f in finished for k, file in f.files.items() if file != CREATED}
    for item in sorted(finished, key=lambda f: _order(f.desired)):
        item = _yield_created(item, taken=declared | owners.keys())
        clash = _first_clash(item, owners)
        if clash is None:
            kept.append(item)
            owners.update({(item.desired.dest, k): (item.desired.id, f) for k, f in item.files.items()})
            continue
        failures.append(_duplicate_failure(item, *clash))
    return kept, failures


def _yield_created(item: _Finished, *, taken: Collection[tuple[str, ObjectKey]]) -> _Finished:
    """``item`` without the namespaces its ``createNamespace`` added that another bundle renders (or an
    earlier bundle's ``createNamespace`` already added)."""
    dest = item.desired.dest
    gone = {k for k, file in item.files.items() if file == CREATED and (dest, k) in taken}
    if not gone:
        return item
    objs = [o for o in item.desired.objects if ObjectKey.of(o) not in gone]
    desired = dataclasses.replace(item.desired, objects=tuple(objs),
                                  content_hash=content_hash(objs, list(item.desired.hooks)))
    return _Finished(desired=desired, files={k: f for k, f in item.files.items() if k not in gone})


def _order(desired: DesiredBundle) -> tuple[str, int, str, str, str]:
    return (desired.dest, desired.layer_index, desired.id.cluster, desired.id.stack, desired.id.bundle)


def _first_clash(
    item: _Finished, owners: Mapping[tuple[str, ObjectKey], tuple[BundleId, str]]
) -> tuple[ObjectKey, BundleId, str] | None:
    hook_keys = {ObjectKey.of(h.object): "(helm hook)" for h in item.desired.hooks}
    for key in sorted({**hook_keys, **item.files}):
        owner = owners.get((item.desired.dest, key))
        if owner is not None:
            return key, owner[0], owner[1]
    return None


def _duplicate_failure(item: _Finished, key: ObjectKey, owner: BundleId, owner_file: str) -> RenderFailure:
    desired = item.desired
    file = item.files.get(key, "(helm hook)")
    exc = DuplicateObjectError(
        f"{key} in cluster {desired.dest} is rendered by bundle {owner} ({owner_file}) "
        f"and by bundle {desired.id} ({file})",
        file=file,
    )
    failure = RenderFailure(
        id=desired.id,
        dest=desired.dest,
        error=f"bundle {desired.id.stack}@{desired.version}/{desired.id.bundle} for cluster {desired.id.cluster}: {exc}",
        about={
            "stack": desired.id.stack,
            "version": desired.version,
            "bundle": desired.id.bundle,
            "file": file,
            "other": str(owner),
        },
    )
    return failure
