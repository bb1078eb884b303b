"""Opening a database: a path or URL in, a thread-safe SQLAlchemy engine out.

SQLite (the default) is opened in WAL mode with a busy timeout, foreign keys on and
``synchronous=NORMAL`` (a committed transaction survives a crash of the process; after a power loss
the last transactions may be lost but the file stays consistent). Transactions begin DEFERRED, so
readers never block each other or a writer; a writing connection asks for ``BEGIN IMMEDIATE`` so
two writers queue on the busy timeout instead of failing half-way.

PostgreSQL (``postgresql://…``, through psycopg 3, the ``postgres`` extra) keeps the same two
promises. A writing transaction first takes a transaction-level advisory lock
(``pg_advisory_xact_lock``): writers queue one at a time across every process sharing the database,
as SQLite's write lock makes them, so the store's portable upserts cannot race and migrations run
once. A session idle inside a transaction for 30 s is ended by the server (and its lock released), so a
replica frozen mid-write cannot stop every other replica's writes. A reading transaction is ``REPEATABLE READ READ ONLY``: all its statements see one snapshot, so
an inventory read as a header and its entries is never half-replaced (under the default READ
COMMITTED each statement would see the commits made since the one before).
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


WRITE_LOCK_KEY = 0x5374_6B66_6C74  # "Stkflt": the advisory lock every writer of one database takes
"""The PostgreSQL advisory lock key that serialises writers (and migrations) across processes."""

IDLE_IN_TRANSACTION_MS = 30_000
"""A session idle inside a transaction this long is ended by the server, which releases its locks: a
replica frozen (SIGSTOP, a VM pause) in the middle of a write must not hold the writers' advisory lock,
and with it every other replica's store, for as long as it stays frozen. Store transactions are a few
statements of Python; none is idle between them anywhere near this long."""
POSTGRES_SCHEMES = ("postgresql", "postgres")
DRIVER_HINT = "PostgreSQL needs the psycopg driver: pip install 'stackfleet[postgres]'"


def url_of(database: str | Path) -> str:
    """A SQLAlchemy URL for a file path or URL; ``:memory:`` is refused (state must survive).

    ``postgresql://`` and ``postgres://`` (libpq's spellings) select psycopg 3, the driver of the
    ``postgres`` extra; SQLAlchemy alone would pick psycopg2.
    """
    text = str(database)
    if text in (":memory:", "sqlite://", "sqlite:///:memory:"):
        raise StoreError("an in-memory database keeps nothing; give a file path or a database URL")
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    scheme, rest = text.split("://", 1)
    if scheme in POSTGRES_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    return text


def open_engine(database: str | Path) -> Engine:
    """A pooled, thread-safe engine for ``database`` (a path or URL)."""
    url = url_of(database)
    try:
        dialect = make_url(url).get_backend_name()
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {exc}") from None
    if dialect == "postgresql":
        return _postgres_engine(url)
    if dialect != "sqlite":
        raise StoreError(f"unsupported database {dialect!r}: give a SQLite file path or a postgresql:// URL")
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _postgres_engine(url: str) -> Engine:
    try:
        import psycopg  # noqa: F401  (the driver SQLAlchemy loads; checked here for a clear error)
    except ModuleNotFoundError:
        raise StoreError(DRIVER_HINT) from None
    options = f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
    engine = create_engine(url, pool_pre_ping=True, connect_args={"options": options})
    event.listen(engine, "begin", _on_postgres_begin)
    return engine


def _on_postgres_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(BEGIN_OPTION) == "IMMEDIATE":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
    else:
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")


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
