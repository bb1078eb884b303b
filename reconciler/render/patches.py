"""Bundle patches: RFC 6902 JSON patches (via ``jsonpatch``) and RFC 7386 merge patches.

A patch applies to every rendered object its target matches (group, version, kind, name, namespace,
label selector: every given field must match). Patches run in the order written, after namespace
defaulting, so a target's ``namespace`` matches the namespace the object is applied to. A patch that
matches no object, or does not apply, is a ``PatchError`` naming the stack file and line of the patch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jsonpatch
import jsonpointer

from reconciler.core.jsonvalues import merge_patch
from reconciler.core.objects import Obj
from reconciler.errors import PatchError
from reconciler.spec import selectors
from reconciler.spec.models import Patch, PatchTarget


def apply_all(
    objects: Sequence[Obj], patches: Sequence[Patch], *, where: Callable[[int], tuple[str, int | None]]
) -> list[Obj]:
    """``objects`` with every patch applied; ``where(i)`` gives the ``(file, line)`` of patch ``i``."""
    out = list(objects)
    for i, patch in enumerate(patches):
        file, line = where(i)
        hits = [n for n, obj in enumerate(out) if matches(patch.target, obj)]
        if not hits:
            raise PatchError(f"patch {i} matches no object", file=file, line=line)
        for n in hits:
            out[n] = apply_one(out[n], patch, file=file, line=line)
    return out


def matches(target: PatchTarget, obj: Mapping[str, Any]) -> bool:
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    meta = obj.get("metadata") or {}
    wanted = (target.group, target.version, target.kind, target.name, target.namespace)
    actual = (group, version, obj.get("kind"), meta.get("name"), meta.get("namespace") or "")
    if any(w is not None and w != a for w, a in zip(wanted, actual, strict=True)):
        return False
    selector = target.label_selector
    return selector is None or selectors.matches(selector, meta.get("labels") or {})


def apply_one(obj: Obj, patch: Patch, *, file: str, line: int | None) -> Obj:
    if patch.merge_patch is not None:
        merged = merge_patch(obj, patch.merge_patch)
        return merged if isinstance(merged, dict) else obj
    try:
        patched: Obj = jsonpatch.apply_patch(obj, patch.json_patch or [], in_place=False)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise PatchError(
            f"JSON patch does not apply to {obj.get('kind')}/{_name(obj)}: {exc}", file=file, line=line
        ) from None
    return patched


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))
