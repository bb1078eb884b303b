"""Keep what a chart generated at render time while its inputs do not change, pure.

An object that ``render.generated`` marked (``stackfleet.dev/generated``: the JSON pointers whose value
differs from one render to the next) gets, at each of those pointers, the value the live object has,
when the live object carries the same ``stackfleet.dev/render-inputs`` digest: the chart, its values,
the release and the capabilities are what they were when that value was applied, so rendering anew
must not rotate a password or a certificate. When the inputs changed the new render is applied (a
chart upgrade or a values change regenerates, as ``helm upgrade`` does). A Secret's ``stringData``
value is compared with its live ``data`` (the API server keeps only ``data``). ``keepGenerated: false``
on a Helm bundle turns this off.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping

import jsonpointer

from reconciler.core.desired import DesiredBundle
from reconciler.core.jsonvalues import clone
from reconciler.core.live import LiveCluster
from reconciler.core.objects import ANNOTATION_GENERATED, ANNOTATION_RENDER_INPUTS, Obj, ObjectKey

_ABSENT = object()


def keep(bundles: tuple[DesiredBundle, ...], live: Mapping[str, LiveCluster]) -> tuple[DesiredBundle, ...]:
    """``bundles`` with the live values of their generated fields kept (see the module docstring)."""
    return tuple(_bundle(b, live.get(b.dest)) for b in bundles)


def _bundle(bundle: DesiredBundle, cluster: LiveCluster | None) -> DesiredBundle:
    if cluster is None or not any(_pointers(o) for o in bundle.objects):
        return bundle
    objects = tuple(kept(o, cluster.get(ObjectKey.of(o))) for o in bundle.objects)
    return bundle if objects == bundle.objects else dataclasses.replace(bundle, objects=objects)


def kept(desired: Obj, live: Obj | None) -> Obj:
    """``desired`` with the live values at its generated pointers, if ``live`` was applied from the same inputs."""
    pointers = _pointers(desired)
    if not pointers or live is None or _annotation(live, ANNOTATION_RENDER_INPUTS) != _annotation(
            desired, ANNOTATION_RENDER_INPUTS):
        return desired
    out: Obj = clone(desired)
    for pointer in pointers:
        value = _live_value(live, pointer)
        if value is not _ABSENT and jsonpointer.resolve_pointer(out, pointer, _ABSENT) is not _ABSENT:
            jsonpointer.set_pointer(out, pointer, clone(value))
    return out


def _live_value(live: Obj, pointer: str) -> object:
    found = jsonpointer.resolve_pointer(live, pointer, _ABSENT)
    parts = jsonpointer.JsonPointer(pointer).parts
    if found is _ABSENT and live.get("kind") == "Secret" and len(parts) == 2 and parts[0] == "stringData":
        encoded = (live.get("data") or {}).get(parts[1])
        return base64.b64decode(encoded).decode("utf-8", "replace") if isinstance(encoded, str) else _ABSENT
    return found


def _pointers(obj: Obj) -> list[str]:
    return [p for p in _annotation(obj, ANNOTATION_GENERATED).split(",") if p]


def _annotation(obj: Obj, name: str) -> str:
    return str(((obj.get("metadata") or {}).get("annotations") or {}).get(name, ""))
