"""The daemon on sim clusters, seen from its dashboard and API (issue 12, "Done when"): a held stage is
reported everywhere and applied once approved through the API; a stage whose workload never gets
healthy keeps the next stage from starting and says why; a pause survives a daemon restart and a new
commit and ends when its time is up.

The daemon's jobs are driven by hand (``poll``, ``reconcile``) instead of its scheduler, so each step
is one reconcile; the rollout's clock is the pipeline's ``clock``, moved by the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from reconciler.daemon.jobs import Daemon
from reconciler.daemon.journals import StoreJournal
from reconciler.daemon.operators import DaemonOperator
from reconciler.daemon.pipelines import EnginePipeline
from reconciler.daemon.tracks import Track
from reconciler.kube.connections import ClientSettings
from reconciler.sim import fleets, testing
from reconciler.source import opening
from reconciler.source.git import Mirror
from reconciler.source.sources import GitSource
from reconciler.spec import loader
from reconciler.store import stores
from reconciler.web import apps, servers
from reconciler.web.access import Tokens
from reconciler.web.services import Services

READ, ADMIN = "daemon-read-token-77a1", "daemon-admin-token-3c9e"


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ops Person", "GIT_AUTHOR_EMAIL": "ops@example.dev",
           "GIT_COMMITTER_NAME": "Ops Person", "GIT_COMMITTER_EMAIL": "ops@example.dev"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def edit(repo: Path, relative: str, old: str, new: str) -> None:
    path = repo / relative
    text = path.read_text()
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1))


@dataclass
class Clock:
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.at


@dataclass
class Daemons:
    """A fleet repo in Git, sim clusters, one store; ``boot()`` starts a daemon (again) over them."""

    repo: Path
    kubeconfig: Path
    state: Path
    stack: ExitStack
    clock: Clock = field(default_factory=Clock)
    daemon: Daemon | None = None
    track: Track | None = None
    api: httpx.Client | None = None

    def boot(self) -> None:
        """A fresh daemon, pipeline, store handle and web app (what a restart makes)."""
        store = stores.open_store(self.state)
        self.stack.callback(store.close)
        pipeline = EnginePipeline(store=store, kubeconfig=str(self.kubeconfig), clock=self.clock,
                                  client_settings=ClientSettings(qps=1000, burst=1000, attempts=3, backoff=0.01))
        self.stack.callback(pipeline.close)
        mirror = Mirror(self.repo.as_uri(), cache_dir=self.state.parent / f"mirrors-{id(pipeline)}")
        self.track = Track("fleet", GitSource(mirror, ref="main"))
        self.daemon = Daemon([self.track], pipeline=pipeline, journal=StoreJournal(store), drift=pipeline)
        services = Services(store=store, tokens=Tokens.of(read=[READ], admin=[ADMIN]), clock=self.clock,
                            catalog=lambda: pipeline.catalog, sources=("fleet",),
                            operator=DaemonOperator(self.daemon, pipeline))
        web = self.stack.enter_context(servers.serve(apps.create_app(services)))
        self.api = self.stack.enter_context(httpx.Client(base_url=web.url, timeout=30,
                                                         headers={"Authorization": f"Bearer {ADMIN}"}))

    def poll(self) -> None:
        assert self.daemon is not None and self.track is not None
        self.daemon.poll(self.track)

    def reconcile(self) -> None:
        assert self.daemon is not None and self.track is not None
        self.daemon.reconcile(self.track)

    def get(self, path: str) -> httpx.Response:
        assert self.api is not None
        return self.api.get(path)


def in_git(source: Path, repo: Path) -> Path:
    shutil.copytree(source, repo)
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "the fleet <first> & co")
    return repo


@pytest.fixture
def reference_daemon(tmp_path: Path, fleet_dir: Path) -> Iterator[Daemons]:
    repo = in_git(fleet_dir, tmp_path / "repo")
    with ExitStack() as stack:
        running = stack.enter_context(testing.running(clusters=[], workdir=tmp_path, interval=0.01))
        fleets.start(running.server, fleets.layout(loader.load(opening.open_tree(str(repo))).clusters))
        running.server.kubeconfig(running.kubeconfig)
        built = Daemons(repo, running.kubeconfig, tmp_path / "state.db", stack)
        built.boot()
        yield built


TWO_STAGES = {
    "fleet.yaml": """
