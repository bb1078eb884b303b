"""The reliability harness: a small fleet on sim clusters, the real store and engine, captured logs,
a planted canary secret, the invariants of RELIABILITY.md checked after every case, and the figures.

``rig`` is one case's world. A case injects its fault, runs the engine, and ends with
``rig.check(area=..., dropped=...)``, which snapshots every live object of every cluster again and
checks I1 (nothing unowned touched), I2 (nothing owned deleted without cause) and I3 (the canary is
in no sink). ``figures`` is the session's collector; ``pytest_terminal_summary`` prints it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler import errors, logs
from reconciler.core import plan_views, plans, targeting
from reconciler.core.objects import read_owner
from reconciler.engine import drift, fleetrun, gates, reconcile, sessions
from reconciler.kube.connections import ClientSettings
from reconciler.sim import testing
from reconciler.source import opening
from reconciler.source.webhooks import WebhookReceiver
from reconciler.spec import loader
from reconciler.store import stores
from reconciler.web import catalogs
from reconciler.web import testing as web_testing
from reconciler.web.access import Tokens
from reconciler.web.services import Services

CANARY = "canary-7f3a9c2e51d04b8b-never-print-me"
CANARY_B64 = base64.b64encode(CANARY.encode()).decode()
CLUSTERS = ("c0", "c1", "c2")
READ_TOKEN = "reliability-read-token-31d9"
WRITE_VERBS = ("create", "update", "patch", "delete")
SINKS = ("logs", "diff", "plan file", "report", "api", "dashboard", "database", "errors")
FIGURES_KEY = pytest.StashKey["Figures"]()


# ---- figures --------------------------------------------------------------------------------------


@dataclass
class Figures:
    """What the suite measured; every number comes from a test that recorded it."""

    cases: dict[str, set[str]] = field(default_factory=dict)
    """Area -> the tests that injected a fault there."""
    broken: set[str] = field(default_factory=set)
    """Tests where an invariant did not hold."""
    bad_inputs_tried: int = 0
    bad_inputs_rejected: int = 0
    crashes: int = 0
    unowned_touched: int = 0
    owned_deleted_without_cause: int = 0
    missing_after_recovery: int = 0
    canary_hits: Counter[str] = field(default_factory=Counter)
    canary_scans: Counter[str] = field(default_factory=Counter)
    stale_plans_tried: int = 0
    stale_plans_applied: int = 0
    tampered_plans_tried: int = 0
    tampered_plans_applied: int = 0
    guarded_objects_tried: int = 0
    guarded_objects_applied: int = 0
    second_apply_runs: int = 0
    second_apply_writes: int = 0
    peak_429_rate: float = 0.0
    peak_rss_kib: dict[str, int] = field(default_factory=dict)
    kills: int = 0

    def fault(self, area: str, *, case: str, survived: bool = True) -> None:
        self.cases.setdefault(area, set()).add(case)
        if not survived:
            self.broken.add(case)

    def bad_input(self, *, rejected: bool) -> None:
        self.bad_inputs_tried += 1
        self.bad_inputs_rejected += int(rejected)

    def second_apply(self, writes: int) -> None:
        self.second_apply_runs += 1
        self.second_apply_writes += writes

    def lines(self) -> list[str]:
        per_area = ", ".join(f"{a} {len(c - self.broken)}/{len(c)}" for a, c in sorted(self.cases.items())) or "none"
        sinks = ", ".join(f"{s} {self.canary_hits[s]} in {self.canary_scans[s]} scans" for s in SINKS)
        rss = ", ".join(f"{k} {v / 1024:.1f} MiB" for k, v in sorted(self.peak_rss_kib.items())) or "not measured"
        return [
            f"faults injected and survived (per area): {per_area}",
            f"bad inputs rejected with a clear error: {self.bad_inputs_rejected}/{self.bad_inputs_tried}",
            f"crashes: {self.crashes}",
            f"kill -9 of stackfleet apply: {self.kills}",
            f"unowned objects touched: {self.unowned_touched}",
            f"owned objects deleted without cause: {self.owned_deleted_without_cause}",
            f"objects missing after recovery: {self.missing_after_recovery}",
            f"canary hits (per sink): {sinks}",
            f"stale plans applied: {self.stale_plans_applied} of {self.stale_plans_tried} tried",
            f"tampered plans applied: {self.tampered_plans_applied} of {self.tampered_plans_tried} tried",
            f"guarded objects applied: {self.guarded_objects_applied} of {self.guarded_objects_tried} tried",
            f"writes on a second identical apply: {self.second_apply_writes} over {self.second_apply_runs} runs",
            f"peak request rate under 429: {self.peak_429_rate:.1f} req/s",
            f"peak RSS under the bomb inputs: {rss}",
        ]


def pytest_configure(config: pytest.Config) -> None:
    config.stash[FIGURES_KEY] = Figures()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    found = config.stash.get(FIGURES_KEY, None)
    if found is None or not (found.cases or found.bad_inputs_tried or found.crashes):
        return
    terminalreporter.section("reliability figures")
    for line in found.lines():
        terminalreporter.write_line(line)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A test that ended in an exception other than a failed assert counts as a crash."""
    made = yield
    if call.excinfo is not None and not call.excinfo.errisinstance((AssertionError, pytest.skip.Exception)):
        item.config.stash[FIGURES_KEY].crashes += 1
    return made


