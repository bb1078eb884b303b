"""``stackfleet serve`` as a subprocess against sim clusters and a fleet repo behind ``git daemon``.

The daemon is observed only from outside: its ``/api/v1/revisions`` and ``/metrics``, its exit code
and log lines, and the sim's objects, events and request counters. Latencies are printed, not asserted
against the clock; the deadlines below only stop a broken daemon from hanging the suite.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from reconciler.core.statuses import RevisionStatus
from reconciler.demo import waits
from reconciler.demo.repos import GitDaemon, Upstream
from reconciler.sim import testing
from reconciler.store import stores

TOKEN = "e2e-read-token-5f2c"
HOOK_SECRET = "e2e-hook-secret-91ab"
CONFIGMAPS = 20
SERIES = {
    "stackfleet_reconcile_duration_seconds", "stackfleet_drift_scan_duration_seconds",
    "stackfleet_api_requests", "stackfleet_objects", "stackfleet_drift_objects", "stackfleet_errors",
    "stackfleet_last_applied_revision_info", "stackfleet_last_applied_timestamp_seconds",
}


def fleet_files(greeting: str) -> dict[str, str]:
    configmaps = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting-{i:02d}\n"
        f"data:\n  message: ${{values.greeting}}\n"
        for i in range(CONFIGMAPS)
    )
    return {
        "clusters/dev.yaml": (
            "apiVersion: stackfleet.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: dev\n  labels: {env: dev}\n"
            "spec:\n  connection: {context: dev}\n  stacks:\n    - {name: hello, version: 1.0.0}\n"
            f"  values:\n    greeting: {greeting}\n"
        ),
        "stacks/hello/1.0.0/stack.yaml": (
            "apiVersion: stackfleet.dev/v1alpha1\nkind: Stack\nmetadata:\n  name: hello\nspec:\n  version: 1.0.0\n"
            "  bundles:\n    - {name: hello, layer: addons, namespace: hello, manifests: {path: manifests}}\n"
        ),
        "stacks/hello/1.0.0/manifests/all.yaml": (
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hello\n" + configmaps
        ),
    }


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    """One ``stackfleet serve`` process and how to reach it."""

    process: subprocess.Popen[str]
    url: str
    log_path: Path

    def api(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)

    def applied(self) -> list[str]:
        try:
            found = self.api("/api/v1/revisions").json()["sources"]["fleet"]
        except (httpx.HTTPError, KeyError, ValueError):
            return []
        return [r["revision"].rpartition(":")[2] for r in found if r["status"] == "applied"]

    def logs(self) -> str:
        return self.log_path.read_text()


@dataclass
class Setup:
    workdir: Path
    upstream: Upstream
    git: GitDaemon
    sim: testing.RunningSim
    port: int

    def serve(self, *, poll: str = "1s", drift: str = "10m", name: str = "serve") -> Served:
        config = self.workdir / "stackfleet.yaml"
        config.write_text(
            f"sources:\n  - name: fleet\n    url: {self.git.url()}\n    ref: main\n    poll_interval: {poll}\n"
            f"    poll_jitter: 0\n    timeout: 10s\nkube:\n  kubeconfig: {self.sim.kubeconfig}\n"
            f"intervals: {{reconcile: 10m, drift: {drift}}}\nstate: {{database: state.db}}\n"
            f"web:\n  listen: 127.0.0.1:{self.port}\n  read_token: {{file: token}}\n"
            "  webhooks:\n    github: {file: hook-secret}\n"
        )
        log_path = self.workdir / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler.cli", "serve", "--config", str(config), "--log-format", "json"],
            cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=log_path.open("w"), text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        served = Served(process, f"http://127.0.0.1:{self.port}", log_path)
        assert waits.until(lambda: _answers(served) or process.poll() is not None, seconds=30), served.logs()
        return served

    def configmaps(self) -> dict[str, str]:
        cluster = self.sim.cluster("dev")
        rt = cluster.registry.lookup("", "v1", "configmaps")
        assert rt is not None
        return {o["metadata"]["name"]: o["data"]["message"] for o in cluster.objects(rt)
                if o["metadata"]["namespace"] == "hello"}

    def latest_rv(self) -> int:
        cluster = self.sim.cluster("dev")
        rt = cluster.registry.lookup("", "v1", "configmaps")
        assert rt is not None
        return max(int(o["metadata"]["resourceVersion"]) for o in cluster.objects(rt))

    def settled_writes(self, since_rv: int) -> int:
        """ConfigMap changes once no more arrive for a while (longer than the injected latency)."""
        while True:
            before = self.modified_configmaps(since_rv)
            time.sleep(0.5)
            if self.modified_configmaps(since_rv) == before:
                return before

    def modified_configmaps(self, since_rv: int) -> int:
        events = self.sim.cluster("dev").events.since(since_rv)
        return sum(1 for e in events if e.type == "MODIFIED" and e.resource == ("", "configmaps"))


def _answers(served: Served) -> bool:
    try:
        return httpx.get(f"{served.url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def world(workdir: Path) -> Iterator[Setup]:
    """A fleet repo behind ``git daemon`` and a sim cluster ``dev`` (the daemon is started by ``serve``)."""
    (workdir / "token").write_text(TOKEN)
    (workdir / "hook-secret").write_text(HOOK_SECRET)
    upstream = Upstream.create(workdir / "srv")
    upstream.commit("hello stack on dev", fleet_files("hello"))
    with GitDaemon(upstream.root) as git, testing.running(["dev"], workdir=workdir) as sim:
        yield Setup(workdir, upstream, git, sim, free_port())


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    with world(tmp_path) as made:
        yield made


@pytest.fixture(scope="module")
def steady_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with world(tmp_path_factory.mktemp("steady")) as made:
        yield made


@pytest.fixture(scope="module")
def steady(steady_world: Setup) -> Iterator[Served]:
    """One daemon (drift scans every second), shared by tests that only look, once it applied the head."""
    running = steady_world.serve(drift="1s")
    try:
        assert waits.until(lambda: steady_world.upstream.head() in running.applied(), seconds=30), running.logs()
        yield running
    finally:
        running.process.kill()
        running.process.wait(10)


@pytest.fixture
def served(setup: Setup) -> Iterator[Served]:
    running = setup.serve()
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait(10)


def push_greeting(setup: Setup, greeting: str) -> str:
    return setup.upstream.commit(f"greeting: {greeting}", {"clusters/dev.yaml": fleet_files(greeting)["clusters/dev.yaml"]})


def test_each_pushed_commit_is_applied_by_polling(setup: Setup, served: Served):
    assert waits.until(lambda: setup.upstream.head() in served.applied(), seconds=30), served.logs()
    for greeting in ("hi", "hallo"):
        pushed, started = push_greeting(setup, greeting), time.monotonic()
        assert waits.until(lambda sha=pushed: sha in served.applied(), seconds=2 * 1 + 20), served.logs()
        print(f"commit {pushed[:8]} applied {time.monotonic() - started:.2f}s after the push (poll interval 1s)")
    assert set(setup.configmaps().values()) == {"hallo"}


def test_a_signed_github_webhook_applies_a_push_without_waiting_for_the_poll(setup: Setup):
    served = setup.serve(poll="10m")
    try:
        assert waits.until(lambda: setup.upstream.head() in served.applied(), seconds=30), served.logs()
        pushed = push_greeting(setup, "webhook")
        body = json.dumps({"ref": "refs/heads/main", "repository": {"clone_url": setup.git.url()}}).encode()
        signature = "sha256=" + hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        started = time.monotonic()
        answer = httpx.post(f"{served.url}/hooks/github", content=body, timeout=5, headers={
            "X-Hub-Signature-256": signature, "X-GitHub-Event": "push", "Content-Type": "application/json"})
        assert (answer.status_code, answer.json()["triggered"]) == (202, True)
        assert waits.until(lambda: pushed in served.applied(), seconds=20), served.logs()
        print(f"webhook push applied {time.monotonic() - started:.2f}s after the webhook (poll interval 10m)")
    finally:
        served.process.kill()
        served.process.wait(10)


def test_a_wrongly_signed_webhook_is_refused(steady: Served):
    answer = httpx.post(f"{steady.url}/hooks/github", content=b"{}", timeout=5,
                        headers={"X-Hub-Signature-256": "sha256=" + "0" * 64, "X-GitHub-Event": "push"})
    assert answer.status_code == 401


def test_killed_mid_apply_and_restarted_it_converges_with_nothing_lost_or_written_twice(setup: Setup, served: Served):
    assert waits.until(lambda: setup.upstream.head() in served.applied(), seconds=30), served.logs()
    faults = setup.sim.faults("dev")
    faults.latency = 0.05
    start_rv = setup.latest_rv()
    pushed = push_greeting(setup, "after-the-crash")
    assert waits.until(lambda: setup.modified_configmaps(start_rv) >= 3, seconds=30), served.logs()
    served.process.send_signal(signal.SIGKILL)
    served.process.wait(10)
    written_before = setup.settled_writes(start_rv)  # a request the killed process sent may still be served
    patches_before = faults.total("patch", "configmaps")
    restarted = setup.serve(name="restarted")
    try:
        assert waits.until(lambda: pushed in restarted.applied(), seconds=60), restarted.logs()[-4000:]
        patches_after = faults.total("patch", "configmaps") - patches_before
        print(f"killed after {written_before}/{CONFIGMAPS} writes; the restart sent {patches_after} applies "
              "(one dry run and one write per object still to do)")
        left = CONFIGMAPS - written_before
        assert (setup.configmaps(), setup.modified_configmaps(start_rv), patches_after, left > 0) == (
            {f"greeting-{i:02d}": "after-the-crash" for i in range(CONFIGMAPS)}, CONFIGMAPS, 2 * left, True)
    finally:
        restarted.process.kill()
        restarted.process.wait(10)


def test_sigterm_mid_apply_finishes_the_step_in_flight_records_it_and_exits_0(setup: Setup, served: Served):
    assert waits.until(lambda: setup.upstream.head() in served.applied(), seconds=30), served.logs()
    setup.sim.faults("dev").latency = 0.05
    start_rv = setup.latest_rv()
    pushed = push_greeting(setup, "finished-on-the-way-out")
    assert waits.until(lambda: setup.modified_configmaps(start_rv) >= 3, seconds=30), served.logs()
    served.process.send_signal(signal.SIGTERM)
    code = served.process.wait(60)
    store = stores.open_store(setup.workdir / "state.db")
    try:
        applied = [r.revision for r in store.revisions.history("fleet") if r.status is RevisionStatus.APPLIED]
    finally:
        store.close()
    events = [json.loads(line).get("event") for line in served.logs().splitlines() if line.startswith("{")]
    assert (code, "stopped" in events, set(setup.configmaps().values()), applied[0].endswith(pushed)) == (
        0, True, {"finished-on-the-way-out"}, True)


def test_readiness_and_health_answer_without_a_token(steady: Served):
    ready = httpx.get(f"{steady.url}/readyz", timeout=5)
    health = httpx.get(f"{steady.url}/healthz", timeout=5)
    assert (ready.status_code, ready.json()["checks"], health.status_code) == (
        200, {"store": "ok", "source:fleet": "ok"}, 200)


def test_an_edit_by_another_field_manager_is_reported_as_drift_by_the_drift_job(steady_world: Setup, steady: Served):
    from kubernetes import client

    core = client.CoreV1Api(steady_world.sim.api_client("dev"))
    core.patch_namespaced_config_map("greeting-07", "hello", {"data": {"message": "edited by hand"}},
                                     field_manager="intruder")

    def reported() -> list[dict[str, object]]:
        entries = steady.api("/api/v1/drift").json()["entries"]
        return [e for e in entries if "greeting-07" in str(e["object"])]

    assert waits.until(lambda: bool(reported()), seconds=30), steady.logs()[-3000:]
    entry = reported()[0]
    assert (entry["cluster"], entry["kind"], entry["changedBy"]["manager"]) == ("dev", "modified", "intruder")


def test_metrics_parse_and_carry_the_daemon_series(steady: Served):
    families = {family.name: family for family in text_string_to_metric_families(steady.api("/metrics").text)}
    revision = next(s.labels["revision"] for s in families["stackfleet_last_applied_revision_info"].samples)
    assert (SERIES - set(families), revision.rpartition(":")[2]) == (set(), steady.applied()[0])
