"""Schema versions: an empty database and a v1 database both reach the newest; a newer one is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from reconciler.errors import StoreError
from reconciler.store import engines, migrations, stores, tables


def fixed() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def columns_of(db_path: Path) -> dict[str, set[str]]:
    engine = engines.open_engine(db_path)
    try:
        found = inspect(engine)
        return {name: {c["name"] for c in found.get_columns(name)} for name in found.get_table_names()}
    finally:
        engine.dispose()


def test_empty_database_is_brought_to_the_latest_version(db_path: Path) -> None:
    store = stores.open_store(db_path, clock=fixed)
    assert store.schema_version() == migrations.LATEST
    store.close()


def test_migrated_schema_matches_the_table_definitions(db_path: Path) -> None:
    stores.open_store(db_path, clock=fixed).close()
    expected = {t.name: {c.name for c in t.columns} for t in tables.metadata.sorted_tables}
    assert columns_of(db_path) == expected


def test_v1_database_keeps_its_data_and_gains_the_new_tables(db_path: Path) -> None:
    engine = engines.open_engine(db_path)
    migrations.upgrade(engine, clock=fixed, target=1)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO clusters (name, status, last_error, updated_at) VALUES ('eu-1', 'reachable', '', :t)"
            ),
            {"t": "2026-01-01 00:00:00.000000"},
        )
    engine.dispose()
    store = stores.open_store(db_path, clock=fixed)
    assert (store.schema_version(), store.clusters.get("eu-1").paused) == (migrations.LATEST, False)
    store.close()


def test_v1_database_lacks_what_v2_adds(db_path: Path) -> None:
    engine = engines.open_engine(db_path)
    migrations.upgrade(engine, clock=fixed, target=1)
    engine.dispose()
    found = columns_of(db_path)
    assert ("drifts" in found, "paused" in found["clusters"]) == (False, False)


def test_reopening_applies_nothing_twice(db_path: Path) -> None:
    stores.open_store(db_path, clock=fixed).close()
    stores.open_store(db_path, clock=fixed).close()
    engine = engines.open_engine(db_path)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
    engine.dispose()
    assert versions == list(range(1, migrations.LATEST + 1))


def test_newer_database_is_refused_with_a_clear_error(db_path: Path) -> None:
    stores.open_store(db_path, clock=fixed).close()
    engine = engines.open_engine(db_path)
    with engine.begin() as conn:
        conn.execute(tables.schema_version.insert(), {"version": 99, "applied_at": fixed()})
    engine.dispose()
    with pytest.raises(StoreError, match="schema version 99, newer than this stackfleet understands"):
        stores.open_store(db_path, clock=fixed)


def test_sqlite_runs_in_wal_mode(store: stores.Store) -> None:
    with store.context.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_in_memory_database_is_refused() -> None:
    with pytest.raises(StoreError, match="in-memory"):
        stores.open_store(":memory:", clock=fixed)


def test_a_url_names_the_database_too(tmp_path: Path) -> None:
    store = stores.open_store(f"sqlite:///{tmp_path / 'by-url.db'}", clock=fixed)
    store.close()
    assert (tmp_path / "by-url.db").exists()
