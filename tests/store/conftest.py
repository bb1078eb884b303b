"""Fixtures of the state store tests: a hand-driven clock and a store on a fresh database.

``store`` runs each test twice: on a SQLite file and on a database of a real PostgreSQL server
(``database`` in tests/conftest.py). ``db_path`` is for the tests about SQLite's file itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.redactions import Redactor
from reconciler.store import stores

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def advance(clock: FakeClock) -> Callable[[float], datetime]:
    """Move the clock forward by so many seconds; returns the new time."""
    return clock.advance


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


@pytest.fixture
def store(database: str, clock: FakeClock, redactor: Redactor) -> Iterator[stores.Store]:
    opened = stores.open_store(database, clock=clock, redactor=redactor)
    yield opened
    opened.close()
