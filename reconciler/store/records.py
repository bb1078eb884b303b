"""What the store hands back: frozen dataclasses, and the closed sets of statuses they carry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from reconciler.core.desired import BundleId


class RevisionStatus(StrEnum):
    SEEN = "seen"
    APPLIED = "applied"
    FAILED = "failed"
    INVALID = "invalid"


class PlanStatus(StrEnum):
    PLANNED = "planned"
    APPLIED = "applied"
    STALE = "stale"
    FAILED = "failed"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Outcome(StrEnum):
    """How one apply step ended; ``started`` is a step written before its request was sent."""

    STARTED = "started"
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    SKIPPED = "skipped"
    FAILED = "failed"


class Reachability(StrEnum):
    UNKNOWN = "unknown"
    REACHABLE = "reachable"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth-failed"


@dataclass(frozen=True)
class RevisionRecord:
    source: str
    revision: str
    seen_at: datetime
    status: RevisionStatus
    applied_at: datetime | None = None
    error: str = ""
    forced: bool = False


@dataclass(frozen=True)
class PlanRecord:
    id: str
    revision: str
    created_at: datetime
    updated_at: datetime
    status: PlanStatus
    body: str
    """The plan as ``core.plans.to_json`` wrote it (after redaction)."""
    pr_number: int | None = None
    pr_branch: str | None = None


@dataclass(frozen=True)
class RunRecord:
    id: str
    revision: str
    started_at: datetime
    status: RunStatus
    plan_id: str | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class StepRecord:
    id: int
    run_id: str
    cluster: str
    bundle: BundleId
    object_key: str
    action: str
    outcome: Outcome
    started_at: datetime
    finished_at: datetime | None = None
    error: str = ""


@dataclass(frozen=True)
class Who:
    """Who changed a drifted field, from the object's managedFields."""

    manager: str = ""
    operation: str = ""
    time: datetime | None = None


@dataclass(frozen=True)
class DriftRecord:
    cluster: str
    bundle: BundleId
    object_key: str
    patch: tuple[dict[str, Any], ...]
    diff: str
    who: Who
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True)
class ClusterStatus:
    name: str
    status: Reachability
    updated_at: datetime
    last_error: str = ""
    last_seen: datetime | None = None
    paused: bool = False


@dataclass(frozen=True)
class EventRecord:
    id: int
    at: datetime
    level: str
    reason: str
    message: str
    cluster: str = ""
    bundle: str = ""


@dataclass(frozen=True)
class BundleRow:
    """One row of the dashboard: the latest known state of one bundle in one cluster."""

    cluster: str
    bundle: BundleId
    reachability: Reachability
    paused: bool
    revision: str
    objects: int
    open_drift: int
    outcome: str
    error: str
    updated_at: datetime | None
