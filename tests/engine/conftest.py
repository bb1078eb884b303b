"""Fixtures of the engine tests: the reference fleet (or a small one) on sim clusters, and a session over
the real SQLite store in tmp_path.

``world.plan()`` / ``world.apply()`` run the real pipeline; ``world.sim`` is the running sim server.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.engine import fleetrun, gates, reconcile, sessions
from reconciler.kube.connections import ClientSettings
from reconciler.render import fleet as fleet_render
from reconciler.sim import fleets, testing
from reconciler.source import opening
from reconciler.spec import loader
from reconciler.store import stores


def copy_reference_fleet(source: Path, target: Path) -> Path:
    """A copy of the reference fleet that a test may edit."""
    shutil.copytree(source, target)
    return target


class World:
    """A fleet repo directory, sim clusters serving it, and a store."""

    def __init__(self, running: testing.RunningSim, fleet: Path, state: Path) -> None:
        self.running, self.fleet, self.state = running, fleet, state
        self.settings = ClientSettings(qps=1000, burst=1000, attempts=5, backoff=0.01)
        self.store = stores.open_store(state)
        self.render_options = fleet_render.Options()
        self.later = timedelta()
        """How far the session's clock runs ahead of the wall clock (a test moves time by adding to it)."""

    @property
    def sim(self) -> testing.RunningSim:
        return self.running

    def repo(self) -> loader.FleetRepo:
        return loader.load(opening.open_tree(str(self.fleet)))

    def start_clusters(self, *, provision: bool = False) -> None:
        fleets.start(self.running.server, fleets.layout(self.repo().clusters), provision=provision)
        self.running.server.kubeconfig(self.running.kubeconfig)

    def session(self, repo: loader.FleetRepo | None = None) -> reconcile.Session:
        repo = repo or self.repo()
        connections = sessions.connections_for(repo, kubeconfig=str(self.running.kubeconfig), settings=self.settings)
        return reconcile.Session(connections=connections, store=self.store, render_options=self.render_options,
                                 timing=gates.Timing(poll=0.01), now=lambda: datetime.now(UTC) + self.later)

    def plan(self, **kwargs: Any) -> reconcile.Planned:
        repo = self.repo()
        return reconcile.plan_fleet(repo, session=self.session(repo), **kwargs)

    def apply(self, planned: reconcile.Planned | None = None, *, approve: bool = True,
              stages: frozenset[str] = frozenset(), pause_limit: float = 1e9) -> reconcile.ApplyReport:
        planned = planned or self.plan()
        options = reconcile.ApplyOptions(approve=approve, rollout=fleetrun.Options(
            approved=stages, pause_limit=pause_limit, sleep=lambda _: None))
        return reconcile.apply_plan(planned, session=self.session(planned.repo), options=options)

    def writes(self) -> int:
        """Write requests (create, update, patch, delete) the sim counted on every cluster, dry-runs included."""
        return sum(c.faults.total(verb) for c in self.running.server.clusters.values()
                   for verb in ("create", "update", "patch", "delete"))

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.fleet / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))


@pytest.fixture
def world(tmp_path: Path, fleet_dir: Path) -> Iterator[World]:
    """The reference fleet on sim clusters (children provisioned through the simulated Cluster API)."""
    fleet = copy_reference_fleet(fleet_dir, tmp_path / "fleet")
    with testing.running(clusters=[], workdir=tmp_path, interval=0.01) as running:
        built = World(running, fleet, tmp_path / "state.db")
        built.start_clusters()
        yield built
        built.store.close()


SMALL_FLEET = {
    "fleet.yaml": """
apiVersion: stackfleet.dev/v1alpha1
kind: Fleet
metadata: {name: small}
spec:
  layers: [infra, addons]
  assignments:
    - name: apps
      selector: {matchLabels: {role: worker}}
      stacks: [{name: apps, version: 1.0.0}]
      rollout: {maxInFlight: 2, failureBudget: 0}
""",
    "clusters/c0.yaml": """
apiVersion: stackfleet.dev/v1alpha1
kind: Cluster
metadata: {name: c0, labels: {role: worker}}
spec: {connection: {context: c0}}
""",
    "stacks/apps/1.0.0/stack.yaml": """
apiVersion: stackfleet.dev/v1alpha1
kind: Stack
metadata: {name: apps}
spec:
  version: 1.0.0
  bundles:
    - {name: base, layer: infra, manifests: {path: base}}
    - {name: config, layer: addons, namespace: apps, manifests: {path: config}}
""",
    "stacks/apps/1.0.0/base/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n",
}


def config_maps(count: int, *, namespace: str = "") -> str:
    docs = []
    for i in range(count):
        where = f", namespace: {namespace}" if namespace else ""
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}{where}}}\ndata: {{index: '{i}'}}\n")
    return "---\n".join(docs)


@pytest.fixture
def small(tmp_path: Path) -> Iterator[World]:
    """A one-cluster fleet: a Namespace bundle and a bundle of 6 ConfigMaps (``config/cms.yaml``)."""
    fleet = tmp_path / "small"
    for relative, text in {**SMALL_FLEET, "stacks/apps/1.0.0/config/cms.yaml": config_maps(6)}.items():
        (fleet / relative).parent.mkdir(parents=True, exist_ok=True)
        (fleet / relative).write_text(text.lstrip())
    with testing.running(clusters=["c0"], workdir=tmp_path, interval=0.01) as running:
        built = World(running, fleet, tmp_path / "state.db")
        yield built
        built.store.close()
