"""Server time to render the fleet view for N clusters (default 1000) from a store filled with records.

Run: ``python benchmarks/bench_dashboard.py [--clusters 1000] [--rounds 20]``

The store (SQLite, WAL) holds every cluster x bundle as applied (7 bundles per cluster), with 5 % of
the clusters drifted, 1 % failed and 1 % unreachable, written through the store's API by
``reconciler.web.testing.fill``. Figures, all in this process, medians over ``--rounds``:

- the dashboard query alone (``store.dashboards.bundles()``: one round-trip);
- building the matrix (``web.matrices.build``) from those rows;
- the whole request over HTTP on 127.0.0.1 (query, matrix, template, response), unfiltered and with a
  label filter; the bytes of the page;
- the baseline: an HTTP round-trip of ``/healthz`` on the same server (no store, no template).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from reconciler.store import stores
from reconciler.web import matrices, testing
from reconciler.web.access import Tokens
from reconciler.web.services import Services
from reconciler.web.states import State

STACKS = {"base": ("namespaces", "rbac", "monitoring"), "platform": ("ingress", "cert-manager", "dns", "backup")}
TOKEN = "bench-token"


def median_ms(action: Callable[[], object], *, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def states_for(count: int) -> dict[str, State]:
    out: dict[str, State] = {}
    for i in range(count):
        name = f"c{i:04d}"
        if i % 20 == 1:
            out[name] = State.DRIFTED
        elif i % 100 == 2:
            out[name] = State.FAILED
        elif i % 100 == 3:
            out[name] = State.UNREACHABLE
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        store = stores.open_store(Path(scratch) / "state.db")
        catalog = testing.synthetic_catalog(args.clusters, stacks=STACKS)
        started = time.perf_counter()
        testing.fill(store, testing.placements(catalog), revision="main@sha1:" + "0" * 40,
                     states=states_for(args.clusters))
        fill_s = time.perf_counter() - started
        services = Services(store=store, tokens=Tokens.of(read=[TOKEN]), clock=lambda: datetime.now(UTC),
                            catalog=lambda: catalog)
        rows = store.dashboards.bundles()
        query_ms = median_ms(store.dashboards.bundles, rounds=args.rounds)
        matrix_ms = median_ms(lambda: matrices.build(rows, catalog), rounds=args.rounds)
        with testing.running(services) as (_, client):
            client.headers["Authorization"] = f"Bearer {TOKEN}"
            page = client.get("/")
            full_ms = median_ms(lambda: client.get("/").raise_for_status(), rounds=args.rounds)
            filtered_ms = median_ms(lambda: client.get("/", params={"label": "env=prod"}), rounds=args.rounds)
            health_ms = median_ms(lambda: client.get("/healthz"), rounds=args.rounds)
        store.close()
    print(f"fleet view, {args.clusters} clusters x {len(catalog.columns)} bundles ({len(rows)} rows), "
          f"median of {args.rounds}:")
    print(f"  store filled in {fill_s:.1f} s")
    print(f"  dashboard query      {query_ms:8.1f} ms  (one round-trip)")
    print(f"  matrix build         {matrix_ms:8.1f} ms")
    print(f"  GET /  (HTTP)        {full_ms:8.1f} ms  ({len(page.content) / 1024:.0f} KiB)")
    print(f"  GET /?label=env=prod {filtered_ms:8.1f} ms")
    print(f"  baseline GET /healthz{health_ms:8.1f} ms")
    print(f"  render minus baseline: {full_ms - health_ms:.1f} ms of server time "
          f"({(full_ms - health_ms) / 1000:.2f} s; issue 9 asks for under 1 s)")


if __name__ == "__main__":
    main()
