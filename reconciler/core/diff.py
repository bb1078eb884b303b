"""Diffing one desired object against its live counterpart, with every secret value masked.

``compare(desired=..., live=...)`` returns a ``Difference``: whether they differ, the two sides as
compared (``before`` = live, ``after`` = desired; projected, canonical and masked), a JSON patch from
before to after (RFC 6902, checked with ``jsonpatch``) and a unified diff of their YAML. Pass ``desired=None`` for a delete and ``live=None``
for a create. Only the fields the desired object declares and the fields our field manager owned
before are compared (see ``normalize``), after dropping the RFC 6901 pointers in ``ignore``.

Every rendering of a difference comes from the masked sides, so no Secret value or sensitive
annotation reaches a patch, a diff text, a plan or a report.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpointer
import yaml

from reconciler.core import fieldsets, masks, normalize
from reconciler.core.objects import Obj

Patch = tuple[dict[str, Any], ...]
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

ABSENT = "/dev/null"
"""The side of a unified diff where the object does not exist (a create, or an object deleted out of band)."""


@dataclass(frozen=True)
class Difference:
    """The outcome of comparing one object; ``before``/``after`` are ``None`` when absent."""

    changed: bool
    before: Obj | None
    after: Obj | None
    patch: Patch
    text: str


def compare(*, desired: Obj | None, live: Obj | None, ignore: Iterable[str] = ()) -> Difference:
    """Compare ``desired`` with ``live`` (see the module docstring)."""
    before = _view(live, desired=desired, ignore=ignore) if live is not None else None
    after = _view(desired, desired=None, ignore=ignore) if desired is not None else None
    return render(before=before, after=after)


def render(*, before: Obj | None, after: Obj | None, labels: tuple[str, str] = ("live", "desired")) -> Difference:
    """A ``Difference`` between two views that are already canonical and masked (``labels``: the diff's file names)."""
    if before == after:
        return Difference(changed=False, before=before, after=after, patch=(), text="")
    patch = tuple(patch_ops(before or {}, after or {}, path=""))
    return Difference(
        changed=before != after,
        before=before,
        after=after,
        patch=patch,
        text=unified(before=before, after=after, labels=labels),
    )


def patch_ops(before: Any, after: Any, *, path: str) -> list[dict[str, Any]]:
    """RFC 6902 operations turning ``before`` into ``after``, in a stable order (maps by key).

    Lists are matched element by element (longest matching runs, as ``difflib``): an element that
    is gone is removed, a new one added, a changed one patched in place. The list's changes are
    emitted from its end to its start, so every path names an index of ``before`` and a shortened
    list shows exactly the elements it loses.
    """
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        return _map_ops(before, after, path=path)
    if isinstance(before, list) and isinstance(after, list):
        return _list_ops(before, after, path=path)
    return [{"op": "replace", "path": path, "value": after}]


def _list_ops(before: list[Any], after: list[Any], *, path: str) -> list[dict[str, Any]]:
    matcher = difflib.SequenceMatcher(None, [_token(x) for x in before], [_token(x) for x in after],
                                      autojunk=False)
    ops: list[dict[str, Any]] = []
    for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
        if tag == "equal":
            continue
        common = min(i2 - i1, j2 - j1)
        for k in range(common - 1, -1, -1):
            ops += patch_ops(before[i1 + k], after[j1 + k], path=f"{path}/{i1 + k}")
        ops += [{"op": "remove", "path": f"{path}/{i}"} for i in range(i2 - 1, i1 + common - 1, -1)]
        ops += [{"op": "add", "path": f"{path}/{i1 + common + k}", "value": after[j1 + common + k]}
                for k in range(j2 - j1 - common)]
    return ops


def _token(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _map_ops(before: dict[str, Any], after: dict[str, Any], *, path: str) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for name in sorted(before.keys() | after.keys()):
        child = f"{path}/{jsonpointer.escape(name)}"
        if name not in after:
            ops.append({"op": "remove", "path": child})
        elif name not in before:
            ops.append({"op": "add", "path": child, "value": after[name]})
        else:
            ops += patch_ops(before[name], after[name], path=child)
    return ops


def _view(obj: Obj, *, desired: Obj | None, ignore: Iterable[str]) -> Obj:
    if desired is not None:
        obj = normalize.project(obj, desired=normalize.canonical(desired), owned=fieldsets.owned_by(obj))
    shown = normalize.canonical(normalize.strip_server_fields(obj))
    for pointer in ignore:
        remove_pointer(shown, pointer)
    return masks.mask(normalize.sort_named_lists(shown))


def remove_pointer(doc: Any, pointer: str) -> None:
    """Delete the value at RFC 6901 ``pointer`` in ``doc`` in place, if it is there."""
    parts = jsonpointer.JsonPointer(pointer).parts
    if not parts:
        return
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]


def _walk(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, Mapping):
            doc = doc.get(part)
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return None
    return doc


def to_yaml(obj: Obj | None) -> str:
    if obj is None:
        return ""
    return str(yaml.dump(obj, Dumper=_DUMPER, sort_keys=True, default_flow_style=False, allow_unicode=True))


def unified(*, before: Obj | None, after: Obj | None, labels: tuple[str, str] = ("live", "desired")) -> str:
    """A unified diff of the YAML of two (masked) views."""
    lines = difflib.unified_diff(
        to_yaml(before).splitlines(),
        to_yaml(after).splitlines(),
        fromfile=labels[0] if before is not None else ABSENT,
        tofile=labels[1] if after is not None else ABSENT,
        lineterm="",
    )
    return "\n".join(lines)
