"""Helpers for tests in every area: an in-process sim server with N clusters and clients for it.

::

    from reconciler.sim import testing

    def test_something(tmp_path):
        with testing.running(clusters=2, workdir=tmp_path) as sim:
            api = sim.api_client("c0")              # kubernetes.client.ApiClient
            sim.faults("c1").down = True            # see reconciler.sim.faults
            assert sim.faults("c0").total("list", "deployments") == 0

or as a pytest fixture in an area's conftest::

    @pytest.fixture
    def sim(tmp_path):
        with testing.running(clusters=3, workdir=tmp_path) as running_sim:
            yield running_sim
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.sim.clusters import Clock, Cluster
from reconciler.sim.controllers import Controllers
from reconciler.sim.faults import Faults
from reconciler.sim.server import SimServer


@dataclass
class RunningSim:
    """A started server, its kubeconfig, and shortcuts to its clusters."""

    server: SimServer
    kubeconfig: Path
    controllers: Controllers

    def cluster(self, name: str) -> Cluster:
        return self.server.clusters[name]

    def faults(self, name: str) -> Faults:
        return self.server.clusters[name].faults

    @property
    def names(self) -> list[str]:
        return list(self.server.clusters)

    def add_cluster(self, name: str) -> Cluster:
        """Add a cluster and rewrite the kubeconfig so it has a context for it."""
        cluster = self.server.add_cluster(name)
        self.server.kubeconfig(self.kubeconfig)
        return cluster

    def api_client(self, name: str) -> Any:
        """A ``kubernetes.client.ApiClient`` for cluster ``name`` built from the kubeconfig."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig), context=name)  # type: ignore[no-untyped-call]

    def dynamic_client(self, name: str) -> Any:
        from kubernetes import dynamic

        return dynamic.DynamicClient(self.api_client(name))  # type: ignore[no-untyped-call]

    def tick(self) -> None:
        """Run the simulated controllers once (they also run on their own every ``interval``)."""
        self.controllers.tick()


def cluster_names(count: int, prefix: str = "c") -> list[str]:
    return [f"{prefix}{i}" for i in range(count)]


@contextmanager
def running(clusters: int | list[str] = 1, *, workdir: Path | None = None, tls: bool = False,
            defaulting: bool = True, ready_after: float = 0.0, interval: float = 0.02,
            clock: Clock | None = None, controllers: bool = True,
            audit_log: Path | None = None) -> Iterator[RunningSim]:
    """Start a sim server with ``clusters`` (a count or names) and its controllers; stop both on exit.

    With ``controllers=False`` nothing writes status on its own; ``RunningSim.tick()`` still works.
    """
    names = cluster_names(clusters) if isinstance(clusters, int) else clusters
    with tempfile.TemporaryDirectory(prefix="sim-") as scratch:
        folder = workdir or Path(scratch)
        server = SimServer(tls=tls, defaulting=defaulting, clock=clock or time.time, audit_log=audit_log)
        for name in names:
            server.add_cluster(name)
        loop = Controllers(server, ready_after=ready_after, interval=interval)
        with server:
            if controllers:
                loop.start()
            try:
                yield RunningSim(server, server.kubeconfig(folder / "kubeconfig"), loop)
            finally:
                loop.stop()


class FakeClock:
    """A clock that moves only when told: ``clock.advance(30)``. Pass it as ``running(clock=...)``."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
