"""Fixtures of the kube tests: a sim with two clusters and clients for them with recorded sleeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from reconciler.kube import retries
from reconciler.kube.client import Client
from reconciler.kube.connections import ClientSettings, Connections
from reconciler.sim import testing
from reconciler.spec.models import Connection


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[testing.RunningSim]:
    with testing.running(clusters=["c0", "c1"], workdir=tmp_path, interval=0.01) as running:
        yield running


@pytest.fixture
def sleeps() -> list[float]:
    """Every sleep the client under test asked for."""
    return []


@pytest.fixture
def make_client(sim: testing.RunningSim, sleeps: list[float]) -> Callable[..., Client]:
    def make(name: str = "c0", *, attempts: int = 5) -> Client:
        connections = Connections({name: Connection(context=name)}, kubeconfig_path=str(sim.kubeconfig),
                                  settings=ClientSettings(qps=1000, burst=1000, attempts=attempts))
        client = connections.client(name)
        client.sleep = sleeps.append
        client.retry = retries.RetryPolicy(attempts=attempts, base=0.05, cap=5.0)
        return client

    return make


@pytest.fixture
def kubeconfig_doc(sim: testing.RunningSim) -> dict:
    return yaml.safe_load(sim.kubeconfig.read_text())
