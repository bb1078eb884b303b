"""Cold apply of N sim clusters x M objects: time, objects/s, and writes per changed object.

Run: ``python benchmarks/bench_apply.py [--clusters 200] [--objects 50]``

The baseline, measured in the same process: the same number of single-object server-side applies sent
one after another through one cluster's client (no planning, no dry-run, no health gates). Writes
per changed object come from the stackfleet client's own counters (real writes only; each wave's
dry-runs are counted apart) and from the sim's request counters (every PATCH, dry-runs included).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path

import fleetscale

from reconciler.core.objects import ObjectKey


def baseline(bench: fleetscale.Bench, *, count: int) -> float:
    """Seconds for ``count`` sequential single-object applies to one cluster."""
    client = bench.session().connections.client("c0")
    start = time.perf_counter()
    for i in range(count):
        client.apply({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": f"baseline-{i}", "namespace": "default"}, "data": {"n": str(i)}})
    elapsed = time.perf_counter() - start
    for i in range(count):
        key = ObjectKey("", "ConfigMap", "default", f"baseline-{i}")
        client.delete(key, uid=str((client.get(key) or {}).get("metadata", {}).get("uid", "")))
    return elapsed


def main() -> None:
    args = fleetscale.arguments(__doc__)
    with tempfile.TemporaryDirectory() as scratch, fleetscale.started(Path(scratch), args) as bench:
        base = baseline(bench, count=500)
        for cluster in bench.running.server.clusters.values():
            cluster.faults.requests.clear()
        session = bench.session()
        elapsed, report, planned = bench.apply(session)
        clients = [session.connections.client(f"c{i}") for i in range(args.clusters)]
        real = sum(c.stats["apply"] + c.stats["delete"] for c in clients)
        dry = sum(c.stats["dry-run"] for c in clients)
        changed = sum(1 for c in planned.plan.steps)
        by_verb = Counter(verb for (verb, _), n in bench.requests().items() for _ in range(n))
        sim_writes = fleetscale.writes(bench.requests())
        ok = sum(1 for o in report.outcomes if o.result.value == "succeeded")
        print(f"cold apply: {args.clusters} clusters x {args.objects} objects = {changed} changed objects")
        print(f"  clusters succeeded        {ok}/{len(report.outcomes)}")
        print(f"  time                      {elapsed:.2f} s (plan included)")
        print(f"  objects/s                 {changed / elapsed:.0f}")
        print(f"  writes per changed object {real / changed:.3f}  (client: {real} writes; {dry} dry-runs apart)")
        print(f"  sim PATCH+DELETE requests {sim_writes} ({sim_writes / changed:.2f} per object, dry-runs included)")
        print(f"  sim requests by verb      {dict(sorted(by_verb.items()))}")
        per_object = base / 500
        print(f"baseline: 500 sequential applies to one cluster: {base:.2f} s ({per_object * 1000:.2f} ms each)")
        print(f"  ratio: engine time / (changed objects x baseline apply) = {elapsed / (changed * per_object):.2f}")
        second = time.perf_counter()
        again, report2, _ = bench.apply(session)
        print(f"second apply: {again:.2f} s, {report2.writes} writes (target 0)")
        print(f"  (wall {time.perf_counter() - second:.2f} s)")


if __name__ == "__main__":
    main()
