"""``python -m benchmarks run``: stackfleet at fleet scale against the sim in its own process (HTTPS).

One run, in this order, each phase measured on its own (wall, CPU seconds per process, requests per
cluster by verb as the sim counted them, writes):

- stackfleet (``s*`` clusters, one engine session kept across phases as the daemon keeps it):
  cold rollout, idle cycle (polling: plan + apply of the same revision), push of one object on 10 %
  of the clusters (a Git commit), drift scan with 1 % of the objects edited and 0.1 % deleted behind
  stackfleet's back, 100 polls of an unchanged Git remote;
- baseline ``kubectl apply --server-side`` (``k*`` clusters): one kubectl per cluster, cold, idle, push;
- baseline official Python client (``p*`` clusters): one server-side apply per object, cold, idle, push.

The baselines get the same rendered objects stackfleet applies. Ratios are baseline wall / stackfleet
wall (above 1: stackfleet is faster). Peak RSS per managed object is the reconciler process's peak RSS
growth over the stackfleet phases divided by the objects it manages.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import baselines, fleetscale
from reconciler.core import targeting
from reconciler.core.objects import Obj
from reconciler.daemon.pipelines import EnginePipeline
from reconciler.demo.repos import Upstream
from reconciler.engine import drift
from reconciler.kube.connections import ClientSettings
from reconciler.render import fleet as fleet_render
from reconciler.source import opening
from reconciler.source.git import Mirror
from reconciler.source.sources import GitSource
from reconciler.spec import loader
from reconciler.store import stores

WRITE_VERBS = ("create", "update", "patch", "delete")


@dataclass
class Phase:
    name: str
    wall_s: float
    cpu_s: dict[str, float]
    requests: dict[str, Counter[str]]
    """Per cluster of the phase's group: requests by verb (discovery GETs apart)."""
    objects: int = 0
    """Objects changed (or, for the drift scan, scanned) in the phase."""
    writes: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    def total(self, *, verbs: Sequence[str] = (), clusters: Sequence[str] | None = None) -> int:
        chosen = self.requests if clusters is None else {c: self.requests.get(c, Counter()) for c in clusters}
        return sum(n for counts in chosen.values() for v, n in counts.items() if not verbs or v in verbs)

    def per_cluster(self) -> dict[str, float]:
        verbs: Counter[str] = Counter()
        for counts in self.requests.values():
            verbs.update(counts)
        return {v: n / max(1, len(self.requests)) for v, n in sorted(verbs.items())}


class SimProcess:
    """``benchmarks.simproc`` in a child process."""

    def __init__(self, kubeconfig: Path, names: Sequence[str]) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.simproc", str(kubeconfig), *names],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self._line() != "ready":
            raise RuntimeError("the sim process did not start")

    def _line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self._line())
        return answer

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(sim: SimProcess, name: str, group: Sequence[str], run: Callable[[], tuple[int, int]],
            *, actor: str) -> Phase:
    """Run ``run`` (returns objects, writes) and what it cost; ``actor`` names the process that did it."""
    before = sim.ask("reset")
    cpu, children, start = _cpu_self(), _cpu_children(), time.perf_counter()
    objects, writes = run()
    wall = time.perf_counter() - start
    cpu, children = _cpu_self() - cpu, _cpu_children() - children
    after = sim.ask("stats")
    requests = {c: Counter(after["requests"].get(c, {})) for c in group}
    spent = {actor: children if actor == "kubectl" else cpu, "sim": after["cpu_s"] - before["cpu_s"]}
    if actor == "kubectl":
        spent["benchmark"] = cpu
    return Phase(name, wall, spent, requests, objects, writes)


# ---- stackfleet ---------------------------------------------------------------------------------