@pytest.fixture
def figures(pytestconfig: pytest.Config) -> Figures:
    return pytestconfig.stash[FIGURES_KEY]


# ---- the fleet ------------------------------------------------------------------------------------


HEADER = "apiVersion: stackfleet.dev/v1alpha1\nkind: {kind}\nmetadata: {{name: {name}}}\n"
FLEET_YAML = HEADER.format(kind="Fleet", name="rely") + (
    "spec: {layers: [infra, addons], assignments: [{name: apps, selector: {matchLabels: {role: worker}},"
    " stacks: [{name: apps, version: 1.0.0}], rollout: {maxInFlight: 3, failureBudget: 3}}]}\n")
BUNDLES = {"base": "{layer: infra}", "config": "{layer: addons, namespace: apps}",
           "secrets": "{layer: addons, namespace: apps}"}


def stack_yaml() -> str:
    bundles = "".join(f"  - {{name: {n}, manifests: {{path: {n}}}, {b[1:]}\n" for n, b in BUNDLES.items())
    return HEADER.format(kind="Stack", name="apps") + "spec:\n  version: 1.0.0\n  bundles:\n" + bundles


CONFIG_MAPS = "stacks/apps/1.0.0/config/cms.yaml"
WIDGET_CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.dev}
spec:
  group: example.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""
"""A namespaced custom resource kind, Widget.example.dev (with the CRD's Widget objects after it)."""


def cluster_yaml(name: str) -> str:
    return (f"apiVersion: stackfleet.dev/v1alpha1\nkind: Cluster\nmetadata: {{name: {name}, labels: {{role: worker}}}}\n"
            f"spec: {{connection: {{context: {name}}}}}\n")


def config_maps(count: int) -> str:
    docs = [f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}}}\ndata: {{index: '{i}'}}\n" for i in range(count)]
    return "---\n".join(docs)


def secret_yaml() -> str:
    return (f"apiVersion: v1\nkind: Secret\nmetadata: {{name: app-secret}}\ntype: Opaque\n"
            f"data: {{payload: {CANARY_B64}}}\nstringData: {{note: {CANARY}}}\n")


def fleet_files(config_map_count: int = 6) -> dict[str, str]:
    files = {"fleet.yaml": FLEET_YAML, "stacks/apps/1.0.0/stack.yaml": stack_yaml(),
             "stacks/apps/1.0.0/base/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n",
             CONFIG_MAPS: config_maps(config_map_count), "stacks/apps/1.0.0/secrets/secret.yaml": secret_yaml()}
    files.update({f"clusters/{name}.yaml": cluster_yaml(name) for name in CLUSTERS})
    return files


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text.lstrip())
    return root


# ---- snapshots and invariants ---------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    uid: str
    version: str
    digest: str
    owned: bool


LiveKey = tuple[str, str, str, str]
"""(cluster, kind, namespace, name)."""


def snapshot(running: testing.RunningSim) -> dict[LiveKey, Seen]:
    """Every live object of every sim cluster: uid, resourceVersion, content hash, and whether it is ours."""
    seen: dict[LiveKey, Seen] = {}
    for name, cluster in running.server.clusters.items():
        for rt, obj in cluster.all_objects():
            meta = obj["metadata"]
            key = (name, rt.kind, str(meta.get("namespace") or ""), str(meta["name"]))
            seen[key] = Seen(str(meta["uid"]), str(meta["resourceVersion"]), _digest(obj), read_owner(obj) is not None)
    return seen


