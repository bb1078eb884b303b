"""Scale-out: 1, 2 and 3 ``stackfleet serve`` replicas sharing one fleet on one PostgreSQL, side by side.

Run: ``python benchmarks/bench_scaleout.py [--clusters 1000] [--objects 5] [--replicas 1,2,3]``

For each replica count, a fresh database on one PostgreSQL server (tests/pgserver.py, Debian's
binaries, a Unix socket), a fresh ``stackfleet sim --clusters N --audit-log F`` in its own process and
N replicas (``replicas.enabled``, the Leases on the first sim cluster) reconciling a fleet of one stack
(a Namespace and ``--objects - 1`` ConfigMaps per cluster) from a local Git repository. Everything is
observed from outside: requests from the sim's audit log (by user agent ``stackfleet/<identity>``),
CPU from ``/proc/<pid>/stat`` (user + system seconds) of each process.

- cold rollout: from starting the replicas to the last object written; requests and CPU in that time.
- idle cycle: after convergence, the next scheduled reconcile of every replica (``--interval``) with
  nothing to change: each replica's burst of requests (its span is the cycle's wall time), and requests
  and CPU per process over one interval (Lease renewals and Git polls included).

Prints figures; asserts nothing. Every process it starts stops with it (the sim has a lifetime, the
others get SIGTERM when this process dies).
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from reconciler.demo.repos import Upstream

ROOT = Path(__file__).resolve().parents[1]
WRITES = frozenset({"create", "update", "patch", "delete"})
TICKS = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1
BURST_GAP = 3.0
"""Seconds without a request that end a replica's burst (one reconcile cycle)."""


