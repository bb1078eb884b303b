"""Label selector matching (Kubernetes semantics), for assignments and rollout stages."""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.spec.models import LabelSelector, SelectorRequirement


def matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` satisfy ``selector``; an empty selector matches everything."""
    if any(labels.get(k) != v for k, v in selector.match_labels.items()):
        return False
    return all(_holds(req, labels) for req in selector.match_expressions)


def _holds(req: SelectorRequirement, labels: Mapping[str, str]) -> bool:
    present = req.key in labels
    if req.operator == "Exists":
        return present
    if req.operator == "DoesNotExist":
        return not present
    if req.operator == "In":
        return present and labels[req.key] in req.values
    return not present or labels[req.key] not in req.values  # NotIn


def describe(selector: LabelSelector) -> str:
    """``env=prod,ring in (0,1)``: a selector as kubectl writes one."""
    parts = [f"{k}={v}" for k, v in sorted(selector.match_labels.items())]
    for req in selector.match_expressions:
        if req.operator in ("In", "NotIn"):
            parts.append(f"{req.key} {req.operator.lower()} ({','.join(req.values)})")
        else:
            parts.append(req.key if req.operator == "Exists" else f"!{req.key}")
    return ",".join(parts) or "(all clusters)"
