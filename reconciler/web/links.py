"""Every page has an address: builders for the links between pages (path segments are quoted)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from reconciler.core.desired import BundleId
from reconciler.core.drift import Kind
from reconciler.store.records import DriftRecord


def _q(text: str) -> str:
    return quote(text, safe="")


def cluster(name: str) -> str:
    return f"/clusters/{_q(name)}"


def bundle_anchor(bundle: BundleId) -> str:
    return column_anchor(f"{bundle.stack}/{bundle.bundle}")


def column_anchor(column: str) -> str:
    """The anchor of a ``stack/bundle`` on a cluster page."""
    stack, _, bundle = column.partition("/")
    return f"bundle-{stack}-{bundle}"


def rollout(assignment: str) -> str:
    return f"/rollouts/{_q(assignment)}"


def drift(record: DriftRecord) -> str:
    b = record.bundle
    return f"/drift/{_q(record.cluster)}/{_q(b.cluster)}/{_q(b.stack)}/{_q(b.bundle)}?{urlencode({'object': record.object_key})}"


def plan(plan_id: str, *, cluster: str = "") -> str:
    return f"/plans/{_q(plan_id)}" + (f"?{urlencode({'cluster': cluster})}" if cluster else "")


def fleet(*, label: str = "", state: str = "") -> str:
    query = {k: v for k, v in (("label", label), ("state", state)) if v}
    return "/" + (f"?{urlencode(query)}" if query else "")


def is_missing(record: DriftRecord) -> bool:
    """A drift entry about an object deleted out of band."""
    return record.kind is Kind.MISSING