@dataclass
class Stackfleet:
    """The daemon's pipeline (``daemon.pipelines.EnginePipeline``) over the upstream's work tree."""

    upstream: Upstream
    kubeconfig: Path
    state: Path
    names: list[str]
    workers: int = 32
    store: stores.Store = field(init=False)
    pipeline: EnginePipeline = field(init=False)

    def __post_init__(self) -> None:
        self.store = stores.open_store(self.state)
        self.pipeline = EnginePipeline(self.store, kubeconfig=str(self.kubeconfig), workers=self.workers,
                                       client_settings=ClientSettings(qps=1000, burst=1000))

    @property
    def repo(self) -> loader.FleetRepo:
        return loader.load(opening.open_tree(str(self.upstream.work)))

    def cycle(self) -> tuple[int, int]:
        """What the daemon does per revision (and per interval): plan, apply; returns (writes, writes)."""
        outcome = self.pipeline.reconcile(opening.open_tree(str(self.upstream.work)), revision=self.upstream.head(),
                                          source="bench", stop=threading.Event())
        if not outcome.ok:
            raise RuntimeError(f"the reconcile failed: {outcome.summary}")
        return outcome.writes, outcome.writes

    def dry_runs(self) -> int:
        connections = self.pipeline.connections_for(self.repo)
        return sum(connections.client(n).stats["dry-run"] for n in self.names)

    def push(self, clusters: Sequence[str]) -> None:
        files = {f"clusters/{n}.yaml": fleetscale.cluster_yaml(n, push="2") for n in clusters}
        self.upstream.commit("push: one object changes on 10 % of the clusters", files)

    def scan(self) -> tuple[int, int]:
        repo = self.repo
        report = drift.scan(self.store, connections=self.pipeline.connections_for(repo), fleet_name=repo.name,
                            policies=drift.policies_of(targeting.build(repo)), now=datetime.now(UTC), workers=self.workers)
        return len(report.entries), 0

    def rendered(self) -> dict[str, list[Obj]]:
        rendered = fleet_render.render(self.repo, options=self.pipeline.render_options)
        out: dict[str, list[Obj]] = {}
        for bundle in rendered.bundles:
            out.setdefault(bundle.dest, []).extend(bundle.objects)
        return out


def git_polls(upstream: Upstream, cache: Path, *, count: int) -> Callable[[], tuple[int, int]]:
    source = GitSource(Mirror(upstream.file_url, cache_dir=cache), ref="main")
    source.poll()

    def run() -> tuple[int, int]:
        for _ in range(count):
            source.poll()
        return 0, 0

    return run


# ---- the run ------------------------------------------------------------------------------------


@contextmanager
def _sim(workdir: Path, names: Sequence[str]) -> Iterator[SimProcess]:
    sim = SimProcess(workdir / "kubeconfig", names)
    try:
        yield sim
    finally:
        sim.stop()


