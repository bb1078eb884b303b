"""Fixtures shared by every test area. Area fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load_helper(name: str) -> ModuleType:
    """A helper module of tests/ (the suite runs with --import-mode=importlib: tests/ is not on sys.path)."""
    spec = importlib.util.spec_from_file_location(f"stackfleet_tests_{name}", Path(__file__).parent / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


pgserver = _load_helper("pgserver")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def fleet_dir() -> Path:
    return REPO_ROOT / "fleet"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[pgserver.PostgresServer]:
    """One real PostgreSQL server for the whole run (started on first use, see tests/pgserver.py)."""
    server = pgserver.start_server()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty state database: a SQLite file, then (second run of the test) a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "state.db")
    server: pgserver.PostgresServer = request.getfixturevalue("postgres_server")
    return server.url(server.create_database())
