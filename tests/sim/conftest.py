"""Fixtures of the sim tests: a running sim server and a raw HTTP client for one of its clusters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sim import testing


class RawApi:
    """Raw HTTP to one sim cluster, with its bearer token: ``api.get("/api/v1/namespaces")``."""

    def __init__(self, base: str, token: str) -> None:
        self.client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def call(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
             **params: Any) -> httpx.Response:
        content = None if body is None else httpx.Request("POST", "/", json=body).content
        return self.client.request(method, path, content=content, params=params,
                                   headers={"Content-Type": content_type})

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any, **params: Any) -> httpx.Response:
        return self.call("POST", path, body, **params)

    def put(self, path: str, body: Any, **params: Any) -> httpx.Response:
        return self.call("PUT", path, body, **params)

    def patch(self, path: str, body: Any, content_type: str, **params: Any) -> httpx.Response:
        return self.call("PATCH", path, body, content_type=content_type, **params)

    def apply(self, path: str, body: Any, *, manager: str, force: bool = False, **params: Any) -> httpx.Response:
        return self.patch(path, body, "application/apply-patch+yaml", fieldManager=manager,
                          force=str(force).lower(), **params)

    def delete(self, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return self.call("DELETE", path, body, **params)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[testing.RunningSim]:
    with testing.running(clusters=2, workdir=tmp_path) as running_sim:
        yield running_sim


@pytest.fixture
def api(sim: testing.RunningSim) -> Iterator[RawApi]:
    raw = RawApi(sim.server.url("c0"), sim.cluster("c0").token)
    yield raw
    raw.client.close()


@pytest.fixture
def make_api() -> Any:
    def make(base: str, token: str) -> RawApi:
        return RawApi(base, token)

    return make


@pytest.fixture
def clock() -> testing.FakeClock:
    return testing.FakeClock()


@pytest.fixture
def slow(tmp_path: Path, clock: testing.FakeClock) -> Iterator[testing.RunningSim]:
    with testing.running(clusters=["mgmt"], workdir=tmp_path, clock=clock, controllers=False) as sim:
        sim.controllers.ready_after = 30
        sim.controllers.capi.provision_after = 60
        yield sim