apiVersion: stackfleet.dev/v1alpha1
kind: Fleet
metadata: {name: staged}
spec:
  layers: [addons]
  assignments:
    - name: apps
      selector: {matchLabels: {role: worker}}
      stacks: [{name: apps, version: 1.0.0}]
      rollout:
        failureBudget: 1
        stages:
          - {name: staging, selector: {matchLabels: {env: staging}}}
          - {name: prod, selector: {matchLabels: {env: prod}}, pause: 10m}
""",
    "clusters/staging.yaml": """
apiVersion: stackfleet.dev/v1alpha1
kind: Cluster
metadata: {name: staging, labels: {role: worker, env: staging}}
spec: {connection: {context: staging}}
""",
    "clusters/prod.yaml": """
apiVersion: stackfleet.dev/v1alpha1
kind: Cluster
metadata: {name: prod, labels: {role: worker, env: prod}}
spec: {connection: {context: prod}}
""",
    "stacks/apps/1.0.0/stack.yaml": """
apiVersion: stackfleet.dev/v1alpha1
kind: Stack
metadata: {name: apps}
spec:
  version: 1.0.0
  bundles:
    - {name: web, layer: addons, namespace: apps, healthTimeout: 1s, manifests: {path: web}}
""",
    "stacks/apps/1.0.0/web/all.yaml": """