def pgserver() -> ModuleType:
    """tests/pgserver.py, loaded from its path (benchmarks/ is not a package of the tests)."""
    spec = importlib.util.spec_from_file_location("stackfleet_bench_pgserver", ROOT / "tests" / "pgserver.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def fleet_files(clusters: list[str], objects: int) -> dict[str, str]:
    manifests = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: scaleout}\n"]
    manifests += [f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: scaleout}}\n"
                  f"data: {{n: '{i}'}}\n" for i in range(objects - 1)]
    files = {
        "fleet.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Fleet\nmetadata: {name: scaleout}\nspec:\n"
                      "  layers: [addons]\n  assignments:\n    - name: all\n      selector: {}\n"
                      "      stacks: [{name: app, version: 1.0.0}]\n"
                      f"      rollout: {{maxInFlight: {len(clusters)}, failureBudget: {len(clusters)}}}\n",
        "stacks/app/1.0.0/stack.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Stack\nmetadata: {name: app}\n"
                                       "spec:\n  version: 1.0.0\n  bundles:\n"
                                       "    - {name: app, layer: addons, namespace: scaleout, manifests: {path: app}}\n",
        "stacks/app/1.0.0/app/objects.yaml": "---\n".join(manifests),
    }
    for name in clusters:
        files[f"clusters/{name}.yaml"] = (f"apiVersion: stackfleet.dev/v1alpha1\nkind: Cluster\nmetadata: {{name: {name}}}\n"
                                          f"spec: {{connection: {{context: {name}}}}}\n")
    return files


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class Audit:
    """The sim's audit log, read as it grows."""

    path: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    _offset: int = 0

    def poll(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as log:
            log.seek(self._offset)
            data = log.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        new = [json.loads(line) for line in complete.splitlines() if line.strip()]
        self.events += new
        return new

    def between(self, start: float, end: float) -> list[dict[str, Any]]:
        return [e for e in self.events if start <= stamp(e["requestReceivedTimestamp"]) < end]


def is_lease(event: dict[str, Any]) -> bool:
    return bool(event["objectRef"]["resource"] == "leases")


def is_object_write(event: dict[str, Any]) -> bool:
    return (event["verb"] in WRITES and "dryRun=" not in event["requestURI"]
            and event["responseStatus"]["code"] < 300 and event["objectRef"]["resource"] in ("configmaps", "namespaces"))


@dataclass
class Run:
    """One replica count: its sim, its replicas and what was measured."""

    replicas: int
    workdir: Path
    args: argparse.Namespace
    database: str
    clusters: list[str] = field(default_factory=list)
    sim: subprocess.Popen[bytes] | None = None
    daemons: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)

    @property
    def audit(self) -> Path:
        return self.workdir / "audit.log"

    def start_sim(self) -> None:
        log = self.workdir / "sim.log"
        self.sim = sim = subprocess.Popen(
            [sys.executable, "-m", "reconciler.cli", "sim", "--clusters", str(self.args.clusters), "--prefix", "c",
             "--kubeconfig", str(self.workdir / "kubeconfig"), "--audit-log", str(self.audit),
             "--lifetime", str(self.args.deadline * 3)],
            stdout=subprocess.DEVNULL, stderr=log.open("wb"), preexec_fn=_die_with_parent)
        if not wait(lambda: "serving" in log.read_text(errors="replace") or sim.poll() is not None, 120):
            raise SystemExit(f"the sim did not start: {log.read_text(errors='replace')[-2000:]}")
        if sim.poll() is not None:
            raise SystemExit(f"the sim exited: {log.read_text(errors='replace')[-2000:]}")
        width = len(str(self.args.clusters))
        self.clusters = [f"c{i:0{width}d}" for i in range(1, self.args.clusters + 1)]

    def start_daemons(self, url: str) -> None:
        (self.workdir / "token").write_text("scaleout-bench-read-token\n")
        for index in range(1, self.replicas + 1):
            name = f"r{index}"
            config = self.workdir / f"{name}.yaml"
            config.write_text(
                f"sources:\n  - {{name: fleet, url: '{url}', ref: main, poll_interval: 5s, poll_jitter: 0,"
                f" timeout: 60s}}\n"
                f"kube: {{kubeconfig: {self.workdir / 'kubeconfig'}}}\n"
                f"intervals: {{reconcile: {self.args.interval}s, drift: 24h}}\n"
                f"state: {{database: '{self.database}'}}\n"
                f"web: {{listen: '127.0.0.1:0', read_token: {{file: token}}}}\n"
                f"replicas: {{enabled: true, context: {self.clusters[0]}, namespace: default, identity: {name},"
                f" lease_duration: {self.args.lease}s}}\n")
            self.daemons[name] = subprocess.Popen(
                [sys.executable, "-m", "reconciler.cli", "serve", "--config", str(config), "--log-format", "json"],
                cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=(self.workdir / f"{name}.log").open("wb"),
                preexec_fn=_die_with_parent)

    def processes(self) -> dict[str, int]:
        assert self.sim is not None
        return {"sim": self.sim.pid, **{name: p.pid for name, p in self.daemons.items()}}

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.processes().items()}

    def alive(self) -> bool:
        return all(p.poll() is None for p in (self.sim, *self.daemons.values()) if p is not None)

    def stop(self) -> None:
        for process in (*self.daemons.values(), self.sim):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (*self.daemons.values(), self.sim):
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def wait(check: Callable[[], bool], seconds: float, every: float = 0.25) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def agent(event: dict[str, Any]) -> str:
    return str(event.get("userAgent", "")).partition(" ")[0].removeprefix("stackfleet/")


def cold(run: Run, audit: Audit, url: str) -> None:
    """Starts the replicas and waits for every object to be written (exits when that takes too long)."""
    expected = len(run.clusters) * run.args.objects
    written: set[tuple[str, str, str, str]] = set()

    def converged() -> bool:
        for event in audit.poll():
            if is_object_write(event):
                ref = event["objectRef"]
                written.add((event["cluster"], ref["resource"], ref["namespace"], ref["name"]))
        return len(written) >= expected or not run.alive()

    before = run.cpu()
    start = time.time()
    run.start_daemons(url)
    if not wait(converged, run.args.deadline) or len(written) < expected:
        raise SystemExit(f"{run.replicas} replica(s): {len(written)} of {expected} objects written "
                         f"(alive: {run.alive()}); logs in {run.workdir}")
    last = max(stamp(e["requestReceivedTimestamp"]) for e in audit.events if is_object_write(e))
    after = run.cpu()
    events = audit.between(start, last + 0.001)
    run.figures.update(
        cold_wall=f"{last - start:.1f} s",
        cold_requests=str(sum(1 for e in events if not is_lease(e))),
        cold_lease_requests=str(sum(1 for e in events if is_lease(e))),
        cold_writes=str(sum(1 for e in events if is_object_write(e))),
        cold_cpu=_cpu_text(before, after),
    )


