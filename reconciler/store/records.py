"""What the store hands back: frozen dataclasses carrying the closed statuses of ``core.statuses``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.core.desired import BundleId
from reconciler.core.drift import Kind, Who
from reconciler.core.statuses import Outcome, PlanStatus, PrPlanState, Reachability, RevisionStatus, RunStatus


@dataclass(frozen=True)
class RevisionRecord:
    source: str
    revision: str
    seen_at: datetime
    status: RevisionStatus
    applied_at: datetime | None = None
    error: str = ""
    forced: bool = False
    subject: str = ""
    author: str = ""


OPEN_PR_STATES = frozenset({PrPlanState.PLANNED, PrPlanState.POSTED})


@dataclass(frozen=True)
class PrPlanRecord:
    id: str
    source: str
    number: int
    head_sha: str
    head: str
    base: str
    state: PrPlanState
    content_hash: str
    plan_id: str
    """The head's full plan (``store.plans``): what a merge of exactly this head applies."""
    has_changes: bool
    body: str
    """The ``core.prplans.PullRequestPlan`` as JSON (after redaction)."""
    note: str
    post_attempts: int
    post_error: str
    posted_at: datetime | None
    created_at: datetime
    updated_at: datetime


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
    kind: Kind = Kind.MODIFIED
    """Modified, or missing (deleted out of band): read back from the stored diff, see ``store.drifts``."""

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
    outcome: Outcome | None
    """How the bundle's last apply step ended; ``None`` before its first apply."""
    error: str
    updated_at: datetime | None
    version: str = ""
    """The stack version its inventory was last applied at (``""`` before the first apply)."""
