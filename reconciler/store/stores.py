"""The state store: one object that opens (and migrates) the database and groups its parts.

::

    store = stores.open_store("state/stackfleet.db", clock=clock)
    store.revisions.record_seen("fleet", "main@sha1:...")
    run = store.runs.start("run-1", revision="main@sha1:...")
    store.inventories.put(bundle_inventory)
    rows = store.dashboards.bundles()

Every write goes through one redactor (``reconciler.redactions``): bodies and error texts are
scrubbed of secret-looking values before they reach a row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from reconciler import redactions
from reconciler.store import databases, migrations, tables
from reconciler.store.applied import AppliedObjects
from reconciler.store.clusters import Clusters
from reconciler.store.contexts import Clock, Context
from reconciler.store.dashboards import Dashboards
from reconciler.store.drifts import Drifts
from reconciler.store.events import DEFAULT_CAP, Events
from reconciler.store.healths import Healths
from reconciler.store.inventories import Inventories
from reconciler.store.keys import Keys
from reconciler.store.plans import Plans
from reconciler.store.prplans import PrPlans
from reconciler.store.retention import Retention
from reconciler.store.revisions import Revisions
from reconciler.store.rollouts import Rollouts
from reconciler.store.runs import Runs


def utc_now() -> datetime:
    """The default clock (the daemon's edge; the parts of the store only ever call the clock given)."""
    return datetime.now(UTC)


class Store:
    """The parts of the state store over one database (see the module docstring)."""

    def __init__(self, context: Context, *, event_cap: int = DEFAULT_CAP) -> None:
        self.context = context
        self.revisions = Revisions(context)
        self.plans = Plans(context)
        self.pr_plans = PrPlans(context)
        self.runs = Runs(context)
        self.inventories = Inventories(context)
        self.drifts = Drifts(context)
        self.clusters = Clusters(context)
        self.events = Events(context, cap=event_cap)
        self.dashboards = Dashboards(context)
        self.applied = AppliedObjects(context)
        self.health = Healths(context)
        self.retention = Retention(context)
        self.keys = Keys(context)
        self.rollouts = Rollouts(context)

    def schema_version(self) -> int:
        with self.context.read() as conn:
            return migrations.current_version(conn)

    def ping(self) -> bool:
        """True when the database answers (for ``/readyz``)."""
        return self.schema_version() == migrations.LATEST

    def writable(self) -> bool:
        """True when the database takes a write (for ``/readyz``): rewrites the schema version row with
        its own value. A read-only file, mount or connection raises ``StoreError``."""
        with self.context.write() as conn:
            conn.execute(update(tables.schema_version).values(version=tables.schema_version.c.version))
        return True

    def close(self) -> None:
        self.context.engine.dispose()


def open_store(
    database: str | Path,
    *,
    clock: Clock = utc_now,
    redactor: redactions.Redactor | None = None,
    event_cap: int = DEFAULT_CAP,
) -> Store:
    """Open ``database`` (a path or URL), upgrading an older schema; a newer one is refused."""
    engine = databases.open_engine(database)
    try:
        migrations.upgrade(engine, clock=clock)
    except Exception:
        engine.dispose()
        raise
    context = Context(engine=engine, clock=clock, redactor=redactor or redactions.DEFAULT)
    return Store(context, event_cap=event_cap)
