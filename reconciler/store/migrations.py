"""Schema versions of the state store and the ordered migrations between them.

``MIGRATIONS[n - 1]`` takes a database from version ``n - 1`` to ``n``; the ``schema_version``
table has one row per migration applied. ``upgrade`` runs the missing ones, each in its own
transaction holding the write lock, so two processes opening an old database at once upgrade it once.
A database newer than this code is refused: it may hold data an old reader would lose.

A migration creates a table from ``tables`` only while that table is unchanged since; once a later
version alters it, the earlier migration spells out the old shape (as ``_clusters_v1`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection

from reconciler.errors import StoreError
from reconciler.store import databases, tables

Migration = Callable[[Connection], None]


def _clusters_v1() -> Table:
    return Table(
        "clusters",
        MetaData(),
        Column("name", String(tables.NAME), primary_key=True),
        Column("status", String(16), nullable=False),
        Column("last_error", Text, nullable=False),
        Column("last_seen", tables.UtcDateTime),
        Column("updated_at", tables.UtcDateTime, nullable=False),
    )


def _inventories_v1() -> Table:
    return Table(
        "inventories",
        MetaData(),
        *tables.bundle_columns(),
        Column("revision", String(512), nullable=False),
        Column("objects", Integer, nullable=False),
        Column("updated_at", tables.UtcDateTime, nullable=False),
        UniqueConstraint(*tables.BUNDLE_KEY, name="uq_inventories_bundle"),
    )


def _revisions_v1() -> Table:
    return Table(
        "revisions",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("source", String(tables.NAME), nullable=False),
        Column("revision", String(512), nullable=False),
        Column("seen_at", tables.UtcDateTime, nullable=False),
        Column("applied_at", tables.UtcDateTime),
        Column("status", String(16), nullable=False),
        Column("error", Text, nullable=False),
        Column("forced", Boolean, nullable=False),
        UniqueConstraint("source", "revision", name="uq_revisions_source_revision"),
        Index("ix_revisions_source_id", "source", "id"),
    )


def create_base_tables(conn: Connection) -> None:
    """v1: revisions, plans, apply runs and steps, inventories, cluster status, events."""
    _revisions_v1().create(conn)
    for table in (tables.plans, tables.runs, tables.steps):
        table.create(conn)
    for table in (tables.inventory_entries, tables.events):
        table.create(conn)
    _inventories_v1().create(conn)
    _clusters_v1().create(conn)


def add_drift_and_bundle_states(conn: Connection) -> None:
    """v2: drift entries, the latest state per cluster x bundle, and pausing clusters."""
    tables.drifts.create(conn)
    tables.bundle_states.create(conn)
    paused = Column("paused", Boolean, nullable=False, server_default="0")
    ddl = paused.type.compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE clusters ADD COLUMN paused {ddl} NOT NULL DEFAULT {_false(conn)}"))


def _false(conn: Connection) -> str:
    return "false" if conn.dialect.name == "postgresql" else "0"


def add_applied_objects(conn: Connection) -> None:
    """v3: the desired objects as last applied (what the drift scan compares live objects with)."""
    tables.applied_objects.create(conn)


def add_bundle_health(conn: Connection) -> None:
    """v4: the health of each bundle's live objects, as the drift scan last saw it."""
    tables.bundle_health.create(conn)


def add_pull_request_plans(conn: Connection) -> None:
    """v5: pull-request plans with their state (planned, posted, applied, superseded)."""
    tables.pr_plans.create(conn)


def add_keys(conn: Connection) -> None:
    """v6: keys the store keeps for itself (the HMAC key of saved plans)."""
    tables.keys.create(conn)


def add_inventory_versions(conn: Connection) -> None:
    """v7: the stack version of each bundle inventory (objects no longer carry it)."""
    conn.execute(text(f"ALTER TABLE inventories ADD COLUMN stack_version VARCHAR({tables.STACK_VERSION}) "
                      "NOT NULL DEFAULT ''"))


def add_rollouts(conn: Connection) -> None:
    """v8: rollout stage marks and approvals, unit states, paused assignments, retries (ADR 0022)."""
    for table in (tables.rollout_stages, tables.rollout_units, tables.assignment_holds, tables.unit_retries):
        table.create(conn)


def add_revision_commits(conn: Connection) -> None:
    """v9: the commit subject and author of each revision (the revisions page names them)."""
    conn.execute(text("ALTER TABLE revisions ADD COLUMN subject TEXT NOT NULL DEFAULT ''"))
    conn.execute(text(f"ALTER TABLE revisions ADD COLUMN author VARCHAR({tables.NAME}) NOT NULL DEFAULT ''"))


MIGRATIONS: tuple[Migration, ...] = (
    create_base_tables, add_drift_and_bundle_states, add_applied_objects, add_bundle_health,
    add_pull_request_plans, add_keys, add_inventory_versions, add_rollouts, add_revision_commits,
)
LATEST = len(MIGRATIONS)


def current_version(conn: Connection) -> int:
    """The schema version of the database (0 when it is empty)."""
    if not inspect(conn).has_table("schema_version"):
        return 0
    found = conn.execute(
        select(tables.schema_version.c.version).order_by(tables.schema_version.c.version.desc())
    )
    return int(found.scalar() or 0)


def upgrade(
    engine: Engine,
    *,
    clock: Callable[[], datetime],
    target: int = LATEST,
    migrations: Sequence[Migration] = MIGRATIONS,
) -> int:
    """Bring the database to ``target``; returns the version it had before. Refuses a newer one."""
    with engine.connect() as conn:
        before = current_version(conn)
        conn.rollback()
    _refuse_newer(before, latest=len(migrations))
    for version in range(before + 1, target + 1):
        _apply(engine, version, migrations[version - 1], clock=clock)
    return before


def _apply(engine: Engine, version: int, migration: Migration, *, clock: Callable[[], datetime]) -> None:
    with engine.connect().execution_options(**{databases.BEGIN_OPTION: "IMMEDIATE"}) as conn, conn.begin():
        if current_version(conn) >= version:  # another process got here first
            return
        if version == 1:
            tables.schema_version.create(conn)
        migration(conn)
        conn.execute(tables.schema_version.insert().values(version=version, applied_at=clock()))


def _refuse_newer(version: int, *, latest: int) -> None:
    if version > latest:
        raise StoreError(
            f"the database has schema version {version}, newer than this stackfleet understands "
            f"({latest}); upgrade stackfleet or point it at another database",
            schema_version=version,
        )
