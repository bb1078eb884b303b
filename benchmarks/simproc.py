"""The sim in its own process, for ``python -m benchmarks run``: HTTPS clusters plus a line protocol on
stdin/stdout so the benchmark can read the sim's own counters and resource use without sharing memory.

``python -m benchmarks.simproc KUBECONFIG NAME...`` serves one cluster per NAME, writes the kubeconfig,
prints ``ready`` and then answers one JSON line per command line: ``stats`` (requests per cluster by
verb, discovery GETs apart, CPU seconds and peak RSS of this process) and ``reset`` (the same, then counters back to zero).
End of input stops it.
"""

from __future__ import annotations

import json
import resource
import sys
from collections import Counter
from pathlib import Path

from reconciler.sim.controllers import Controllers
from reconciler.sim.server import SimServer


def stats(server: SimServer) -> dict[str, object]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    requests: dict[str, Counter[str]] = {}
    for name, cluster in server.clusters.items():
        verbs: Counter[str] = Counter()
        for (verb, kind), n in list(cluster.faults.requests.items()):
            verbs["discovery" if verb == "get" and kind in ("api", "apis") else verb] += n
        requests[name] = verbs
    return {"requests": requests, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_bytes": usage.ru_maxrss * 1024}


def main(argv: list[str]) -> None:
    kubeconfig, names = Path(argv[0]), argv[1:]
    server = SimServer(tls=True)
    for name in names:
        server.add_cluster(name)
    with server, Controllers(server, ready_after=0.0):
        server.kubeconfig(kubeconfig)
        print("ready", flush=True)
        for line in sys.stdin:
            answer = stats(server)
            if line.strip() == "reset":
                for cluster in server.clusters.values():
                    cluster.faults.requests.clear()
            print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
