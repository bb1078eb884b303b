"""State store at fleet scale: fill a SQLite store for N clusters x M bundles, time the dashboard query.

Prints figures, asserts nothing. Run: ``python benchmarks/store_dashboard.py [clusters] [bundles]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from reconciler.core import inventory
from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.store import stores
from reconciler.store.records import Outcome

OBJECTS_PER_BUNDLE = 20


def bundle_inventory(cluster: str, bundle: BundleId) -> inventory.BundleInventory:
    entries = tuple(
        inventory.Entry(key=ObjectKey("apps", "Deployment", bundle.bundle, f"d{i}"), uid=f"{cluster}-{i}")
        for i in range(OBJECTS_PER_BUNDLE)
    )
    return inventory.BundleInventory(dest=cluster, bundle=bundle, revision="main@sha1:abc", entries=entries)


def fill(store: stores.Store, *, clusters: int, bundles: int) -> None:
    for c in range(clusters):
        name = f"cluster-{c:04d}"
        ids = [BundleId(cluster=name, stack="platform", bundle=f"b{b}") for b in range(bundles)]
        store.inventories.put_many(bundle_inventory(name, bundle) for bundle in ids)
        if c % 10 == 0:
            key = ObjectKey("apps", "Deployment", "b0", "d0")
            store.drifts.report(name, ids[0], key, patch=[], diff="replicas: 3 -> 5")


def time_steps(store: stores.Store, *, count: int) -> float:
    bundle = BundleId(cluster="cluster-0000", stack="platform", bundle="b0")
    store.runs.start("bench", revision="main@sha1:abc")
    started = time.perf_counter()
    for i in range(count):
        key = ObjectKey("", "ConfigMap", "b0", f"cm{i}")
        store.runs.record_step(
            "bench", cluster="cluster-0000", bundle=bundle, key=key, action="create", outcome=Outcome.APPLIED
        )
    return time.perf_counter() - started


def main(clusters: int = 1000, bundles: int = 10) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = stores.open_store(Path(tmp) / "bench.db")
        started = time.perf_counter()
        fill(store, clusters=clusters, bundles=bundles)
        fill_seconds = time.perf_counter() - started
        timings = []
        for _ in range(10):
            t0 = time.perf_counter()
            rows = store.dashboards.bundles()
            timings.append(time.perf_counter() - t0)
        one = []
        for c in range(0, clusters, max(1, clusters // 10)):
            t0 = time.perf_counter()
            store.dashboards.bundles(cluster=f"cluster-{c:04d}")
            one.append(time.perf_counter() - t0)
        step_seconds = time_steps(store, count=500)
        store.close()
    print(f"clusters={clusters} bundles/cluster={bundles} objects/bundle={OBJECTS_PER_BUNDLE}")
    print(f"fill: {fill_seconds:.1f} s ({clusters * bundles / fill_seconds:.0f} bundle inventories/s)")
    print(
        f"dashboard query: {len(rows)} rows, median {statistics.median(timings) * 1000:.1f} ms, "
        f"max {max(timings) * 1000:.1f} ms over {len(timings)} runs"
    )
    print(f"one cluster's rows: median {statistics.median(one) * 1000:.1f} ms over {len(one)} clusters")
    print(f"step writes: 500 in {step_seconds:.2f} s ({500 / step_seconds:.0f} committed steps/s)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
