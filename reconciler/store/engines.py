"""Opening a database: a path or URL in, a thread-safe SQLAlchemy engine out.

SQLite (the default) is opened in WAL mode with a busy timeout, foreign keys on and
``synchronous=NORMAL`` (a committed transaction survives a crash of the process; after a power loss
the last transactions may be lost but the file stays consistent). Transactions begin DEFERRED, so
readers never block each other or a writer; a writing connection asks for ``BEGIN IMMEDIATE`` so
two writers queue on the busy timeout instead of failing half-way. Any other URL (``postgresql://``)
is passed to SQLAlchemy unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError

from reconciler.errors import StoreError

BUSY_TIMEOUT_MS = 10_000
BEGIN_OPTION = "stackfleet_sqlite_begin"
"""Execution option a connection sets to ``"IMMEDIATE"`` to take the write lock up front."""


def url_of(database: str | Path) -> str:
    """A SQLAlchemy URL for a file path or URL; ``:memory:`` is refused (state must survive)."""
    text = str(database)
    if text in (":memory:", "sqlite://", "sqlite:///:memory:"):
        raise StoreError("an in-memory database keeps nothing; give a file path or a database URL")
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def open_engine(database: str | Path) -> Engine:
    """A pooled, thread-safe engine for ``database`` (a path or URL)."""
    url = url_of(database)
    try:
        dialect = make_url(url).get_backend_name()
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {exc}") from None
    if dialect != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _on_sqlite_begin)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")
