"""The daemon's pipeline: the engine's reconcile (``engine.reconcile``) for one revision of the fleet repo.

Load the spec (an invalid revision raises ``SpecError`` and the daemon keeps the last good one), then
render, observe and plan, record the plan, and apply it with the engine's rollout and worker pool. A
stop request between steps ends the reconcile before the next step starts; the engine finishes and
records the step in flight. The catalog of the last good revision is kept for the dashboard. ``scan`` is the daemon's drift scan
(``engine.drift``) over what that revision applied, followed by self-heal for the bundles asking for it.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from reconciler import metrics
from reconciler.core import rollout, targeting
from reconciler.core.desired import BundleId
from reconciler.core.plans import Action, Plan
from reconciler.core.statuses import ObjectState, PlanStatus, UnitState
from reconciler.core.statuses import Outcome as StepOutcome
from reconciler.daemon import replicas
from reconciler.daemon.ports import Outcome
from reconciler.engine import drift, fleetrun, sessions
from reconciler.engine import reconcile as engine
from reconciler.errors import PlanError
from reconciler.kube.connections import ClientSettings, Connections, InCluster
from reconciler.render import fleet
from reconciler.spec import loader
from reconciler.spec.loader import FleetRepo
from reconciler.spec.models import Connection
from reconciler.spec.trees import FileTree
from reconciler.store.stores import Store
from reconciler.web import catalogs


class Settle(Protocol):
    """Picks the plan to apply for a revision that may merge a reviewed pull request."""

    def settle(self, source: str, revision: str, fresh: Plan) -> Plan: ...


@dataclass
class EnginePipeline:
    """``ports.Pipeline`` over the engine; one ``Connections`` per set of cluster connections."""

    store: Store
    kubeconfig: str | None = None
    in_cluster: InCluster | None = None
    replica: replicas.Replica | None = None
    """Set when several replicas share the fleet: only the clusters this one owns are reconciled."""
    client_settings: ClientSettings = field(default_factory=ClientSettings)
    workers: int = 16
    approved: frozenset[str] = frozenset()
    pause_limit: float = 0.0
    catalog: catalogs.Catalog = field(default_factory=catalogs.Catalog)
    repo: FleetRepo | None = None
    """The last fleet repo that loaded: what drift scans compare against."""
    targets: Sequence[targeting.Target] = ()
    """``repo``'s targets, built once when it loaded."""
    render_options: fleet.Options = field(default_factory=fleet.Options)
    """Kept across reconciles, so unchanged bundles come from the render cache."""
    reviews: Settle | None = None
    """Pull-request plans reviewed before their merge (``daemon.reviews``)."""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """What rollout pauses and soaks are measured with (kept in the store, so restarts honour them)."""
    _connections: tuple[Mapping[str, Connection], Connections] | None = None
    _terms: dict[str, int] = field(default_factory=dict)
    _applied: tuple[str, frozenset[str] | None, fleet.FleetRender] | None = None
    """The revision last applied with every cluster succeeded, this replica's destinations then, and the
    render: a newer revision with the same destinations plans only the clusters it touched
    (``engine.touched``); the same revision again (the interval) plans all."""

    def reconcile(self, tree: FileTree, *, revision: str, source: str, stop: threading.Event,
                  forced_from: str | None = None) -> Outcome:
        repo = loader.load(tree)
        targets = targeting.build(repo)  # once per revision: the catalog, the render and drift scans use them
        self.repo, self.targets, self.catalog = repo, targets, catalogs.from_repo(repo, targets)
        if self.replica is not None:
            self.replica.clusters = frozenset(repo.clusters)
        session = self.session_for(repo)  # the ownership terms this reconcile writes under (see _fence)
        forced = forced_from is not None
        shard = frozenset(session.destinations) if session.destinations is not None else None
        last = self._applied
        since = last[2] if last and last[0] != revision and last[1] == shard and not forced else None
        planned = engine.plan_fleet(repo, session=session, forced=forced, since=since, targets=targets)
        if stop.is_set():
            return Outcome(revision, "stopped before applying", ok=False)
        if self.reviews is not None:  # a merged pull request: its reviewed plan, if still the one to apply
            settled = self.reviews.settle(source, revision, planned.plan)
            planned = dataclasses.replace(planned, plan=settled)  # keeps what else the planning found
        plan_id = self.store.plans.save(f"plan-{uuid.uuid4().hex[:12]}", planned.plan).id
        self.store.plans.supersede(by=plan_id)
        options = engine.ApplyOptions(approve=self.store.plans.approved(planned.plan.revision),  # a held change set
                                      rollout=fleetrun.Options(approved=self.approved, pause_limit=self.pause_limit))
        try:
            report = engine.apply_plan(planned, session=session, options=options)
        except PlanError:
            self.store.plans.set_status(plan_id, PlanStatus.REFUSED)
            raise
        whole = planned.whole
        self._applied = (revision, shard, whole) if whole is not None and not report.failed else None
        outcome = outcome_of(report)
        self.store.plans.set_status(plan_id, PlanStatus.APPLIED if outcome.ok else PlanStatus.FAILED)
        for cluster, counts in object_states(planned.plan, report).items():
            metrics.set_objects(cluster, counts)
        return outcome

    def scan(self, *, stop: threading.Event) -> int:
        """``ports.DriftScan``: scan the last loaded revision's applied objects, then self-heal what asks for it."""
        repo = self.repo
        if repo is None:
            return 0
        report = drift.scan(self.store, connections=self.connections_for(repo), fleet_name=repo.name,
                            policies=drift.policies_of(self.targets), now=datetime.now(UTC), workers=self.workers,
                            health_rules=engine.health_rules(repo),
                            destinations=replicas.owned_filter(self.replica, repo.clusters))
        if not stop.is_set():
            drift.heal(report, repo=repo, session=self.session_for(repo), targets=self.targets)
        return len(report.entries)

    def _fence(self, cluster: str) -> None:
        if self.replica is not None:
            self.replica.guard(cluster, term=self._terms.get(cluster, -1))

    def heal_now(self, objects: Sequence[tuple[str, BundleId, str]], *, asked: str) -> int:
        """Re-apply these drifted objects of the last loaded revision (a person asked); the objects written."""
        repo = self.repo
        if repo is None:
            return 0
        report = drift.heal_objects(set(objects), repo=repo, session=self.session_for(repo), asked=asked)
        return report.writes if report is not None else 0

    def session_for(self, repo: FleetRepo) -> engine.Session:
        replica = self.replica
        self._terms = replica.terms() if replica is not None else {}
        return engine.Session(connections=self.connections_for(repo), store=self.store, workers=self.workers,
                              render_options=self.render_options, now=self.clock,
                              destinations=replicas.owned_filter(replica, repo.clusters))

    def connections_for(self, repo: FleetRepo) -> Connections:
        wanted = {name: located.model.spec.connection for name, located in repo.clusters.items()}
        if self._connections is None or self._connections[0] != wanted:
            if self._connections is not None:
                self._connections[1].close()
            built = sessions.connections_for(repo, kubeconfig=self.kubeconfig, settings=self.client_settings,
                                             in_cluster=self.in_cluster,
                                             fence=self._fence if self.replica is not None else None)
            self._connections = (wanted, built)
        return self._connections[1]

    def close(self) -> None:
        if self._connections is not None:
            self._connections[1].close()


