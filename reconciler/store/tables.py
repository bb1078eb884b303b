"""The tables of the state store, as they are at the newest schema version (SQLAlchemy Core).

Types are dialect-neutral (SQLite today, PostgreSQL later). Times are stored in UTC and come back as
aware datetimes. Bundles are stored as three columns (``bundle_cluster``, ``stack``, ``bundle``: the
fields of ``core.desired.BundleId``) next to ``cluster``, the destination the objects go to.

``migrations`` builds this shape step by step; a test checks that both agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect

NAME = 253
STACK_VERSION = 128
"""Longest Kubernetes name; also used for cluster, stack, bundle and source names."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and read back as an aware datetime, on every dialect."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; the clock must return aware times")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def bundle_columns() -> list[Column[Any]]:
    """The destination cluster and the three fields of a BundleId."""
    return [
        Column("cluster", String(NAME), nullable=False),
        Column("bundle_cluster", String(NAME), nullable=False),
        Column("stack", String(NAME), nullable=False),
        Column("bundle", String(NAME), nullable=False),
    ]


BUNDLE_KEY = ("cluster", "bundle_cluster", "stack", "bundle")

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", UtcDateTime, nullable=False),
)

revisions = Table(
    "revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(NAME), nullable=False),
    Column("revision", String(512), nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
    Column("applied_at", UtcDateTime),
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("forced", Boolean, nullable=False, default=False),
    Column("subject", Text, nullable=False, default="", server_default=""),
    Column("author", String(NAME), nullable=False, default="", server_default=""),
    UniqueConstraint("source", "revision", name="uq_revisions_source_revision"),
    Index("ix_revisions_source_id", "source", "id"),
)

plans = Table(
    "plans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("revision", String(512), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("pr_number", Integer),
    Column("pr_branch", String(NAME)),
    Index("ix_plans_status_created", "status", "created_at"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("plan_id", String(64)),
    Column("revision", String(512), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("status", String(16), nullable=False),
)

steps = Table(
    "steps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", String(64), ForeignKey("runs.id"), nullable=False),
    *bundle_columns(),
    Column("object_key", String(1024), nullable=False),
    Column("action", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Index("ix_steps_run", "run_id", "id"),
)

inventories = Table(
    "inventories",
    metadata,
    *bundle_columns(),
    Column("revision", String(512), nullable=False),
    Column("objects", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("stack_version", String(STACK_VERSION), nullable=False, server_default=""),
    UniqueConstraint(*BUNDLE_KEY, name="uq_inventories_bundle"),
)

inventory_entries = Table(
    "inventory_entries",
    metadata,
    *bundle_columns(),
    Column("object_key", String(1024), nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint(*BUNDLE_KEY, "object_key", name="uq_inventory_entries_object"),
    Index("ix_inventory_entries_object", "cluster", "object_key"),
)

clusters = Table(
    "clusters",
    metadata,
    Column("name", String(NAME), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("last_error", Text, nullable=False, default=""),
    Column("last_seen", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("paused", Boolean, nullable=False, default=False, server_default="0"),
)

keys = Table(
    "keys",
    metadata,
    Column("name", String(NAME), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("level", String(16), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("cluster", String(NAME), nullable=False, default=""),
    Column("bundle", String(3 * NAME + 2), nullable=False, default=""),
    Column("message", Text, nullable=False),
)

drifts = Table(
    "drifts",
    metadata,
    Column("id", Integer, primary_key=True),
    *bundle_columns(),
    Column("object_key", String(1024), nullable=False),
    Column("patch", Text, nullable=False),
    Column("diff", Text, nullable=False),
    Column("manager", String(NAME), nullable=False, default=""),
    Column("operation", String(16), nullable=False, default=""),
    Column("changed_at", UtcDateTime),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    UniqueConstraint(*BUNDLE_KEY, "object_key", name="uq_drifts_object"),
    Index("ix_drifts_open", "resolved_at", "cluster"),
)

bundle_states = Table(
    "bundle_states",
    metadata,
    *bundle_columns(),
    Column("run_id", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint(*BUNDLE_KEY, name="uq_bundle_states_bundle"),
)

applied_objects = Table(
    "applied_objects",
    metadata,
    *bundle_columns(),
    Column("object_key", String(1024), nullable=False),
    Column("revision", String(512), nullable=False),
    Column("body", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint(*BUNDLE_KEY, "object_key", name="uq_applied_objects_object"),
    Index("ix_applied_objects_cluster", "cluster"),
)
"""The desired objects as last applied (sealed: Secret values hashed), for the drift scan."""

bundle_health = Table(
    "bundle_health",
    metadata,
    *bundle_columns(),
    Column("health", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint(*BUNDLE_KEY, name="uq_bundle_health_bundle"),
)
"""The health of each bundle's live objects as the last drift scan saw them (worst object wins)."""


pr_plans = Table(
    "pr_plans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("source", String(NAME), nullable=False),
    Column("number", Integer, nullable=False),
    Column("head_sha", String(64), nullable=False),
    Column("head", String(512), nullable=False),
    Column("base", String(512), nullable=False),
    Column("state", String(16), nullable=False),
    Column("content_hash", String(80), nullable=False),
    Column("plan_id", String(64), nullable=False),
    Column("has_changes", Boolean, nullable=False),
    Column("body", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("post_attempts", Integer, nullable=False),
    Column("post_error", Text, nullable=False),
    Column("posted_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("source", "number", "head_sha", name="uq_pr_plans_head"),
    Index("ix_pr_plans_source_number", "source", "number", "created_at"),
    Index("ix_pr_plans_created", "created_at"),
)
"""Pull-request plans (``core.prplans``, redacted) per source, PR number and head commit, with their state;
``plan_id`` is the head's full plan in ``plans``."""

rollout_stages = Table(
    "rollout_stages",
    metadata,
    Column("stage", String(2 * NAME + 1), primary_key=True),
    Column("ready_since", UtcDateTime),
    Column("approved_by", String(NAME), nullable=False, default=""),
    Column("approved_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
)
"""Per rollout stage (``assignment/stage``): since when it is ready, and its approval (ADR 0022)."""

rollout_units = Table(
    "rollout_units",
    metadata,
    Column("cluster", String(NAME), nullable=False),
    Column("assignment", String(NAME), nullable=False),
    Column("stage", String(2 * NAME + 1), nullable=False),
    Column("state", String(32), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("until", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("cluster", "assignment", name="uq_rollout_units_unit"),
)
"""The state of every rollout unit (a cluster's share of an assignment) after the last apply run."""

assignment_holds = Table(
    "assignment_holds",
    metadata,
    Column("assignment", String(NAME), primary_key=True),
    Column("paused_by", String(NAME), nullable=False, default=""),
    Column("paused_at", UtcDateTime, nullable=False),
)
"""Assignments paused by a person: none of their units starts until resumed."""

unit_retries = Table(
    "unit_retries",
    metadata,
    Column("cluster", String(NAME), nullable=False),
    Column("assignment", String(NAME), nullable=False),
    Column("asked_by", String(NAME), nullable=False, default=""),
    Column("asked_at", UtcDateTime, nullable=False),
    UniqueConstraint("cluster", "assignment", name="uq_unit_retries_unit"),
)
"""Halted units a person asked to retry: the next apply run starts them despite the spent budget, once."""
