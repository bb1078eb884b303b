"""Every request the kube client sends is counted in ``stackfleet_api_requests_total`` by cluster, verb
and code, and the counts agree with what the sim cluster itself counted."""

from __future__ import annotations

from collections import Counter

from reconciler import metrics

OBJECTS = """
apiVersion: v1
kind: ConfigMap
metadata: {name: one, namespace: default}
data: {a: "1"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
"""


def metric_by(label: str, *, cluster: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for family in metrics.API_REQUESTS.collect():
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels["cluster"] == cluster:
                counts[sample.labels[label]] += int(sample.value)
    return counts


def sim_by_verb(requests: Counter[tuple[str, str]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for (verb, _resource), count in requests.items():
        counts[verb] += count
    return counts


def test_a_plan_counts_every_request_the_sim_received(bench_factory, small_fleet) -> None:
    bench = bench_factory(small_fleet("metered-1", OBJECTS), ["metered-1"])
    before = metric_by("verb", cluster="metered-1")
    bench.plan()
    counted = metric_by("verb", cluster="metered-1") - before
    received = sim_by_verb(bench.running.faults("metered-1").requests)
    assert counted == received and received["list"] > 0


def test_an_apply_counts_its_writes_and_dry_runs_as_patch(bench_factory, small_fleet) -> None:
    bench = bench_factory(small_fleet("metered-2", OBJECTS), ["metered-2"])
    before = metric_by("verb", cluster="metered-2")
    bench.apply()
    counted = metric_by("verb", cluster="metered-2") - before
    assert counted == sim_by_verb(bench.running.faults("metered-2").requests) and counted["patch"] >= 2


def test_a_throttled_attempt_is_counted_with_its_code(bench_factory, small_fleet) -> None:
    bench = bench_factory(small_fleet("metered-3", OBJECTS), ["metered-3"])
    bench.running.faults("metered-3").throttle(1, retry_after=0)
    before = metric_by("code", cluster="metered-3")
    bench.plan()
    assert (metric_by("code", cluster="metered-3") - before)["429"] == 1
