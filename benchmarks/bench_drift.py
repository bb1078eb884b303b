"""A drift scan of one sim cluster holding N applied objects: time and API requests.

Run: ``python benchmarks/bench_drift.py [--clusters 1] [--objects 1000]``

The fleet (a Namespace, then ConfigMaps, Services and Deployments: four kinds) is applied first
(setup, not measured), then scanned twice with ``engine.drift.scan``, as ``stackfleet drift`` runs it:
a cold scan (fresh connections, discovery read) and a warm one. Requests are the sim's own counters.
Target: one LIST per kind per cluster (a LIST is paginated past the client's page size: each page is
a request), no GET per object, no writes. Prints figures; asserts nothing.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import fleetscale

from reconciler.core import targeting
from reconciler.engine import drift, reconcile


def scan(bench: fleetscale.Bench, session: reconcile.Session) -> tuple[float, Counter[tuple[str, str]], int]:
    for cluster in bench.running.server.clusters.values():
        cluster.faults.requests.clear()
    start = time.perf_counter()
    report = drift.scan(bench.store, connections=session.connections, fleet_name=bench.repo.name,
                        policies=drift.policies_of(targeting.build(bench.repo)), now=datetime.now(UTC))
    return time.perf_counter() - start, bench.requests(), len(report.entries)


def show(label: str, elapsed: float, requests: Counter[tuple[str, str]], *, clusters: int, objects: int,
         drifted: int) -> None:
    lists = Counter(resource for (verb, resource), n in requests.items() if verb == "list" for _ in range(n))
    discovery = sum(n for (verb, resource), n in requests.items() if verb == "get" and resource in ("api", "apis"))
    gets = sum(n for (verb, resource), n in requests.items() if verb == "get" and resource not in ("api", "apis"))
    print(f"{label}: {elapsed:.2f} s for {clusters} x {objects} objects, drifted: {drifted}")
    print(f"  LIST requests: {sum(lists.values())} for {fleetscale.KINDS} kinds x {clusters} clusters "
          f"({', '.join(f'{r} {n}' for r, n in sorted(lists.items()))})")
    print(f"  LISTs per kind per cluster {sum(lists.values()) / (clusters * fleetscale.KINDS):.2f}  (target 1.00)")
    print(f"  object GETs {gets}; discovery GETs {discovery}; writes {fleetscale.writes(requests)}")


def main() -> None:
    args = fleetscale.arguments(__doc__, clusters=1, objects=1000)
    with tempfile.TemporaryDirectory() as scratch, fleetscale.started(Path(scratch), args) as bench:
        bench.apply(bench.session())
        cold = bench.session()
        for label in ("cold scan (discovery read)", "warm scan (discovery cached)"):
            elapsed, requests, drifted = scan(bench, cold)
            show(label, elapsed, requests, clusters=args.clusters, objects=args.objects, drifted=drifted)


if __name__ == "__main__":
    main()
