"""Schema versions: an empty database and a v1 database both reach the newest; a newer one is refused."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from reconciler.errors import StoreError
from reconciler.store import databases, migrations, stores, tables


def fixed() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def columns_of(database: str | Path) -> dict[str, set[str]]:
    engine = databases.open_engine(database)
    try:
        found = inspect(engine)
        return {name: {c["name"] for c in found.get_columns(name)} for name in found.get_table_names()}
    finally:
        engine.dispose()


def test_empty_database_is_brought_to_the_latest_version(database: str) -> None:
    store = stores.open_store(database, clock=fixed)
    assert store.schema_version() == migrations.LATEST
    store.close()


def test_migrated_schema_matches_the_table_definitions(database: str) -> None:
    stores.open_store(database, clock=fixed).close()
    expected = {t.name: {c.name for c in t.columns} for t in tables.metadata.sorted_tables}
    assert columns_of(database) == expected


def test_v1_database_keeps_its_data_and_gains_the_new_tables(database: str) -> None:
    engine = databases.open_engine(database)
    migrations.upgrade(engine, clock=fixed, target=1)
    with engine.connect().execution_options(**{databases.BEGIN_OPTION: "IMMEDIATE"}) as conn, conn.begin():
        conn.execute(
            text(
                "INSERT INTO clusters (name, status, last_error, updated_at) VALUES ('eu-1', 'reachable', '', :t)"
            ),
            {"t": "2026-01-01 00:00:00.000000"},
        )
    engine.dispose()
    store = stores.open_store(database, clock=fixed)
    assert (store.schema_version(), store.clusters.get("eu-1").paused) == (migrations.LATEST, False)
    store.close()


def test_v1_database_lacks_what_v2_adds(database: str) -> None:
    engine = databases.open_engine(database)
    migrations.upgrade(engine, clock=fixed, target=1)
    engine.dispose()
    found = columns_of(database)
    assert ("drifts" in found, "paused" in found["clusters"]) == (False, False)


def test_reopening_applies_nothing_twice(database: str) -> None:
    stores.open_store(database, clock=fixed).close()
    stores.open_store(database, clock=fixed).close()
    engine = databases.open_engine(database)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
    engine.dispose()
    assert versions == list(range(1, migrations.LATEST + 1))


def test_newer_database_is_refused_with_a_clear_error(database: str) -> None:
    stores.open_store(database, clock=fixed).close()
    engine = databases.open_engine(database)
    with engine.connect().execution_options(**{databases.BEGIN_OPTION: "IMMEDIATE"}) as conn, conn.begin():
        conn.execute(tables.schema_version.insert(), {"version": 99, "applied_at": fixed()})
    engine.dispose()
    with pytest.raises(StoreError, match="schema version 99, newer than this stackfleet understands"):
        stores.open_store(database, clock=fixed)


def test_sqlite_runs_in_wal_mode(db_path: Path) -> None:
    store = stores.open_store(db_path, clock=fixed)
    with store.context.read() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    store.close()
    assert mode == "wal"


def test_in_memory_database_is_refused() -> None:
    with pytest.raises(StoreError, match="in-memory"):
        stores.open_store(":memory:", clock=fixed)


def test_a_url_names_the_database_too(tmp_path: Path) -> None:
    store = stores.open_store(f"sqlite:///{tmp_path / 'by-url.db'}", clock=fixed)
    store.close()
    assert (tmp_path / "by-url.db").exists()


def test_postgres_without_its_driver_names_the_extra(tmp_path: Path) -> None:
    blocked = "import sys; sys.modules['psycopg'] = None\n"
    probe = blocked + (
        "from reconciler.errors import StoreError\nfrom reconciler.store import stores\n"
        "try:\n    stores.open_store('postgresql://nobody@/nothing?host=/nonexistent')\n"
        "except StoreError as exc:\n    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, databases.DRIVER_HINT)


def test_libpq_spellings_of_a_url_select_psycopg() -> None:
    found = [databases.url_of(url) for url in ("postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg://u@h/db")]
    assert found == ["postgresql+psycopg://u@h/db"] * 3
