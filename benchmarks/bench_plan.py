"""Plan with nothing to do for N sim clusters x M objects: time and API requests per cluster.

Run: ``python benchmarks/bench_plan.py [--clusters 200] [--objects 50]``

The fleet is applied first (setup, not measured), then planned twice: a cold plan (fresh
connections, so discovery is read) and a warm one (discovery cached). Requests are the sim's own
counters. Target: one LIST per kind per cluster, no writes. The baseline, measured in the same
process: one label-selected LIST through one cluster's client, times the number of LISTs the plan
needed. Prints figures; asserts nothing.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path

import fleetscale

from reconciler.engine import reconcile


def requests_during(bench: fleetscale.Bench, run) -> tuple[float, Counter[tuple[str, str]], object]:
    for cluster in bench.running.server.clusters.values():
        cluster.faults.requests.clear()
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, bench.requests(), result


def baseline(bench: fleetscale.Bench, *, repeat: int = 200) -> float:
    client = bench.session().connections.client("c0")
    resource = client.discovery.preferred("ConfigMap")
    start = time.perf_counter()
    for _ in range(repeat):
        client.list(resource, selector="stackfleet.dev/fleet=bench")
    return (time.perf_counter() - start) / repeat


def report(label: str, elapsed: float, requests: Counter[tuple[str, str]], *, clusters: int, per_list: float,
           planned: reconcile.Planned) -> None:
    lists = sum(n for (verb, _), n in requests.items() if verb == "list")
    discovery = sum(n for (verb, resource), n in requests.items() if verb == "get" and resource in ("api", "apis"))
    gets = sum(n for (verb, resource), n in requests.items() if verb == "get" and resource not in ("api", "apis"))
    print(f"{label}: {elapsed:.2f} s, changes: {planned.plan.has_changes}")
    print(f"  requests per cluster      {sum(requests.values()) / clusters:.2f}")
    print(f"  LISTs per kind per cluster {lists / (clusters * fleetscale.KINDS):.2f}  (target 1.00)")
    print(f"  discovery GETs per cluster {discovery / clusters:.2f}; object GETs {gets}; writes {fleetscale.writes(requests)}")
    print(f"  ratio: plan time / (LISTs x baseline LIST) = {elapsed / max(1, lists) / per_list:.2f}")


def main() -> None:
    args = fleetscale.arguments(__doc__)
    with tempfile.TemporaryDirectory() as scratch, fleetscale.started(Path(scratch), args) as bench:
        bench.apply(bench.session())
        per_list = baseline(bench)
        print(f"baseline: one label-selected LIST of ConfigMaps: {per_list * 1000:.2f} ms")
        cold = bench.session()
        elapsed, requests, planned = requests_during(bench, lambda: reconcile.plan_fleet(bench.repo, session=cold))
        report("cold plan (discovery read)", elapsed, requests, clusters=args.clusters, per_list=per_list,
               planned=planned)
        elapsed, requests, planned = requests_during(bench, lambda: reconcile.plan_fleet(bench.repo, session=cold))
        report("warm plan (discovery cached)", elapsed, requests, clusters=args.clusters, per_list=per_list,
               planned=planned)
        steps(bench, cold)


def steps(bench: fleetscale.Bench, session: reconcile.Session) -> None:
    """Where a warm plan's time goes: render (cached), observe (the LISTs), the pure planner."""
    start = time.perf_counter()
    rendered = reconcile.render_step(bench.repo, session=session, clusters=())
    rendered_at = time.perf_counter()
    inventory = reconcile.inventory_step(session.store, clusters=())
    live = reconcile.observe_step(rendered, inventory, session=session, fleet_name=bench.repo.name)
    observed_at = time.perf_counter()
    reconcile.plan_step(bench.repo, rendered, live, inventory, now=session.now())
    done = time.perf_counter()
    print(f"  steps: render {rendered_at - start:.2f} s, inventory+observe {observed_at - rendered_at:.2f} s, "
          f"planner {done - observed_at:.2f} s")


if __name__ == "__main__":
    main()
