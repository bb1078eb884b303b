"""What kube-apiserver's CRD controllers write into a CustomResourceDefinition's status."""

from __future__ import annotations

import time

from reconciler.core.objects import Obj
from reconciler.sim import metas


def establish(crd: Obj) -> None:
    """Accept the CRD's names and mark it Established (once: later writes keep the conditions)."""
    if any(c.get("type") == "Established" for c in (crd.get("status") or {}).get("conditions") or []):
        return
    names = (crd.get("spec") or {}).get("names") or {}
    status = crd.setdefault("status", {})
    status["acceptedNames"] = {k: v for k, v in names.items() if k in ("kind", "listKind", "plural", "singular",
                                                                        "shortNames", "categories")}
    status["acceptedNames"].setdefault("listKind", f"{names.get('kind', '')}List")
    status["acceptedNames"].setdefault("singular", str(names.get("kind", "")).lower())
    status["storedVersions"] = [v["name"] for v in crd["spec"].get("versions", []) if v.get("storage")]
    stamp = metas.timestamp(time.time())
    status["conditions"] = [
        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
         "message": "no conflicts found", "lastTransitionTime": stamp},
        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
         "message": "the initial names have been accepted", "lastTransitionTime": stamp},
    ]
