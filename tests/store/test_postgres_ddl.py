"""PostgreSQL readiness without a server: every migration compiles to PostgreSQL DDL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_mock_engine

from reconciler.store import migrations, tables


def postgres_ddl() -> list[str]:
    statements: list[str] = []

    def record(sql: Any, *args: Any, **kwargs: Any) -> None:
        statements.append(str(sql.compile(dialect=engine.dialect)))

    engine = create_mock_engine("postgresql://", record)
    for migration in migrations.MIGRATIONS:
        migration(engine)  # type: ignore[arg-type]
    return statements


def test_every_table_is_created_by_some_migration() -> None:
    created = {s.split("(")[0].split()[-1] for s in postgres_ddl() if s.strip().startswith("CREATE TABLE")}
    assert created | {"schema_version"} == {t.name for t in tables.metadata.sorted_tables}


def test_timestamps_keep_their_time_zone_on_postgres() -> None:
    revisions = next(s for s in postgres_ddl() if "CREATE TABLE revisions" in s)
    assert "seen_at TIMESTAMP WITH TIME ZONE NOT NULL" in revisions


def test_adding_a_boolean_column_uses_postgres_literals() -> None:
    assert "ALTER TABLE clusters ADD COLUMN paused BOOLEAN NOT NULL DEFAULT false" in postgres_ddl()
