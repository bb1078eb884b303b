"""Metrics: the issue-8 series exist on their own registry and parse with the Prometheus text parser."""

from __future__ import annotations

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

from reconciler import metrics
from reconciler.core.statuses import ObjectState

SERIES = {
    "stackfleet_reconcile_duration_seconds": "histogram",
    "stackfleet_drift_scan_duration_seconds": "histogram",
    "stackfleet_api_requests": "counter",
    "stackfleet_objects": "gauge",
    "stackfleet_drift_objects": "gauge",
    "stackfleet_errors": "counter",
    "stackfleet_last_applied_revision_info": "gauge",
    "stackfleet_last_applied_timestamp_seconds": "gauge",
}


def exercise() -> None:
    metrics.RECONCILE_SECONDS.labels(source="fleet").observe(1.5)
    metrics.DRIFT_SCAN_SECONDS.labels(cluster="eu-1").observe(0.2)
    metrics.API_REQUESTS.labels(cluster="eu-1", verb="patch", code="200").inc()
    metrics.set_objects("eu-1", {ObjectState.IN_SYNC: 10, ObjectState.PENDING: 1})
    metrics.DRIFT_OBJECTS.labels(cluster="eu-1").set(1)
    metrics.count_error("render")
    metrics.set_last_applied("fleet", "main@sha1:aaa", at=1_700_000_000)


def families() -> dict[str, prometheus_client.Metric]:
    return {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}


def samples(name: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for f in families().values() for s in f.samples if s.name == name]


def test_every_series_of_issue_8_parses_with_its_type() -> None:
    exercise()
    found = {name: f.type for name, f in families().items()}
    assert {name: found.get(name) for name in SERIES} == SERIES


def test_the_global_registry_is_left_alone() -> None:
    exercise()
    names = {m.name for m in prometheus_client.REGISTRY.collect()}
    assert not any(name.startswith("stackfleet_") for name in names)


def test_a_new_applied_revision_replaces_the_old_series() -> None:
    metrics.set_last_applied("other", "main@sha1:111", at=1.0)
    metrics.set_last_applied("other", "main@sha1:222", at=2.0)
    found = [
        labels["revision"]
        for _, labels, _ in samples("stackfleet_last_applied_revision_info")
        if labels["source"] == "other"
    ]
    assert found == ["main@sha1:222"]


def test_object_states_not_reported_again_drop_to_zero() -> None:
    metrics.set_objects("us-9", {ObjectState.IN_SYNC: 4, ObjectState.FAILED: 2})
    metrics.set_objects("us-9", {ObjectState.IN_SYNC: 6})
    found = {
        labels["state"]: value
        for _, labels, value in samples("stackfleet_objects")
        if labels["cluster"] == "us-9"
    }
    assert found == {"in-sync": 6.0, "failed": 0.0}


def errors_in(stage: str) -> float:
    return sum(v for _, labels, v in samples("stackfleet_errors_total") if labels["stage"] == stage)


def test_errors_count_by_stage() -> None:
    before = errors_in("apply")
    metrics.count_error("apply")
    assert errors_in("apply") == before + 1


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage 'rendering'"):
        metrics.count_error("rendering")
