"""Values a chart generates at render time (``randAlphaNum``, ``genCA``, ``genSelfSignedCert``,
``uuidv4``, ``now``): found by rendering twice and comparing.

``mark(first, second, inputs=...)`` returns ``first`` with, on every object whose two renders differ,
the annotation ``stackfleet.dev/generated`` (the JSON pointers that differ, comma-separated) and
``stackfleet.dev/render-inputs`` (a digest of everything the render read: chart, values, release,
capabilities). ``core.generated.keep`` then keeps the live values at those pointers while the inputs
stay the same, so a password or a certificate is not rotated on every apply (docs/rendering.md).
"""

from __future__ import annotations

from reconciler.core import diff
from reconciler.core.objects import ANNOTATION_GENERATED, ANNOTATION_RENDER_INPUTS, ObjectKey
from reconciler.render.manifests import Doc


def mark(first: list[Doc], second: list[Doc], *, inputs: str) -> list[Doc]:
    """``first`` with its generated fields annotated (see the module docstring)."""
    again = {ObjectKey.of(d.obj): d.obj for d in second if _keyed(d)}
    out: list[Doc] = []
    for doc in first:
        other = again.get(ObjectKey.of(doc.obj)) if _keyed(doc) else None
        pointers = sorted({op["path"] for op in diff.patch_ops(doc.obj, other, path="")}) if other else []
        if pointers:
            meta = doc.obj.setdefault("metadata", {})
            meta["annotations"] = {**(meta.get("annotations") or {}), ANNOTATION_GENERATED: ",".join(pointers),
                                   ANNOTATION_RENDER_INPUTS: inputs}
        out.append(doc)
    return out


def _keyed(doc: Doc) -> bool:
    return isinstance(doc.obj.get("metadata"), dict) and bool(doc.obj["metadata"].get("name"))
