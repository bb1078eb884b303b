"""What every part of the store shares: the engine, the clock, the redactor, and the write path.

``read()`` gives a connection in a DEFERRED transaction (concurrent with other readers and with a
writer under WAL). ``write()`` gives one in a transaction holding the write lock (``BEGIN
IMMEDIATE`` on SQLite), serialised in-process by a lock and across processes by the busy timeout;
it commits on success and rolls back on any error, which comes out as ``StoreError``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from reconciler.errors import StoreError
from reconciler.redactions import Redactor
from reconciler.store import databases

Clock = Callable[[], datetime]


@dataclass
class Context:
    engine: Engine
    clock: Clock
    redactor: Redactor
    write_lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
                conn.rollback()
        except SQLAlchemyError as exc:
            raise StoreError(f"store read failed: {self.redactor.text(_describe(exc))}") from None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.write_lock:
            try:
                conn = self.engine.connect().execution_options(**{databases.BEGIN_OPTION: "IMMEDIATE"})
                with conn, conn.begin():
                    yield conn
            except SQLAlchemyError as exc:
                raise StoreError(f"store write failed: {self.redactor.text(_describe(exc))}") from None


def _describe(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc)