def run(clusters: int, objects: int, *, workdir: Path, echo: Callable[[str], None]) -> dict[str, Any]:
    own, kube, py = ([f"{p}{i}" for i in range(clusters)] for p in "skp")
    pushed = own[: max(1, clusters // 10)]
    upstream = Upstream.create(workdir / "upstream",
                               seed=fleetscale.write_fleet(workdir / "seed", names=own, objects=objects))
    phases: dict[str, Phase] = {}
    with _sim(workdir, [*own, *kube, *py]) as sim:
        sf = Stackfleet(upstream, workdir / "kubeconfig", workdir / "state.db", own)
        rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        echo(f"stackfleet: cold rollout of {clusters} x {objects} objects")
        phases["cold"] = measure(sim, "cold", own, sf.cycle, actor="reconciler")
        phases["cold"].extra["dry_runs"] = sf.dry_runs()
        before = sf.rendered()
        echo("stackfleet: idle cycle (polling)")
        phases["idle"] = measure(sim, "idle", own, sf.cycle, actor="reconciler")
        echo(f"stackfleet: push of one object on {len(pushed)} clusters")
        sf.push(pushed)
        phases["push"] = measure(sim, "push", own, sf.cycle, actor="reconciler")
        rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        echo("stackfleet: drift scan (1 % edited, 0.1 % deleted)")
        edited, deleted = baselines.make_drift(workdir / "kubeconfig", own, objects=objects)
        phases["drift"] = measure(sim, "drift", own, sf.scan, actor="reconciler")
        phases["drift"].extra.update(edited=edited, deleted=deleted)
        echo("stackfleet: 100 polls of an unchanged Git remote")
        phases["git"] = measure(sim, "git", own, git_polls(upstream, workdir / "mirrors", count=100),
                                actor="reconciler")
        after = sf.rendered()
        echo("baseline: kubectl apply --server-side per cluster")
        kubectl = baselines.Kubectl(workdir / "kubeconfig", workdir / "kubectl")
        _baseline(phases, sim, "kubectl", kube, kubectl.apply, before=before, after=after, own=own, pushed=pushed)
        echo("baseline: official Python client, one server-side apply per object")
        pyclient = baselines.PyClient(workdir / "kubeconfig")
        _baseline(phases, sim, "pyclient", py, pyclient.apply, before=before, after=after, own=own, pushed=pushed)
        sim_rss = sim.ask("stats")["peak_rss_bytes"]
    return figures(phases, clusters=clusters, objects=objects, pushed=pushed,
                   rss=(rss_start, rss_peak, sim_rss))


def _baseline(phases: dict[str, Phase], sim: SimProcess, actor: str, names: Sequence[str],
              apply: Callable[[Mapping[str, list[Obj]]], tuple[int, int]], *, before: Mapping[str, list[Obj]],
              after: Mapping[str, list[Obj]], own: Sequence[str], pushed: Sequence[str]) -> None:
    """Cold and idle: every cluster's objects as stackfleet first applied them; push: the pushed
    clusters' objects after the push (the baseline is told which clusters changed)."""
    first = {b: before[s] for s, b in zip(own, names, strict=True)}
    for name in ("cold", "idle"):
        phases[f"{actor}.{name}"] = measure(sim, name, names, lambda: apply(first), actor=actor)
    moved = {b: after[s] for s, b in zip(own, names, strict=True) if s in pushed}
    phases[f"{actor}.push"] = measure(sim, "push", names, lambda: apply(moved), actor=actor)


def figures(phases: Mapping[str, Phase], *, clusters: int, objects: int, pushed: Sequence[str],
            rss: tuple[int, int, int]) -> dict[str, Any]:
    cold, idle, push = phases["cold"], phases["idle"], phases["push"]
    unaffected = [c for c in push.requests if c not in pushed]
    managed = clusters * objects
    out: dict[str, Any] = {
        "clusters": clusters, "objects_per_cluster": objects,
        "cold.objects_per_s": cold.objects / cold.wall_s,
        "cold.reconciler_cpu_ms_per_object": 1000 * cold.cpu_s["reconciler"] / max(1, cold.objects),
        "cold.requests_per_changed_object": cold.total() / max(1, cold.objects),
        "cold.dry_runs": cold.extra.get("dry_runs", 0),
        "idle.wall_s": idle.wall_s,
        "idle.requests_per_cluster": idle.total() / clusters,
        "idle.watch_requests_per_cluster": None,
        "push.wall_s": push.wall_s,
        "push.requests_to_unaffected": push.total(clusters=unaffected),
        "drift.wall_s": phases["drift"].wall_s,
        "drift.reconciler_cpu_us_per_object": 1e6 * phases["drift"].cpu_s["reconciler"] / managed,
        "git.polls_wall_s": phases["git"].wall_s,
        "rss_bytes_per_object": (rss[1] - rss[0]) / managed,
        "rss.reconciler_peak_bytes": rss[1], "rss.sim_peak_bytes": rss[2],
        "ratio.cold_vs_pyclient": phases["pyclient.cold"].wall_s / cold.wall_s,
        "ratio.idle_vs_pyclient": phases["pyclient.idle"].wall_s / idle.wall_s,
        "ratio.push_vs_pyclient": phases["pyclient.push"].wall_s / push.wall_s,
        "ratio.cold_vs_kubectl": phases["kubectl.cold"].wall_s / cold.wall_s,
        "ratio.idle_vs_kubectl": phases["kubectl.idle"].wall_s / idle.wall_s,
        "ratio.push_vs_kubectl": phases["kubectl.push"].wall_s / push.wall_s,
        "phases": {k: {"wall_s": p.wall_s, "cpu_s": p.cpu_s, "objects": p.objects, "writes": p.writes,
                       "requests_per_cluster": p.per_cluster(), **p.extra} for k, p in phases.items()},
    }
    return out


def table(result: Mapping[str, Any]) -> str:
    rows = [f"stackfleet benchmark: {result['clusters']} clusters x {result['objects_per_cluster']} objects "
            "(sim in its own process, HTTPS)", "",
            f"{'phase':16s} {'wall s':>8s} {'objects':>8s} {'obj/s':>8s} {'writes':>7s}  cpu s by process"
            "                   requests per cluster by verb"]
    for name, phase in result["phases"].items():
        rate = phase["objects"] / phase["wall_s"] if phase["objects"] and phase["wall_s"] else 0.0
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in phase["cpu_s"].items())
        verbs = ", ".join(f"{k} {v:.2f}" for k, v in phase["requests_per_cluster"].items()) or "none"
        rows.append(f"{name:16s} {phase['wall_s']:8.2f} {phase['objects']:8d} {rate:8.0f} {phase['writes']:7d}  "
                    f"{cpu:34s} {verbs}")
    rows.append("")
    for key, value in result.items():
        if key != "phases" and key not in ("clusters", "objects_per_cluster"):
            rows.append(f"{key:40s} {'n/a (no watches yet)' if value is None else _number(value)}")
    return "\n".join(rows)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"


def main(argv: Sequence[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks run", description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--objects", type=int, default=50)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="stackfleet-bench-") as scratch:
        result = run(args.clusters, args.objects, workdir=Path(scratch),
                     echo=lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
