"""Fixtures of the web tests: a real SQLite store, the reference fleet's catalog, the app on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.source import opening
from reconciler.spec import loader
from reconciler.store import stores
from reconciler.store.stores import Store
from reconciler.web import apps, catalogs, servers, testing
from reconciler.web.access import Tokens
from reconciler.web.catalogs import Catalog
from reconciler.web.services import Services
from reconciler.web.states import State

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
READ_TOKEN = "read-token-5b0e"
ADMIN_TOKEN = "admin-token-91c2"
REVISION = "main@sha1:" + "a" * 40


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = stores.open_store(tmp_path / "state.db", clock=lambda: NOW)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def fleet_repo(fleet_dir: Path) -> loader.FleetRepo:
    return loader.load(opening.open_tree(str(fleet_dir)))


@pytest.fixture(scope="session")
def catalog(fleet_repo: loader.FleetRepo) -> Catalog:
    return catalogs.from_repo(fleet_repo)


@pytest.fixture
def filled(store: Store, fleet_repo: loader.FleetRepo) -> Store:
    return fill_reference(store, fleet_repo)


def services_of(store: Store, catalog: Catalog, **overrides: Any) -> Services:
    settings: dict[str, Any] = {
        "store": store,
        "tokens": Tokens.of(read=[READ_TOKEN], admin=[ADMIN_TOKEN]),
        "clock": lambda: NOW,
        "catalog": lambda: catalog,
        "sources": ("fleet",),
    }
    return Services(**{**settings, **overrides})


@pytest.fixture
def make_services(catalog: Catalog) -> Callable[..., Services]:
    """``make_services(store, **overrides)``: the app's services over ``store``."""

    def make(store: Store, **overrides: Any) -> Services:
        return services_of(store, catalog, **overrides)

    return make


def fill_reference(store: Store, repo: loader.FleetRepo) -> Store:
    """The reference fleet recorded as applied; prod-eu-2 drifted, dev-us-1 failed, stage-eu-1 unreachable."""
    states = {"prod-eu-2": State.DRIFTED, "dev-us-1": State.FAILED, "stage-eu-1": State.UNREACHABLE}
    testing.fill(store, testing.repo_placements(repo), revision=REVISION, states=states)
    return store


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, fleet_repo: loader.FleetRepo, catalog: Catalog
) -> Iterator[str]:
    """The app over a filled store, shared by a module's read-only tests: its URL."""
    opened = stores.open_store(tmp_path_factory.mktemp("web") / "state.db", clock=lambda: NOW)
    fill_reference(opened, fleet_repo)
    with servers.serve(apps.create_app(services_of(opened, catalog))) as server:
        yield server.url
    opened.close()


@pytest.fixture
def web(served: str) -> Iterator[httpx.Client]:
    """A fresh client (no cookies, no token) of the shared app."""
    with httpx.Client(base_url=served, timeout=10) as client:
        yield client


@pytest.fixture
def reader() -> dict[str, str]:
    return {"Authorization": f"Bearer {READ_TOKEN}"}


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
