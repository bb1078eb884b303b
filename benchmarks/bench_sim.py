"""Requests per second the sim serves on this machine: GET, LIST of 100 objects, and server-side apply.

Run: ``python benchmarks/bench_sim.py [--seconds 3] [--threads 4] [--tls]``. Prints figures, asserts nothing.
Each worker thread keeps one HTTP/1.1 connection open (as the reconciler's client pool does).
"""

from __future__ import annotations

import argparse
import ssl
import threading
import time
from collections.abc import Callable

import httpx

from reconciler.sim import testing

NS = "/api/v1/namespaces/default/configmaps"


def configmap(name: str, value: str = "v") -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"bench": "yes"}},
            "data": {"key": value}}


def measure(make_client: Callable[[], httpx.Client], request: Callable[[httpx.Client, int], httpx.Response], *,
            seconds: float, threads: int) -> tuple[float, int]:
    """Requests per second over ``threads`` workers for ``seconds``, and the number of non-2xx answers."""
    counts, errors, stop = [0] * threads, [0] * threads, threading.Event()

    def work(slot: int) -> None:
        with make_client() as http:
            while not stop.is_set():
                if request(http, slot * 1_000_000 + counts[slot]).status_code >= 300:
                    errors[slot] += 1
                counts[slot] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started), sum(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--tls", action="store_true")
    args = parser.parse_args()
    with testing.running(clusters=1, tls=args.tls, controllers=False) as sim:
        ca = sim.server.ca_pem
        verify: ssl.SSLContext | bool = ssl.create_default_context(cadata=ca.decode()) if ca else True
        headers = {"Authorization": f"Bearer {sim.cluster('c0').token}"}

        def make_client() -> httpx.Client:
            return httpx.Client(base_url=sim.server.url("c0"), headers=headers, verify=verify, timeout=30)

        with make_client() as http:
            for i in range(100):
                http.post(NS, json=configmap(f"cm-{i:03d}"))
        cases: dict[str, Callable[[httpx.Client, int], httpx.Response]] = {
            "GET one ConfigMap": lambda http, _: http.get(f"{NS}/cm-042"),
            "LIST 100 ConfigMaps": lambda http, _: http.get(NS, params={"labelSelector": "bench=yes"}),
            "server-side apply (changing)": lambda http, n: http.patch(
                f"{NS}/cm-{n % 100:03d}", json=configmap(f"cm-{n % 100:03d}", str(n)),
                params={"fieldManager": "bench", "force": "true"},
                headers={"Content-Type": "application/apply-patch+yaml"}),
            "server-side apply (no-op)": lambda http, _: http.patch(
                f"{NS}/cm-007", json=configmap("cm-007", "same"), params={"fieldManager": "bench2", "force": "true"},
                headers={"Content-Type": "application/apply-patch+yaml"}),
        }
        scheme = "https" if args.tls else "http"
        print(f"sim benchmark: {args.threads} threads x {args.seconds:.0f}s, {scheme}, one keep-alive connection "
              f"per thread")
        for label, request in cases.items():
            rate, errors = measure(make_client, request, seconds=args.seconds, threads=args.threads)
            print(f"  {label:32s} {rate:8.0f} req/s   ({errors} errors)")


if __name__ == "__main__":
    main()