def outcome_of(report: engine.ApplyReport) -> Outcome:
    """The daemon's view of an apply report: per-cluster results, writes, and a one-line summary."""
    per_cluster: dict[str, list[rollout.Result]] = {}
    for o in report.outcomes:  # one outcome per assignment a cluster's changes came from (ADR 0010)
        per_cluster.setdefault(o.cluster, []).append(o.result)
    clusters = {cluster: rollout.worst(results) for cluster, results in per_cluster.items()}
    changed = tuple(sorted({o.cluster for o in report.outcomes if o.unit is not None and o.unit.writes}))
    failed = [o for o in report.outcomes if o.result in rollout.FAILURES or o.result is rollout.Result.HALTED]
    counts = Counter(clusters.values())
    summary = ", ".join(f"{n} {r.value}" for r, n in sorted(counts.items())) or "nothing to do"
    if failed:
        summary += "; " + "; ".join(f"{o.cluster}: {o.detail}" for o in failed)
    return Outcome(report.revision, summary, ok=not failed, writes=report.writes, clusters=clusters,
                   changed=changed, held=held_of(report))


HOLDS = {UnitState.AWAITING_APPROVAL: "waiting for approval of", UnitState.WAITING: "waiting for the stage before",
         UnitState.PAUSED: "paused before", UnitState.HALTED: "halted at"}


def held_of(report: engine.ApplyReport) -> str:
    """What the rollout holds back, per stage: ``waiting for approval of platform-stable/prod-rest``."""
    found: dict[str, UnitState] = {}
    for o in report.outcomes:
        if o.state in HOLDS:
            found.setdefault(o.stage, o.state)
    return "; ".join(f"{HOLDS[state]} {stage}" for stage, state in found.items())


def object_states(plan: Plan, report: engine.ApplyReport) -> dict[str, dict[ObjectState, int]]:
    """Per destination cluster, how many objects are in sync, failed, pending or in conflict after an apply."""
    ended = {(s.change.dest, s.change.key): s.outcome for o in report.outcomes if o.unit for s in o.unit.steps}
    counts: dict[str, dict[ObjectState, int]] = {}
    for change in plan.changes:
        if change.action is Action.DELETE:
            continue
        state = _state_of(change.action, ended.get((change.dest, change.key)))
        per_cluster = counts.setdefault(change.dest, {})
        per_cluster[state] = per_cluster.get(state, 0) + 1
    return counts


def _state_of(action: Action, ended: StepOutcome | None) -> ObjectState:
    if action is Action.UNCHANGED or ended in (StepOutcome.APPLIED, StepOutcome.UNCHANGED):
        return ObjectState.IN_SYNC
    if action is Action.CONFLICT:
        return ObjectState.CONFLICT
    return ObjectState.FAILED if ended is StepOutcome.FAILED else ObjectState.PENDING
