"""Fixtures of the pipeline tests: a small fleet written from a dict of files, sim clusters serving it,
and a session over a real SQLite store in tmp_path.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.core import drift as core_drift
from reconciler.core import targeting
from reconciler.engine import drift, fleetrun, gates, reconcile, sessions
from reconciler.kube.connections import ClientSettings
from reconciler.sim import fleets, testing
from reconciler.source import opening
from reconciler.spec import loader
from reconciler.store import stores


def write_files(root: Path, files: Mapping[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text.lstrip())
    return root


class Bench:
    """A fleet directory, the sim clusters it runs on and a store; ``plan``/``apply`` run the pipeline."""

    def __init__(self, running: testing.RunningSim, fleet: Path, state: Path) -> None:
        self.running, self.fleet = running, fleet
        self.store = stores.open_store(state)
        self.settings = ClientSettings(qps=1000, burst=1000, attempts=3, backoff=0.01)

    def session(self, repo: loader.FleetRepo) -> reconcile.Session:
        connections = sessions.connections_for(repo, kubeconfig=str(self.running.kubeconfig), settings=self.settings)
        return reconcile.Session(connections=connections, store=self.store, timing=gates.Timing(poll=0.01))

    def plan(self) -> reconcile.Planned:
        repo = loader.load(opening.open_tree(str(self.fleet)))
        return reconcile.plan_fleet(repo, session=self.session(repo))

    def apply(self, *, approve: bool = False, stages: frozenset[str] = frozenset()) -> reconcile.ApplyReport:
        """Apply as the daemon does: pauses are never waited out, ``stages`` approved."""
        planned = self.plan()
        rollout = fleetrun.Options(approved=stages, pause_limit=0.0, sleep=lambda _: None)
        options = reconcile.ApplyOptions(approve=approve, rollout=rollout)
        return reconcile.apply_plan(planned, session=self.session(planned.repo), options=options)

    def drift(self) -> core_drift.Report:
        """A drift scan of everything applied, as ``stackfleet drift`` runs it."""
        repo = loader.load(opening.open_tree(str(self.fleet)))
        return drift.scan(self.store, connections=self.session(repo).connections, fleet_name=repo.name,
                          policies=drift.policies_of(targeting.build(repo)), now=datetime.now(UTC))


CONFIG_BUNDLE = "{name: config, layer: addons, manifests: {path: config}}"


def one_cluster_fleet(cluster: str, config: str, *, bundle: str = CONFIG_BUNDLE) -> dict[str, str]:
    """A fleet of one cluster running stack ``apps`` 1.0.0 of one ``bundle`` (by default ``config``, the
    manifests ``config``)."""
    return {
        "fleet.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Fleet\nmetadata: {name: small}\nspec: {layers: [addons]}\n",
        f"clusters/{cluster}.yaml": f"""
apiVersion: stackfleet.dev/v1alpha1
kind: Cluster
metadata: {{name: {cluster}}}
spec:
  connection: {{context: {cluster}}}
  stacks: [{{name: apps, version: 1.0.0}}]
""",
        "stacks/apps/1.0.0/stack.yaml": f"""
apiVersion: stackfleet.dev/v1alpha1
kind: Stack
metadata: {{name: apps}}
spec:
  version: 1.0.0
  bundles:
    - {bundle}
""",
        "stacks/apps/1.0.0/config/objects.yaml": config,
    }


CHARTS = Path(__file__).resolve().parents[1] / "data" / "charts"


def chart_fleet(cluster: str, chart: str, *, namespace: str = "default", bundle: str = "") -> dict[str, str]:
    """A fleet of one cluster running chart ``chart`` of tests/data/charts (release ``web``) as bundle
    ``web`` in ``namespace``; ``bundle`` adds fields to the bundle (``, ignore: [...]``)."""
    spec = (f"{{name: web, layer: addons, namespace: {namespace}, "
            f"helm: {{chart: charts/{chart}, releaseName: web}}{bundle}}}")
    files = one_cluster_fleet(cluster, "", bundle=spec)
    files.pop("stacks/apps/1.0.0/config/objects.yaml")
    for path in sorted(p for p in (CHARTS / chart).rglob("*") if p.is_file()):
        files[f"stacks/apps/1.0.0/charts/{chart}/{path.relative_to(CHARTS / chart)}"] = path.read_text()
    return files


@pytest.fixture
def charted() -> Callable[..., dict[str, str]]:
    """``charted(cluster, chart, ...)``: the files of ``chart_fleet``."""
    return chart_fleet


@pytest.fixture
def small_fleet() -> Callable[..., dict[str, str]]:
    """``small_fleet(cluster, manifests)``: the files of ``one_cluster_fleet``."""
    return one_cluster_fleet


StartBench = Callable[[Mapping[str, str], list[str]], Bench]


@pytest.fixture
def bench_factory(tmp_path: Path) -> Iterator[StartBench]:
    """``bench_factory(files, clusters)`` -> a started ``Bench`` (stopped when the test ends)."""
    with ExitStack() as stack:

        def start(files: Mapping[str, str], clusters: list[str]) -> Bench:
            fleet = write_files(tmp_path / "fleet", files)
            running = stack.enter_context(testing.running(clusters=clusters, workdir=tmp_path, interval=0.01))
            bench = Bench(running, fleet, tmp_path / "state.db")
            stack.callback(bench.store.close)
            return bench

        yield start


@pytest.fixture
def reference(tmp_path: Path, fleet_dir: Path) -> Iterator[Bench]:
    """The reference fleet (a copy a test may edit) on sim clusters; children provisioned by the apply."""
    fleet = tmp_path / "reference"
    shutil.copytree(fleet_dir, fleet)
    with testing.running(clusters=[], workdir=tmp_path, interval=0.01) as running:
        fleets.start(running.server, fleets.layout(loader.load(opening.open_tree(str(fleet))).clusters))
        running.server.kubeconfig(running.kubeconfig)
        bench = Bench(running, fleet, tmp_path / "state.db")
        yield bench
        bench.store.close()