def _digest(obj: Mapping[str, Any]) -> str:
    body = {k: v for k, v in obj.items() if k not in ("status", "metadata")}
    meta = {k: v for k, v in obj["metadata"].items() if k in ("labels", "annotations", "finalizers")}
    return hashlib.sha256(json.dumps([body, meta], sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Violations:
    unowned_touched: list[LiveKey]
    owned_deleted: list[LiveKey]


def compare(before: Mapping[LiveKey, Seen], after: Mapping[LiveKey, Seen], *,
            dropped: Iterable[LiveKey] = ()) -> Violations:
    """I1: unowned objects kept uid and content; I2: owned objects gone only if ``dropped`` names them."""
    allowed = set(dropped)
    touched = [k for k, s in before.items() if not s.owned and _changed(s, after.get(k))]
    deleted = [k for k, s in before.items() if s.owned and _gone(s, after.get(k)) and k not in allowed]
    return Violations(sorted(touched), sorted(deleted))


def _changed(before: Seen, after: Seen | None) -> bool:
    return after is None or after.uid != before.uid or after.digest != before.digest


def _gone(before: Seen, after: Seen | None) -> bool:
    return after is None or after.uid != before.uid


def canary_in(text: str | bytes) -> bool:
    data = text.encode() if isinstance(text, str) else text
    return CANARY.encode() in data or CANARY_B64.encode() in data


def database_bytes(path: Path) -> bytes:
    """The SQLite file with its WAL and shared-memory files, as they are on disk.

    Read by another process: closing a descriptor of the database file in this process would drop the
    POSIX locks the store's open connections hold on it (and let a writer in another process corrupt
    what they see)."""
    found = [str(p) for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")) if p.exists()]
    return subprocess.run(["cat", *found], capture_output=True, check=False, timeout=30).stdout if found else b""


# ---- the rig --------------------------------------------------------------------------------------


class Rig:
    """A fleet directory, three sim clusters serving it, the real store, captured JSON logs."""

    def __init__(self, running: testing.RunningSim, fleet: Path, state: Path, figures: Figures, *, case: str) -> None:
        self.running, self.fleet, self.state, self.figures, self.case = running, fleet, state, figures, case
        self.settings = ClientSettings(qps=1000, burst=1000, attempts=3, backoff=0.01, timeout=5.0)
        self.store = stores.open_store(state)
        self.baseline: dict[LiveKey, Seen] = {}
        self.canary, self.read_token = CANARY, READ_TOKEN
        self.texts: dict[str, list[str]] = {sink: [] for sink in SINKS}

    # -- driving the engine
    def repo(self) -> loader.FleetRepo:
        return loader.load(opening.open_tree(str(self.fleet)))

    def session(self, repo: loader.FleetRepo | None = None) -> reconcile.Session:
        repo = repo or self.repo()
        connections = sessions.connections_for(repo, kubeconfig=str(self.running.kubeconfig), settings=self.settings)
        return reconcile.Session(connections=connections, store=self.store, timing=gates.Timing(poll=0.01))

    def plan(self, repo: loader.FleetRepo | None = None) -> reconcile.Planned:
        """Plan the fleet directory (or ``repo``, e.g. loaded from a Git commit)."""
        repo = repo or self.repo()
        planned = reconcile.plan_fleet(repo, session=self.session(repo))
        self.keep("diff", plan_views.text(planned.plan, detail=True))
        self.keep("plan file", plans.to_json(planned.plan))
        self.keep("report", plan_views.markdown(planned.plan))
        return planned

    def apply(self, planned: reconcile.Planned | None = None, *, approve: bool = True) -> reconcile.ApplyReport:
        planned = planned or self.plan()
        options = reconcile.ApplyOptions(approve=approve, rollout=fleetrun.Options(pause_limit=1e9, sleep=lambda _: None))
        done = reconcile.apply_plan(planned, session=self.session(planned.repo), options=options)
        self.keep("report", repr(done))
        return done

    def converge(self) -> reconcile.ApplyReport:
        """Apply, then check a second identical apply writes nothing (recorded in the figures)."""
        first = self.apply()
        before = self.writes()
        self.apply()
        self.figures.second_apply(self.writes() - before)
        return first

    def writes(self, cluster: str | None = None) -> int:
        chosen = [cluster] if cluster else list(self.running.server.clusters)
        return sum(self.running.faults(c).total(verb) for c in chosen for verb in WRITE_VERBS)

    def keep_config_maps(self, count: int) -> None:
        """Cut the config bundle down to ``cm-0`` .. ``cm-<count-1>`` (from the 6 it starts with)."""
        self.edit(CONFIG_MAPS, config_maps(6), config_maps(count))

    def set_config_maps(self, count: int, *, tag: str = "") -> None:
        """The config bundle as ``count`` ConfigMaps whose data says ``<tag><index>``."""
        self.write(CONFIG_MAPS, config_maps(count).replace("index: '", f"index: '{tag}"))

    @staticmethod
    def config_maps_of(names: Iterable[str], *, clusters: Iterable[str] = CLUSTERS) -> list[LiveKey]:
        """Live keys of the config bundle's ConfigMaps ``names`` on ``clusters`` (for ``dropped=``)."""
        return [(c, "ConfigMap", "apps", n) for c in clusters for n in names]

    def write(self, relative: str, text: str) -> None:
        write_tree(self.fleet, {relative: text})

    def scan_drift(self) -> Any:
        """The real drift scan over what was applied; its report is kept for the canary scan."""
        repo = self.repo()
        found = drift.scan(self.store, connections=self.session(repo).connections, fleet_name=repo.name,
                           policies=drift.policies_of(targeting.build(repo)), now=datetime.now(UTC))
        self.keep("report", repr(found))
        return found

    def heal(self, found: Any) -> reconcile.ApplyReport | None:
        repo = self.repo()
        return drift.heal(found, repo=repo, session=self.session(repo))

    @contextmanager
    def dashboard(self, *, webhooks: WebhookReceiver | None = None) -> Iterator[httpx.Client]:
        """The real web app over this rig's store on 127.0.0.1; every answer is kept for the canary scan."""
        services = Services(store=self.store, tokens=Tokens.of(read=[READ_TOKEN]), clock=lambda: datetime.now(UTC),
                            catalog=lambda: catalogs.from_repo(self.repo()), sources=("fleet",), webhooks=webhooks)
        with web_testing.running(services) as (_server, client):
            client.event_hooks["response"] = [self._keep_answer]
            yield client

    def _keep_answer(self, answer: httpx.Response) -> None:
        answer.read()
        self.keep("api" if answer.url.path.startswith("/api/") else "dashboard", answer.text)

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.fleet / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))

    # -- invariants
    def settle(self) -> None:
        """Take the baseline all later checks compare with."""
        self.running.tick()
        self.baseline = snapshot(self.running)

    def live(self) -> dict[LiveKey, Seen]:
        """What every cluster holds now (the baseline stays as it is)."""
        self.running.tick()
        return snapshot(self.running)

    def keep(self, sink: str, text: str) -> None:
        self.texts[sink].append(text)

    def error(self, exc: BaseException, *, names: Iterable[str]) -> None:
        """I5: ``exc`` is a stackfleet error naming every one of ``names``."""
        text = str(exc)
        self.keep("errors", text)
        assert isinstance(exc, errors.StackfleetError), f"untyped error {type(exc).__name__}: {text}"
        missing = [n for n in names if n not in text]
        assert not missing, f"error does not name {missing}: {text}"

    def check(self, *, area: str, dropped: Iterable[LiveKey] = (), logs_text: str = "") -> None:
        """I1, I2 against the baseline and I3 over every sink; record the fault as survived when all hold.

        The objects seen now become the baseline of the next check."""
        self.running.tick()
        now = snapshot(self.running)
        found = compare(self.baseline, now, dropped=dropped)
        self.baseline = now
        self.figures.unowned_touched += len(found.unowned_touched)
        self.figures.owned_deleted_without_cause += len(found.owned_deleted)
        hits = self.scan_canary(logs_text)
        self.figures.fault(area, case=self.case, survived=not (found.unowned_touched or found.owned_deleted or hits))
        assert found.unowned_touched == [], f"I1: unowned objects touched: {found.unowned_touched}"
        assert found.owned_deleted == [], f"I2: owned objects deleted without cause: {found.owned_deleted}"
        assert hits == {}, f"I3: canary found in {hits}"

    def scan_canary(self, logs_text: str) -> dict[str, int]:
        self.keep("logs", logs_text)
        self.keep("database", database_bytes(self.state).decode("latin-1"))
        hits: dict[str, int] = {}
        for sink, texts in self.texts.items():
            count = sum(1 for t in texts if canary_in(t))
            self.figures.canary_scans[sink] += len(texts)
            self.figures.canary_hits[sink] += count
            if count:
                hits[sink] = count
            texts.clear()
        return hits


class LogCapture:
    """Every log line (structlog and stdlib) as JSON at debug level, for the canary scan."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def text(self) -> str:
        return self.buffer.getvalue()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text().splitlines() if line.startswith("{")]


@pytest.fixture
def captured_logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    logs.configure(level="debug", stream=capture.buffer, output="json")
    yield capture
    logs.configure(level="warning", stream=sys.stderr, output="json")
    logging.getLogger().setLevel(logging.WARNING)


def plant_unowned(running: testing.RunningSim) -> None:
    """In every cluster: a ConfigMap and a Secret holding the canary that are not ours, in a namespace of theirs."""
    from kubernetes import client as kube

    for name in running.names:
        core = kube.CoreV1Api(running.api_client(name))
        core.create_namespace({"metadata": {"name": "theirs"}})
        core.create_namespaced_config_map("theirs", {"metadata": {"name": "bystander"}, "data": {"k": "v"}})
        core.create_namespaced_secret("theirs", {"metadata": {"name": "live-canary"}, "data": {"token": CANARY_B64}})


@pytest.fixture
def rig(tmp_path: Path, figures: Figures, captured_logs: LogCapture, request: pytest.FixtureRequest) -> Iterator[Rig]:
    """Three clusters c0..c2 with unowned objects planted; the fleet (Namespace, 6 ConfigMaps, a canary
    Secret per cluster) is not applied yet."""
    fleet = write_tree(tmp_path / "fleet", fleet_files())
    with testing.running(clusters=list(CLUSTERS), workdir=tmp_path, interval=0.01) as running:
        plant_unowned(running)
        built = Rig(running, fleet, tmp_path / "state.db", figures, case=request.node.nodeid)
        built.settle()
        yield built
        built.store.close()


@pytest.fixture
def applied(rig: Rig) -> Rig:
    """The rig with the fleet applied and converged; the baseline taken after."""
    done = rig.converge()
    assert not done.failed, done.outcomes
    rig.settle()
    return rig


# ---- a Git remote over smart HTTP, with faults --------------------------------------------------


class GitHandler(BaseHTTPRequestHandler):
    """``git http-backend`` as CGI, unless the server's ``mode`` says to fail: ``"500"``, ``"401"``,
    ``"down"`` (the connection is dropped unanswered) or ``"hang"`` (no answer until the server stops)."""

    server: GitServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    def answer(self) -> None:
        mode = self.server.mode
        if mode == "down":
            self.close_connection = True
            return
        if mode == "hang":
            self.server.stopping.wait(30)
            return
        if mode in ("500", "401"):
            self.send_response(int(mode))
            if mode == "401":
                self.send_header("WWW-Authenticate", 'Basic realm="fleet"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.cgi()

    def cgi(self) -> None:
        path, _, query = self.path.partition("?")
        env = {**os.environ, "GIT_PROJECT_ROOT": str(self.server.root), "GIT_HTTP_EXPORT_ALL": "1",
               "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""), "REMOTE_ADDR": "127.0.0.1"}
        done = subprocess.run(["git", "http-backend"], input=self.body(), env=env, capture_output=True, timeout=30)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        fields = [line.split(":", 1) for line in head.decode().split("\r\n") if ":" in line]
        status = next((int(v.split()[0]) for k, v in fields if k.lower() == "status"), 200)
        self.send_response(status)
        for key, value in fields:
            if key.lower() != "status":
                self.send_header(key, value.strip())
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))
        chunks = []
        while size := int(self.rfile.readline().strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        self.rfile.readline()
        return b"".join(chunks)

    def log_message(self, format: str, *args: Any) -> None:
        return


class GitServer(ThreadingHTTPServer):
    """Serves the bare repos under ``root`` on 127.0.0.1 until ``stop()``."""

    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), GitHandler)
        self.root, self.mode, self.stopping = root, "ok", threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self.thread.join(5)


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.dev", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.dev"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


@dataclass
class Remote:
    """The rig's fleet directory as a Git work tree pushing to a bare repo the ``server`` serves."""

    work: Path
    server: GitServer
    rig: Rig

    @property
    def url(self) -> str:
        return self.server.url("fleet.git")

    def commit(self, message: str, *, amend: bool = False, key: Path | None = None) -> str:
        """Commit the work tree (signed with the SSH ``key`` when given) and force-push it to ``main``."""
        signing = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"] if key else []
        git(self.work, "add", "-A")
        git(self.work, *signing, "commit", "-q", *(["-S"] if key else []), "-m", message, *(["--amend"] if amend else []))
        git(self.work, "push", "-q", "--force", "origin", "main")
        return git(self.work, "rev-parse", "HEAD").strip()


@pytest.fixture
def remote(applied: Rig, tmp_path: Path) -> Iterator[Remote]:
    """The applied rig's fleet committed on ``main`` of a bare repo served over smart HTTP."""
    served = tmp_path / "served"
    served.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(served / "fleet.git")], check=True)
    git(applied.fleet, "init", "-q", "-b", "main")
    git(applied.fleet, "remote", "add", "origin", str(served / "fleet.git"))
    server = GitServer(served)
    built = Remote(applied.fleet, server, applied)
    built.commit("fleet")
    yield built
    server.stop()
