"""Masking secret values at the source: nothing derived from a diff or a plan holds one.

``mask(obj)`` replaces every value of a Secret's ``data``/``stringData`` and of every sensitive
annotation (``kubectl.kubernetes.io/last-applied-configuration`` and any name matching
token|password|secret|key|credential) with a marker that carries a short hash of the value, so a
changed value still shows as changed while the value itself never leaves the planner.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

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
    meta = obj.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("annotations"), Mapping):
        out["metadata"] = {**meta, "annotations": _mask_annotations(meta["annotations"])}
    return out


def _mask_annotations(annotations: Mapping[str, Any]) -> dict[str, Any]:
    return {k: marker(v) if is_sensitive_annotation(k) else v for k, v in annotations.items()}


def needs_masking(obj: Mapping[str, Any]) -> bool:
    """True when ``mask`` would change ``obj``: such objects are kept out of plan files in clear."""
    return mask(obj) != dict(obj)