def idle(run: Run, audit: Audit) -> None:
    """One reconcile interval after the rollout: each replica's next burst of requests and the CPU spent."""
    interval = float(run.args.interval)
    # The interval starts once the rollout's own requests (health reads, the runs' last steps) have ended.
    wait(lambda: _quiet_since(audit) >= BURST_GAP, interval)
    start = time.time()
    before = run.cpu()
    time.sleep(interval + BURST_GAP)
    after = run.cpu()
    audit.poll()
    window = audit.between(start, start + interval)
    events = [e for e in audit.between(start, start + interval + BURST_GAP) if not is_lease(e)]
    spans = {name: _first_burst([stamp(e["requestReceivedTimestamp"]) for e in events if agent(e) == name])
             for name in run.daemons}
    run.figures.update(
        idle_wall=" / ".join(f"{s:.2f}" for s in spans.values()) + " s",
        idle_requests=str(len(events)),
        idle_by_replica=" / ".join(str(sum(1 for e in events if agent(e) == name)) for name in run.daemons),
        idle_writes=str(sum(1 for e in events if is_object_write(e))),
        idle_lease_requests=str(sum(1 for e in window if is_lease(e))),
        idle_cpu=_cpu_text(before, after),
    )


def _quiet_since(audit: Audit) -> float:
    audit.poll()
    fleet = [stamp(e["requestReceivedTimestamp"]) for e in audit.events if not is_lease(e)]
    return time.time() - max(fleet) if fleet else float("inf")


def _first_burst(times: list[float]) -> float:
    """The span of the first run of ``times`` with no gap over BURST_GAP (0 when there are none)."""
    ordered = sorted(times)
    if not ordered:
        return 0.0
    end = ordered[0]
    for at in ordered[1:]:
        if at - end > BURST_GAP:
            break
        end = at
    return end - ordered[0]


def _cpu_text(before: dict[str, float], after: dict[str, float]) -> str:
    """CPU seconds per process between two readings (a process started in between: all of its CPU)."""
    return " / ".join(f"{name} {after[name] - before.get(name, 0.0):.1f}" for name in after) + " s"


ROWS = (
    ("cold rollout: wall time to converge", "cold_wall"),
    ("cold: requests (Leases apart)", "cold_requests"),
    ("cold: Lease requests", "cold_lease_requests"),
    ("cold: object writes", "cold_writes"),
    ("cold: CPU per process", "cold_cpu"),
    ("idle cycle: wall time per replica", "idle_wall"),
    ("idle interval: requests (Leases apart)", "idle_requests"),
    ("idle interval: requests per replica", "idle_by_replica"),
    ("idle interval: object writes", "idle_writes"),
    ("idle interval: Lease requests", "idle_lease_requests"),
    ("idle interval: CPU per process", "idle_cpu"),
)


def table(runs: list[Run]) -> str:
    header = ["", *(f"{r.replicas} replica(s)" for r in runs)]
    rows = [header, *([label, *(r.figures.get(key, "-") for r in runs)] for label, key in ROWS)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in rows]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


@contextmanager
def postgres() -> Iterator[Any]:
    server = pgserver().start_server()
    try:
        yield server
    finally:
        server.stop()


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--objects", type=int, default=5, help="objects per cluster (a Namespace and ConfigMaps)")
    parser.add_argument("--replicas", default="1,2,3", help="replica counts to compare, comma-separated")
    parser.add_argument("--interval", type=int, default=30, help="seconds between scheduled reconciles")
    parser.add_argument("--lease", type=int, default=15, help="lease duration in seconds")
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds a cold rollout may take at most")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    counts = [int(n) for n in args.replicas.split(",")]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="stackfleet-scaleout-") as scratch, postgres() as server, ExitStack() as stack:
        for count in counts:
            workdir = Path(scratch) / f"replicas-{count}"
            workdir.mkdir()
            run = Run(count, workdir, args, server.url(server.create_database()))
            stack.callback(run.stop)
            run.start_sim()
            upstream = Upstream.create(workdir / "upstream")
            upstream.commit("the scale-out fleet", fleet_files(run.clusters, args.objects))
            audit = Audit(run.audit)
            cold(run, audit, upstream.file_url)
            idle(run, audit)
            run.stop()
            runs.append(run)
            print(f"{count} replica(s): converged in {run.figures['cold_wall']}", file=sys.stderr)
    print(f"{args.clusters} sim clusters x {args.objects} objects, reconcile every {args.interval} s, "
          f"lease {args.lease} s; CPU as user+system seconds (sim / r1 / r2 ...)\n")
    print(table(runs))


if __name__ == "__main__":
    main()
