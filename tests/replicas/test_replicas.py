"""Three ``stackfleet serve`` replicas share one fleet through Leases and one PostgreSQL store.

Observed from outside only: the Leases on the sim's ``mgmt`` cluster, the sim's audit log (who wrote
where and when, by user agent), the objects and their change events. Deadlines only stop a broken run
from hanging the suite; nothing is asserted against the clock.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import kubernetes
import pytest

from reconciler.demo import waits
from reconciler.demo.repos import GitDaemon, Upstream
from reconciler.sim import audits, testing

CLUSTERS = ["mgmt", "c1", "c2", "c3", "c4", "c5"]
REPLICAS = ["r1", "r2", "r3"]
CONFIGMAPS = 6
LEASE = 4  # seconds: short, so a handover is quick to watch
WRITES = {"create", "update", "patch", "delete"}


def fleet_files(greeting: str) -> dict[str, str]:
    configmaps = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting-{i}\ndata:\n  message: ${{values.greeting}}\n"
        for i in range(CONFIGMAPS)
    )
    files = {
        "stacks/hello/1.0.0/stack.yaml": (
            "apiVersion: stackfleet.dev/v1alpha1\nkind: Stack\nmetadata:\n  name: hello\nspec:\n  version: 1.0.0\n"
            "  bundles:\n    - {name: hello, layer: addons, namespace: hello, manifests: {path: manifests}}\n"
        ),
        "stacks/hello/1.0.0/manifests/all.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hello\n" + configmaps,
    }
    for name in CLUSTERS:
        files[f"clusters/{name}.yaml"] = (
            f"apiVersion: stackfleet.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: {name}\n"
            f"spec:\n  connection: {{context: {name}}}\n  stacks:\n    - {{name: hello, version: 1.0.0}}\n"
            f"  values:\n    greeting: {greeting}\n"
        )
    return files


@dataclass
class World:
    workdir: Path
    upstream: Upstream
    git: GitDaemon
    sim: testing.RunningSim
    database: str
    audit: Path
    processes: dict[str, subprocess.Popen[str]]

    def start(self, name: str) -> None:
        config = self.workdir / f"{name}.yaml"
        config.write_text(
            f"sources:\n  - name: fleet\n    url: {self.git.url()}\n    ref: main\n    poll_interval: 1s\n"
            f"    poll_jitter: 0\n    timeout: 10s\nkube:\n  kubeconfig: {self.sim.kubeconfig}\n"
            f"intervals: {{reconcile: 5s, drift: 10m}}\nstate: {{database: '{self.database}'}}\n"
            f"web:\n  listen: 127.0.0.1:0\n  read_token: {{file: token}}\n"
            f"replicas: {{enabled: true, context: mgmt, identity: {name}, lease_duration: {LEASE}s}}\n"
        )
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "reconciler.cli", "serve", "--config", str(config), "--log-format", "json"],
            cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=(self.workdir / f"{name}.log").open("w"), text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def regained(self, name: str) -> dict[str, str]:
        """cluster -> when replica ``name`` acquired it anew (a second term or later), from its log."""
        found: dict[str, str] = {}
        for line in (self.workdir / f"{name}.log").read_text().splitlines():
            event = json.loads(line) if line.startswith("{") else {}
            if event.get("event") == "cluster taken over" and event.get("term", 1) > 1:
                found.setdefault(event["cluster"], event["timestamp"])
        return found

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.processes.values())

    def logs(self) -> str:
        def tail(name: str) -> str:
            lines = (self.workdir / f"{name}.log").read_text().splitlines()
            return "\n".join(line[:300] for line in lines if "apscheduler" not in line)[-4000:]

        return "\n".join(f"== {n}\n{tail(n)}" for n in self.processes)

    def holders(self) -> dict[str, str]:
        """Fleet cluster -> the replica its ownership Lease names (expired or not)."""
        mgmt = self.sim.cluster("mgmt")
        rt = mgmt.registry.lookup("coordination.k8s.io", "v1", "leases")
        assert rt is not None
        found = {}
        for lease in mgmt.objects(rt):
            name = lease["metadata"]["name"]
            if name.startswith("stackfleet-cluster-") and lease["spec"].get("holderIdentity"):
                found[name.removeprefix("stackfleet-cluster-")] = lease["spec"]["holderIdentity"]
        return found

    def messages(self) -> dict[str, list[str]]:
        out = {}
        for name in CLUSTERS:
            cluster = self.sim.cluster(name)
            rt = cluster.registry.lookup("", "v1", "configmaps")
            assert rt is not None
            out[name] = [o["data"]["message"] for o in cluster.objects(rt) if o["metadata"]["namespace"] == "hello"
                         and o["metadata"]["name"].startswith("greeting-")]
        return out

    def converged(self, greeting: str) -> bool:
        return all(found == [greeting] * CONFIGMAPS for found in self.messages().values())

    def writes(self) -> list[dict]:
        """Writes to fleet objects (Leases and Events left out), in the order the sim logged them."""
        return [e for e in audits.read(self.audit) if e["verb"] in WRITES and not audits.is_dry_run(e)
                and e["objectRef"]["resource"] not in ("leases", "events")]


@pytest.fixture
def world(tmp_path: Path, postgres_server) -> Iterator[World]:
    (tmp_path / "token").write_text("replicas-read-token-7d1e")
    upstream = Upstream.create(tmp_path / "srv")
    upstream.commit("hello on every cluster", fleet_files("hello"))
    audit = tmp_path / "audit.log"
    database = postgres_server.url(postgres_server.create_database())
    with GitDaemon(upstream.root) as git, testing.running(CLUSTERS, workdir=tmp_path, audit_log=audit) as sim:
        core = kubernetes.client.CoreV1Api(sim.api_client("mgmt"))
        core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "stackfleet"}})
        made = World(tmp_path, upstream, git, sim, database, audit, {})
        try:
            yield made
        finally:
            for process in made.processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGCONT)
                    process.kill()
                    process.wait(10)


def agent_spans(writes: list[dict]) -> dict[str, dict[str, tuple[str, str]]]:
    """cluster -> user agent -> (first, last) write time."""
    spans: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for event in writes:
        at = event["requestReceivedTimestamp"]
        span = spans[event["cluster"]].setdefault(event["userAgent"], [at, at])
        span[0], span[1] = min(span[0], at), max(span[1], at)
    return {c: {a: (s[0], s[1]) for a, s in agents.items()} for c, agents in spans.items()}


def overlapping(spans: dict[str, tuple[str, str]]) -> bool:
    ordered = sorted(spans.values())
    return any(later[0] <= earlier[1] for earlier, later in itertools.pairwise(ordered))


def test_replicas_split_the_fleet_and_take_over_a_killed_one(world: World) -> None:
    for name in REPLICAS:
        world.start(name)
    assert waits.until(lambda: world.converged("hello") or not world.alive(), seconds=120), world.logs()
    assert world.converged("hello"), world.logs()
    assert waits.until(lambda: set(world.holders()) == set(CLUSTERS) and len(set(world.holders().values())) == 3,
                       seconds=60), (world.holders(), world.logs())
    before = world.holders()
    print(f"owners: {before}")

    world.processes["r1"].kill()
    world.processes["r1"].wait(10)
    killed_at = time.monotonic()
    lost = {c for c, owner in before.items() if owner == "r1"}
    assert waits.until(lambda: all(world.holders().get(c) in ("r2", "r3") for c in lost), seconds=60), world.logs()
    print(f"clusters of r1 ({sorted(lost)}) taken over in {time.monotonic() - killed_at:.1f}s (lease {LEASE}s)")

    mark = len(world.writes())
    world.upstream.commit("greeting: bonjour", {f"clusters/{c}.yaml": fleet_files("bonjour")[f"clusters/{c}.yaml"]
                                                for c in CLUSTERS})
    assert waits.until(lambda: world.converged("bonjour"), seconds=120), world.logs()
    time.sleep(2 * LEASE)  # a duplicate would come within a reconcile interval or two
    after = world.writes()[mark:]
    per_object = defaultdict(int)
    for event in after:
        ref = event["objectRef"]
        if ref["resource"] == "configmaps":
            per_object[(event["cluster"], ref["name"])] += 1
    owners = world.holders()
    agents = {c: {e["userAgent"] for e in after if e["cluster"] == c} for c in CLUSTERS}
    assert (set(per_object.values()), len(per_object), {c: {f"stackfleet/{owners[c]}"} for c in CLUSTERS}) == (
        {1}, len(CLUSTERS) * CONFIGMAPS, agents
    )
    spans = agent_spans(world.writes())
    assert [c for c, s in spans.items() if overlapping(s)] == []


def test_a_replica_frozen_past_its_lease_writes_nothing_once_another_took_over(world: World) -> None:
    for name in ("r1", "r2"):
        world.start(name)
    assert waits.until(lambda: world.converged("hello") or not world.alive(), seconds=120), world.logs()
    assert waits.until(lambda: set(world.holders().values()) == {"r1", "r2"}, seconds=60), world.logs()
    frozen = {c for c, owner in world.holders().items() if owner == "r1"}

    mark = len(world.writes())
    world.upstream.commit("greeting: hola", {f"clusters/{c}.yaml": fleet_files("hola")[f"clusters/{c}.yaml"]
                                             for c in CLUSTERS})
    assert waits.until(lambda: any(e["userAgent"] == "stackfleet/r1" for e in world.writes()[mark:]), seconds=60)
    world.processes["r1"].send_signal(signal.SIGSTOP)  # mid-rollout: some of its writes are still to come
    stopped_at = len(world.writes())
    assert waits.until(lambda: all(world.holders().get(c) == "r2" for c in frozen), seconds=60), world.logs()
    assert waits.until(lambda: world.converged("hola"), seconds=120), world.logs()
    world.upstream.commit("greeting: bonjour", {f"clusters/{c}.yaml": fleet_files("bonjour")[f"clusters/{c}.yaml"]
                                                for c in CLUSTERS})
    assert waits.until(lambda: world.converged("bonjour"), seconds=120), world.logs()

    marks = {c: max((e.rv for e in world.sim.cluster(c).events.since(0)), default=0) for c in CLUSTERS}
    world.processes["r1"].send_signal(signal.SIGCONT)
    time.sleep(3 * LEASE)  # thawed: a stale wave, or a stale revision, would be written now
    regained = world.regained("r1")
    since = world.writes()[stopped_at:]
    took = {c: min((e["requestReceivedTimestamp"] for e in since if e["cluster"] == c
                    and e["userAgent"] == "stackfleet/r2"), default="~") for c in frozen}
    late = [e for e in since if e["userAgent"] == "stackfleet/r1" and e["cluster"] in frozen
            and took[e["cluster"]] <= e["requestReceivedTimestamp"] < regained.get(e["cluster"], "~")]
    reverted = [(c, e.object["metadata"]["name"], e.object["data"]["message"]) for c in CLUSTERS
                for e in world.sim.cluster(c).events.since(marks[c])
                if e.resource == ("", "configmaps") and e.object.get("data", {}).get("message") != "bonjour"]
    assert (late, reverted, world.converged("bonjour"), world.processes["r1"].poll()) == ([], [], True, None), \
        world.logs()
