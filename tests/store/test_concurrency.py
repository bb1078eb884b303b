"""One writer at a time, readers concurrent: WAL readers never wait for a writer and see whole commits."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from reconciler.core import inventory
from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.store import databases, migrations, stores

BUNDLE = BundleId(cluster="eu-1", stack="platform", bundle="ingress")


def inventory_of(prefix: str, size: int = 20) -> inventory.BundleInventory:
    entries = tuple(
        sorted(
            inventory.Entry(key=ObjectKey(group="", kind="ConfigMap", namespace="ns", name=f"{prefix}-{i}"))
            for i in range(size)
        )
    )
    return inventory.BundleInventory(dest="eu-1", bundle=BUNDLE, revision=prefix, entries=entries)


def test_a_reader_is_not_blocked_by_an_open_write_transaction(store: stores.Store) -> None:
    store.events.add("sync", "first")
    writer = store.context.engine.connect().execution_options(**{databases.BEGIN_OPTION: "IMMEDIATE"})
    with writer:
        transaction = writer.begin()
        writer.exec_driver_sql(
            "INSERT INTO events (at, level, reason, cluster, bundle, message) "
            "VALUES ('2026-01-01 00:00:00+00:00', 'info', 'sync', '', '', 'second')"
        )
        during = [e.message for e in store.events.recent()]
        transaction.commit()
    assert (during, [e.message for e in store.events.recent()]) == (["first"], ["second", "first"])


def test_readers_see_one_whole_inventory_while_a_writer_replaces_it(store: stores.Store) -> None:
    versions = {"a": inventory_of("a"), "b": inventory_of("b")}
    store.inventories.put(versions["a"])
    seen: list[bool] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            found = store.inventories.get("eu-1", BUNDLE)
            seen.append(found is not None and found == versions[found.revision])

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(100):
        store.inventories.put(versions["ab"[i % 2]])
    stop.set()
    reader.join(timeout=60)
    assert (len(seen) > 0, all(seen)) == (True, True)


def test_threads_writing_at_once_lose_nothing(store: stores.Store) -> None:
    def write(n: int) -> None:
        for i in range(25):
            store.events.add("t", f"{n}-{i}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert store.events.count() == 100


WRITER = textwrap.dedent(
    """
    import sys
    from reconciler.store import stores
    store = stores.open_store(sys.argv[1])
    for i in range(40):
        store.events.add("proc", f"{sys.argv[2]}-{i}")
    store.close()
    """
)


def test_processes_writing_at_once_queue_for_the_write_lock(database: str) -> None:
    stores.open_store(database).close()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, database, str(n)]) for n in range(2)]
    codes = [p.wait(timeout=120) for p in procs]
    store = stores.open_store(database)
    count = store.events.count()
    store.close()
    assert (codes, count) == ([0, 0], 80)


OPENER = textwrap.dedent(
    """
    import os, sys, time
    from reconciler.store import stores
    while not os.path.exists(sys.argv[2]):  # all three imported: open at the same moment
        time.sleep(0.005)
    stores.open_store(sys.argv[1]).close()
    """
)


def test_processes_opening_a_fresh_database_at_once_migrate_it_once(database: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", OPENER, database, str(go)]) for _ in range(3)]
    time.sleep(3)
    go.touch()
    codes = [p.wait(timeout=120) for p in procs]
    engine = databases.open_engine(database)
    with engine.connect() as conn:
        versions = conn.exec_driver_sql("SELECT version FROM schema_version ORDER BY version").scalars().all()
    engine.dispose()
    assert (codes, versions) == ([0, 0, 0], list(range(1, migrations.LATEST + 1)))


def test_a_writer_frozen_inside_a_transaction_does_not_hold_the_others_forever(
    postgres_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(databases, "IDLE_IN_TRANSACTION_MS", 1000)
    database = postgres_server.url(postgres_server.create_database())
    frozen, other = stores.open_store(database), stores.open_store(database)
    conn = frozen.context.engine.connect().execution_options(**{databases.BEGIN_OPTION: "IMMEDIATE"})
    conn.begin()
    conn.exec_driver_sql("SELECT 1")  # holds the writers' advisory lock, then goes quiet (a SIGSTOP'd replica)
    other.events.add("sync", "written while the other writer is frozen")
    count = other.events.count()
    conn.invalidate()
    frozen.close()
    other.close()
    assert count == 1
