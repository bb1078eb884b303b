"""A drift scan costs one LIST per kind on each cluster: no GET per object, no writes
(``benchmarks/bench_drift.py`` prints the same figures for 1000 objects)."""

from __future__ import annotations

from collections import Counter

CLUSTER = "scanned-1"


def objects(count: int) -> str:
    docs = []
    for i in range(count):
        if i % 2:
            docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}}}\ndata: {{n: '{i}'}}\n")
        else:
            docs.append(f"apiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}}}\n"
                        f"spec: {{selector: {{app: a{i}}}, ports: [{{port: 80}}]}}\n")
    return "---\n".join(docs)


def test_a_drift_scan_lists_each_kind_once_and_gets_no_object(bench_factory, small_fleet) -> None:
    bench = bench_factory(small_fleet(CLUSTER, objects(40)), [CLUSTER])
    bench.apply()
    requests = bench.running.cluster(CLUSTER).faults.requests
    requests.clear()
    report = bench.drift()
    counted = Counter({key: n for key, n in requests.items() if n})
    assert (report.entries, dict(counted)) == ((), {
        ("get", "api"): 1, ("get", "apis"): 1,  # discovery, read by the scan's fresh connections
        ("list", "configmaps"): 1, ("list", "services"): 1,
    })