apiVersion: v1
kind: Namespace
metadata: {name: apps}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: apps}
data: {mode: fast}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.25"}]}
""",
}

StartSmall = Callable[..., Daemons]


@pytest.fixture
def small_daemon(tmp_path: Path) -> Iterator[StartSmall]:
    """``small_daemon(ready_after=...)``: the two-stage fleet on two sim clusters under a daemon."""
    with ExitStack() as stack:
        def start(*, ready_after: float = 0.0) -> Daemons:
            source = tmp_path / "files"
            for relative, text in TWO_STAGES.items():
                (source / relative).parent.mkdir(parents=True, exist_ok=True)
                (source / relative).write_text(text.lstrip())
            repo = in_git(source, tmp_path / "repo")
            running = stack.enter_context(testing.running(clusters=["staging", "prod"], workdir=tmp_path,
                                                          interval=0.01, ready_after=ready_after))
            built = Daemons(repo, running.kubeconfig, tmp_path / "state.db", stack)
            built.boot()
            return built

        yield start


def unit_of(daemons: Daemons, cluster: str, assignment: str) -> dict[str, object]:
    units = daemons.get(f"/api/v1/clusters/{cluster}").json()["units"]
    return next(u for u in units if u["assignment"] == assignment)


def test_a_held_stage_is_reported_everywhere_and_applied_once_approved_through_the_api(reference_daemon) -> None:
    reference_daemon.poll()
    fleet_page = reference_daemon.get("/").text
    cluster_page = reference_daemon.get("/clusters/prod-us-1").text
    served = reference_daemon.get("/api/v1/clusters/prod-us-1").json()
    revision = reference_daemon.get("/api/v1/revisions").json()["sources"]["fleet"][0]
    assert 'data-cluster="prod-us-1" data-state="awaiting-approval"' in fleet_page
    assert "awaiting approval of stage platform-stable/prod-rest" in cluster_page
    assert (served["state"], unit_of(reference_daemon, "prod-us-1", "platform-stable")["state"]) == (
        "awaiting-approval", "awaiting-approval")
    assert revision["summary"] == "partly applied: waiting for approval of platform-stable/prod-rest"
    approved = reference_daemon.api.post("/api/v1/assignments/platform-stable/stages/prod-rest/approve")
    reference_daemon.reconcile()
    after = reference_daemon.get("/api/v1/clusters/prod-us-1").json()
    revision = reference_daemon.get("/api/v1/revisions").json()["sources"]["fleet"][0]
    assert approved.status_code == 200
    assert (unit_of(reference_daemon, "prod-us-1", "platform-stable")["state"], after["state"]) == (
        "healthy", "in-sync")
    assert revision["summary"] == "applied"
    assert [p["status"] for p in reference_daemon.get("/api/v1/plans").json()["plans"]] == ["applied", "applied"]


def test_a_stage_whose_workload_never_gets_healthy_keeps_the_next_one_from_starting(small_daemon) -> None:
    daemons = small_daemon(ready_after=1e9)
    daemons.poll()
    daemons.reconcile()  # the daemon's next run finds staging applied and still not healthy
    prod = unit_of(daemons, "prod", "apps")
    page = daemons.get("/rollouts/apps").text
    assert (unit_of(daemons, "staging", "apps")["state"], prod["state"]) == ("applied", "waiting-for-previous-stage")
    assert prod["reason"] == "stage apps/staging is not done: 0 of 1 unit(s) healthy (applied)"
    assert prod["reason"] in page
    assert daemons.get("/api/v1/clusters/prod").json()["bundles"][0]["state"] == "waiting-for-previous-stage"


def test_a_revision_shows_its_commits_subject_and_author_escaped(small_daemon) -> None:
    daemons = small_daemon()
    daemons.poll()
    revision = daemons.get("/api/v1/revisions").json()["sources"]["fleet"][0]
    page = daemons.get("/revisions").text
    assert (revision["subject"], revision["author"]) == ("the fleet <first> & co", "Ops Person")
    assert "the fleet &lt;first&gt; &amp; co" in page and "<first>" not in page


def test_a_pause_survives_a_restart_and_a_new_commit_and_ends_on_time(small_daemon) -> None:
    daemons = small_daemon()
    daemons.poll()  # first installs: not paused
    edit(daemons.repo, "stacks/apps/1.0.0/web/all.yaml", "mode: fast", "mode: slow")
    commit(daemons.repo, "slow mode")
    daemons.poll()
    paused = unit_of(daemons, "prod", "apps")
    daemons.clock.at += timedelta(minutes=5)
    daemons.boot()  # a restart, then a commit that leaves staging alone
    (daemons.repo / "NOTES.md").write_text("nothing rolled out here\n")
    commit(daemons.repo, "notes")
    daemons.poll()
    still = unit_of(daemons, "prod", "apps")
    daemons.clock.at += timedelta(minutes=5)
    daemons.reconcile()
    assert (paused["state"], still["state"], still["until"]) == ("paused", "paused", paused["until"])
    assert unit_of(daemons, "prod", "apps")["state"] == "healthy"


def test_a_held_change_set_approved_through_the_api_is_applied(small_daemon) -> None:
    daemons = small_daemon()
    daemons.poll()
    edit(daemons.repo, "fleet.yaml", "spec:\n", "spec:\n  policy: {protectedKinds: [ConfigMap]}\n")
    manifests = daemons.repo / "stacks/apps/1.0.0/web/all.yaml"
    documents = manifests.read_text().split("---\n")
    manifests.write_text("---\n".join(d for d in documents if "kind: ConfigMap" not in d))
    commit(daemons.repo, "drop the settings ConfigMap (a protected kind here)")
    daemons.poll()
    held = (unit_of(daemons, "staging", "apps")["state"], objects_of(daemons, "staging"))
    plan = daemons.get("/api/v1/plans").json()["plans"][0]["id"]
    approved = daemons.api.post(f"/api/v1/plans/{plan}/approve")
    daemons.reconcile()
    assert (held, approved.status_code) == (("awaiting-approval", 3), 200)
    assert (unit_of(daemons, "staging", "apps")["state"], objects_of(daemons, "staging")) == ("healthy", 2)


def objects_of(daemons: Daemons, cluster: str) -> int:
    bundles = daemons.get(f"/api/v1/clusters/{cluster}").json()["bundles"]
    return sum(int(b["objects"]) for b in bundles)


def test_every_apply_run_is_an_event_and_a_held_unit_is_told_once(small_daemon) -> None:
    daemons = small_daemon()
    daemons.poll()
    edit(daemons.repo, "stacks/apps/1.0.0/web/all.yaml", "mode: fast", "mode: slow")
    commit(daemons.repo, "slow mode")
    daemons.poll()
    daemons.reconcile()
    reasons = [e["reason"] for e in daemons.get("/api/v1/events").json()["events"]]
    paused = [e["message"] for e in daemons.get("/api/v1/events").json()["events"] if e["reason"] == "StagePaused"]
    assert (reasons.count("ApplyRun"), reasons.count("StagePaused")) == (3, 1)
    assert paused[0].startswith("apps on prod is paused: stage apps/prod opens at ")
