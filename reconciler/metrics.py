"""Prometheus metrics of the daemon, on a dedicated registry (never the process-global one).

The series (issue 8)::

    stackfleet_reconcile_duration_seconds{source}          histogram  one reconcile pass
    stackfleet_drift_scan_duration_seconds{cluster}        histogram  one drift scan of a cluster
    stackfleet_api_requests_total{cluster,verb,code}       counter    Kubernetes API requests
    stackfleet_objects{cluster,state}                      gauge      objects by core.statuses.ObjectState
    stackfleet_drift_objects{cluster}                      gauge      objects drifted, per cluster
    stackfleet_errors_total{stage}                         counter    failures by pipeline stage
    stackfleet_last_applied_revision_info{source,revision} gauge      1 for the revision applied last
    stackfleet_last_applied_timestamp_seconds{source}      gauge      when it was applied (unix time)

Labels are bounded by the fleet (clusters, sources, stages), never by objects. ``render()`` gives the
text exposition for ``/metrics``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from reconciler.core.statuses import ObjectState

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
STAGES = ("source", "load", "render", "observe", "plan", "apply", "prune", "health", "drift", "store")

RECONCILE_SECONDS = Histogram(
    "stackfleet_reconcile_duration_seconds",
    "Duration of one reconcile pass.",
    ["source"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
DRIFT_SCAN_SECONDS = Histogram(
    "stackfleet_drift_scan_duration_seconds",
    "Duration of one drift scan of a cluster.",
    ["cluster"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
API_REQUESTS = Counter(
    "stackfleet_api_requests", "Kubernetes API requests sent.", ["cluster", "verb", "code"], registry=REGISTRY
)
OBJECTS = Gauge("stackfleet_objects", "Managed objects by state.", ["cluster", "state"], registry=REGISTRY)
DRIFT_OBJECTS = Gauge(
    "stackfleet_drift_objects", "Objects currently drifted.", ["cluster"], registry=REGISTRY
)
ERRORS = Counter("stackfleet_errors", "Failures by pipeline stage.", ["stage"], registry=REGISTRY)
LAST_APPLIED = Gauge(
    "stackfleet_last_applied_revision_info",
    "The revision applied last (value 1).",
    ["source", "revision"],
    registry=REGISTRY,
)
LAST_APPLIED_AT = Gauge(
    "stackfleet_last_applied_timestamp_seconds",
    "When the last revision was applied (unix time).",
    ["source"],
    registry=REGISTRY,
)

PR_PLANS = Counter(
    "stackfleet_pr_plans", "Pull-request heads planned.", ["source"], registry=REGISTRY
)
PR_POSTS = Counter(
    "stackfleet_pr_posts", "Plan comments and statuses posted to a forge, by result (ok, failed).",
    ["source", "forge", "result"], registry=REGISTRY,
)
REPLICA_CLUSTERS = Gauge(
    "stackfleet_replica_owned_clusters", "Fleet clusters this replica owns now.", ["replica"], registry=REGISTRY
)
REPLICA_MEMBERS = Gauge(
    "stackfleet_replica_members", "Live replicas this replica sees (its own included).", ["replica"],
    registry=REGISTRY,
)
HANDOVERS = Counter(
    "stackfleet_replica_handovers", "Cluster ownership acquired or released by this replica.",
    ["replica", "direction"], registry=REGISTRY,
)

_revisions: dict[str, str] = {}
_revisions_lock = threading.Lock()


def set_last_applied(source: str, revision: str, *, at: float) -> None:
    """Point ``source``'s info series at ``revision`` (the previous revision's series is removed)."""
    with _revisions_lock:
        previous = _revisions.get(source)
        if previous is not None and previous != revision:
            LAST_APPLIED.remove(source, previous)
        _revisions[source] = revision
        LAST_APPLIED.labels(source=source, revision=revision).set(1)
        LAST_APPLIED_AT.labels(source=source).set(at)


def set_shard(replica: str, *, owned: int, members: int) -> None:
    REPLICA_CLUSTERS.labels(replica=replica).set(owned)
    REPLICA_MEMBERS.labels(replica=replica).set(members)


def count_handover(replica: str, direction: str) -> None:
    """One ownership change: ``direction`` is ``acquired`` or ``released``."""
    HANDOVERS.labels(replica=replica, direction=direction).inc()


def count_error(stage: str) -> None:
    """Count one failure in ``stage`` (one of ``STAGES``)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    ERRORS.labels(stage=stage).inc()


def set_objects(cluster: str, counts: Mapping[ObjectState, int]) -> None:
    """Set the per-state object counts of ``cluster`` (states not given drop to 0)."""
    given = {state.value: count for state, count in counts.items()}
    for state in set(given) | _states_of(cluster):
        OBJECTS.labels(cluster=cluster, state=state).set(given.get(state, 0))


def _states_of(cluster: str) -> set[str]:
    return {
        sample.labels["state"]
        for metric in OBJECTS.collect()
        for sample in metric.samples
        if sample.labels.get("cluster") == cluster
    }


def render() -> bytes:
    """The text exposition of every series, for ``/metrics``."""
    return generate_latest(REGISTRY)
