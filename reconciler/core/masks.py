"""Masking secret values at the source: nothing derived from a diff or a plan holds one.

One rule, for every sink (plans, diffs, drift, the dashboard, the store, logs): ``mask(obj)`` replaces
with a marker carrying a short digest of the value

- every value of a Secret's ``data``/``stringData``;
- every sensitive annotation (``kubectl.kubernetes.io/last-applied-configuration`` and any name
  matching token|password|secret|key|credential);
- in any object, the scalar value of a field whose name is a credential's (``redactions.is_secret_key``:
  a ConfigMap's ``password``, a values-like ``apiKey``) and the ``value`` of a ``{name, value}`` pair
  whose name is (an env var ``DB_PASSWORD``), the same fields the store's and the logs' redactor hides.

A changed value still shows as changed (its digest changes) while the value never leaves the planner,
and comparisons see digests, never masked text: the applied copy the drift scan keeps is sealed with
the same markers, which the store's redactor leaves as they are, so an untouched object never reads as
drifted because a sink masked it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from reconciler.redactions import is_secret_key

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SENSITIVE_NAME = re.compile(r"token|passw|secret|key|credential", re.IGNORECASE)
SECRET_FIELDS = ("data", "stringData")


def marker(value: Any) -> str:
    """The stand-in shown for a secret value: a short hash, never the value."""
    digest = hashlib.sha256(str(value).encode()).hexdigest()[:16]
    return f"<masked sha256:{digest}>"


def is_secret(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Secret" and str(obj.get("apiVersion", "")) == "v1"


def is_sensitive_annotation(name: str) -> bool:
    return name == LAST_APPLIED or SENSITIVE_NAME.search(name) is not None


def mask(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` with Secret values and sensitive annotations replaced by markers (a copy)."""
    out = dict(obj)
    if is_secret(obj):
        for field in SECRET_FIELDS:
            if isinstance(obj.get(field), Mapping):
                out[field] = {k: marker(v) for k, v in obj[field].items()}
    for name, value in obj.items():
        if name not in ("metadata", "apiVersion", "kind") and not (is_secret(obj) and name in SECRET_FIELDS):
            out[name] = _mask_fields(value, name)
    meta = obj.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("annotations"), Mapping):
        out["metadata"] = {**meta, "annotations": _mask_annotations(meta["annotations"])}
    return out


def _mask_fields(value: Any, name: str) -> Any:
    """``value`` (at field ``name``) with credential-named scalars and ``{name, value}`` pairs masked."""
    if isinstance(value, Mapping):
        masked = {k: _mask_fields(v, str(k)) for k, v in value.items()}
        pair_name, pair_value = masked.get("name"), masked.get("value")
        if isinstance(pair_name, str) and is_secret_key(pair_name) and _maskable(pair_value):
            masked["value"] = marker(pair_value)
        return masked
    if isinstance(value, list):
        return [_mask_fields(item, name) for item in value]
    return marker(value) if is_secret_key(name) and _maskable(value) else value


def _maskable(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and value != "" and not (
        isinstance(value, str) and value.startswith("<masked sha256:"))


def _mask_annotations(annotations: Mapping[str, Any]) -> dict[str, Any]:
    return {k: marker(v) if is_sensitive_annotation(k) else v for k, v in annotations.items()}


def needs_masking(obj: Mapping[str, Any]) -> bool:
    """True when ``mask`` would change ``obj``: such objects are kept out of plan files in clear."""
    return mask(obj) != dict(obj)
