"""The reconcile pipeline, as a list of steps: load spec -> render -> observe -> plan -> apply -> record.

::

    session = reconcile.Session(connections=..., store=store)
    planned = reconcile.plan_fleet(repo, session=session)          # render, observe, plan
    report = reconcile.apply_plan(planned, session=session)        # rollout, apply, record

``apply_saved`` applies a plan read from a file: it renders and observes afresh, refuses the plan
when anything it recorded moved (``engine.staleness``) or a step is not one a fresh plan makes
(``core.rechecks``), then applies exactly its steps.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from reconciler.core import generated, guards, healthrules, planner, rechecks, retirements, rollout, targeting
from reconciler.core.desired import BundleId, BundlePolicy, DesiredBundle
from reconciler.core.inventory import Inventory
from reconciler.core.live import LiveCluster
from reconciler.core.objects import Obj, ObjectKey
from reconciler.core.plans import Change, Plan
from reconciler.core.reasons import Reason
from reconciler.core.statuses import PlanPhase, Reachability, RunStatus, UnitState
from reconciler.engine import applied, apply, fleetrun, gates, notices, staleness, touched, units
from reconciler.engine.ledgers import Ledger
from reconciler.engine.ports import ClusterApi, StateStore
from reconciler.errors import ClusterError, ConfigError
from reconciler.kube import observe
from reconciler.kube.connections import Connections, KubeconfigPending
from reconciler.render import fleet
from reconciler.spec.loader import FleetRepo
from reconciler.spec.models import Connection, SecretRef


@dataclass
class Session:
    """The edges one reconcile talks to, and how it behaves."""

    connections: Connections
    store: StateStore
    render_options: fleet.Options = field(default_factory=fleet.Options)
    workers: int = 16
    """Clusters observed at the same time."""
    timing: gates.Timing = field(default_factory=gates.Timing)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    destinations: Collection[str] | None = None
    """Only the bundles applied to these clusters (a replica's share of the fleet); None: all."""


@dataclass(frozen=True)
class Planned:
    repo: FleetRepo
    render: fleet.FleetRender
    live: Mapping[str, LiveCluster]
    plan: Plan
    retiring: tuple[retirements.Retiring, ...] = ()
    """Child clusters that left the fleet (``core.retirements``)."""
    scope: frozenset[str] = frozenset()
    """The fleet clusters planned (empty: all). A run over part of the fleet leaves stage marks alone:
    it cannot tell whether a stage is ready."""
    inventory: Inventory | None = None
    """The inventory the plan was made from (the apply's ledger starts from it, no store read)."""
    whole: fleet.FleetRender | None = None
    """The render of the whole fleet when ``render`` holds only some clusters' bundles."""


@dataclass(frozen=True)
class ApplyOptions:
    approve: bool = False
    """Also run steps that need approval (protected kinds, prune budget, adoption)."""
    rollout: fleetrun.Options = field(default_factory=fleetrun.Options)
    on_step: Callable[[apply.StepResult], None] = lambda _: None
    heal: bool = False
    """Put drifted fields back in every bundle: what a person's ``stackfleet apply`` means (``selfHeal``
    only decides whether the daemon does so by itself)."""


@dataclass(frozen=True)
class ApplyReport:
    run_id: str
    revision: str
    outcomes: tuple[fleetrun.Outcome, ...]

    @property
    def failed(self) -> bool:
        return any(o.result not in rollout.SUCCESSES for o in self.outcomes)

    @property
    def writes(self) -> int:
        return sum(o.unit.writes for o in self.outcomes if o.unit is not None)


# ---- the pipeline ---------------------------------------------------------------------------------


def plan_fleet(repo: FleetRepo, *, session: Session, clusters: Collection[str] = (), forced: bool = False,
               on_phase: Callable[[PlanPhase], None] = lambda _: None,
               since: fleet.FleetRender | None = None,
               targets: Sequence[targeting.Target] | None = None) -> Planned:
    """Render, observe and plan the fleet (or only the fleet clusters in ``clusters``).

    ``forced``: the revision does not descend from the last one applied (a force-push), so the
    planner marks every deletion as needing approval. ``on_phase`` is called as each phase begins.
    ``since``: the render last applied in full; only the fleet clusters whose render differs from it
    are observed and planned (``engine.touched``; nothing at all when none does). ``targets``: the
    repo's targets, when the caller (the daemon's cycle) built them once for everything it does with
    this revision.
    """
    on_phase(PlanPhase.RENDER)
    whole = fleet.render(repo, options=session.render_options, targets=targets)
    chosen: Collection[str] | None = touched.touched(since, whole) if since is not None else clusters or None
    rendered = _only(whole, chosen, session.destinations)
    inventory = _inventory(session.store, chosen, session.destinations)
    retiring = retiring_step(repo, inventory, session=session)
    on_phase(PlanPhase.OBSERVE)
    live = observe_step(rendered, inventory, session=session, fleet_name=repo.name)
    rendered = dataclasses.replace(rendered, bundles=generated.keep(rendered.bundles, live))
    record_step(session.store, live)
    on_phase(PlanPhase.PLAN)
    paused = [c.name for c in session.store.clusters.all() if c.paused]  # paused through the API
    plan = plan_step(repo, rendered, live, inventory, now=session.now(), forced=forced,
                     retiring=frozenset(r.cluster for r in retiring), paused=paused)
    return Planned(repo, rendered, live, plan, tuple(retiring), frozenset(chosen or ()), inventory, whole)


def apply_plan(planned: Planned, *, session: Session, options: ApplyOptions = ApplyOptions()) -> ApplyReport:
    """Roll ``planned.plan`` out and record it; returns what happened per cluster."""
    run_id = f"run-{uuid.uuid4().hex[:12]}"
    session.store.runs.start(run_id, revision=planned.plan.revision)
    derive_connections(planned.retiring, session=session)
    ctx = _context(planned, run_id=run_id, session=session, options=options)
    split, staged = rollout_of(planned)
    members = units.members(planned.render.bundles, providers=_providers(planned.plan))
    memory = _memory(session.store, split, members, planned.live)
    rollout_options = replace(options.rollout, now=session.now,
                              paused=options.rollout.paused | session.store.rollouts.paused())
    outcomes: list[fleetrun.Outcome] = []
    for group, stages in itertools.groupby(staged, key=lambda s: s.group):
        def execute(cluster: str, group: str = group) -> apply.UnitResult:
            return _execute(cluster, split[(cluster, group)], planned.plan, ctx)

        outcomes += fleetrun.run(list(stages), execute, options=rollout_options, memory=memory)  # groups never share a gate
    before = {(u.cluster, u.assignment): u for u in session.store.rollouts.units()}
    _remember(session.store, planned, memory, outcomes)
    notices.record(session.store.events, run_id=run_id, revision=planned.plan.revision, outcomes=outcomes,
                   before=before, after=memory.units)
    report = ApplyReport(run_id, planned.plan.revision, tuple(outcomes))
    session.store.runs.finish(run_id, RunStatus.FAILED if report.failed else RunStatus.SUCCEEDED)
    applied.record_applied(session.store, planned.render.bundles, revision=planned.plan.revision,  # for drift scans
                           only=ctx.ledger.written)
    retire_step(planned.retiring, session=session)
    return report


def apply_saved(plan: Plan, repo: FleetRepo, *, session: Session, options: ApplyOptions = ApplyOptions()) -> ApplyReport:
    """Apply a saved plan exactly, after refusing it if its revision or live objects moved, or if any
    step is not one a fresh plan makes now (``core.rechecks``: ownership marks, inventory, approvals).

    The plan's MAC is checked where it is read (``core.signatures.from_json``)."""
    clusters = sorted({c.bundle.cluster for c in plan.changes})
    fresh = plan_fleet(repo, session=session, clusters=clusters)
    objects = rendered_objects(fresh.render.bundles)
    staleness.check(plan, revision=repo.revision, live=fresh.live, objects=objects)
    rechecks.check(plan, fresh=fresh.plan, live=fresh.live, inventory=inventory_step(session.store, clusters=clusters),
                   fleet=repo.name, declared=objects.keys())
    return apply_plan(Planned(repo, fresh.render, fresh.live, plan, fresh.retiring, fresh.scope, fresh.inventory),
                      session=session, options=options)


# ---- steps ----------------------------------------------------------------------------------------


def render_step(repo: FleetRepo, *, session: Session, clusters: Collection[str],
                targets: Sequence[targeting.Target] | None = None) -> fleet.FleetRender:
    rendered = fleet.render(repo, options=session.render_options, targets=targets)
    return _only(rendered, clusters or None, session.destinations)


def _only(rendered: fleet.FleetRender, clusters: Collection[str] | None,
          shard: Collection[str] | None) -> fleet.FleetRender:
    """The bundles and failures of the fleet clusters in ``clusters`` (all for None) sent to ``shard``'s
    destinations (all for None)."""
    if clusters is None and shard is None:
        return rendered

    def wanted(cluster: str, dest: str) -> bool:
        return (clusters is None or cluster in clusters) and (shard is None or dest in shard)

    return fleet.FleetRender(rendered.revision, tuple(b for b in rendered.bundles if wanted(b.id.cluster, b.dest)),
                             tuple(f for f in rendered.failures if wanted(f.id.cluster, f.dest)))


def inventory_step(store: StateStore, *, clusters: Collection[str],
                   destinations: Collection[str] | None = None) -> Inventory:
    return _inventory(store, clusters or None, destinations)


def _inventory(store: StateStore, clusters: Collection[str] | None,
               destinations: Collection[str] | None) -> Inventory:
    """The stored inventory of the fleet clusters in ``clusters`` (all for None; none for an empty one)
    at ``destinations`` (all for None)."""
    if clusters is not None and not clusters:
        return Inventory.of(())
    found = store.inventories.load_all()
    if clusters is None and destinations is None:
        return found
    return Inventory.of(b for b in found if (clusters is None or b.bundle.cluster in clusters)
                        and (destinations is None or b.dest in destinations))


def retiring_step(repo: FleetRepo, inventory: Inventory, *, session: Session) -> list[retirements.Retiring]:
    """Child clusters that left the fleet, reachable through their Cluster API kubeconfig Secret meanwhile."""
    found = retirements.find(inventory, fleet_clusters=repo.clusters)
    derive_connections(found, session=session)
    return found


def derive_connections(retiring: Iterable[retirements.Retiring], *, session: Session) -> None:
    for leaving in retiring:
        holder, namespace, name = leaving.kubeconfig_secret
        session.connections.derive(leaving.cluster, Connection(
            kubeconfig_secret=SecretRef(cluster=holder, namespace=namespace, name=name)))


def retire_step(retiring: Sequence[retirements.Retiring], *, session: Session) -> None:
    """Forget every retiring cluster whose Cluster API Cluster its management cluster confirms gone."""
    for leaving in retiring:
        try:
            still = session.connections.client(leaving.management).get(leaving.capi_cluster)
        except (ClusterError, ConfigError):
            continue  # cannot confirm: keep everything for the next run
        if still is None:
            session.store.clusters.retire(leaving.cluster)
            session.connections.forget(leaving.cluster)


def observe_step(rendered: fleet.FleetRender, inventory: Inventory, *, session: Session,
                 fleet_name: str) -> dict[str, LiveCluster]:
    """Observe every destination cluster, ``session.workers`` at a time."""
    desired: dict[str, list[Obj]] = {}
    for bundle in rendered.bundles:
        desired.setdefault(bundle.dest, []).extend(bundle.objects)
    held: dict[str, set[ObjectKey]] = {}
    for bundle_inventory in inventory:
        held.setdefault(bundle_inventory.dest, set()).update(bundle_inventory.keys)
    dests = sorted({*desired, *held, *(f.dest for f in rendered.failures)})

    def one(dest: str) -> LiveCluster:
        return _observe(dest, session.connections, fleet_name=fleet_name, desired=desired.get(dest, []),
                        held=held.get(dest, set()))

    with ThreadPoolExecutor(max_workers=max(1, session.workers), thread_name_prefix="observe") as pool:
        return dict(zip(dests, pool.map(one, dests), strict=True))


def plan_step(repo: FleetRepo, rendered: fleet.FleetRender, live: Mapping[str, LiveCluster], inventory: Inventory,
              *, now: datetime, forced: bool = False, retiring: frozenset[str] = frozenset(),
              paused: Collection[str] = ()) -> Plan:
    """The plan; ``paused`` names clusters paused outside the fleet repo (through the API)."""
    spec = repo.fleet.model.spec
    policy = planner.PlanPolicy(
        prune_budget_percent=spec.policy.prune_budget_percent,
        protected_kinds=frozenset(spec.policy.protected_kinds),
        paused_clusters=frozenset(n for n, c in repo.clusters.items() if c.model.spec.paused) | set(paused),
        retiring=retiring,
        guards=guards.of_spec(spec.policy.guards),
    )
    return planner.plan(desired=rendered.bundles, failures=rendered.failures, live=live, inventory=inventory,
                        policy=policy, revision=repo.revision, previous_revision_forced=forced, now=now)


def record_step(store: StateStore, live: Mapping[str, LiveCluster]) -> None:
    """What every observed cluster answered, for the dashboard and the API (one transaction)."""
    store.clusters.set_statuses((n, c.status, c.reason) for n, c in sorted(live.items()))


# ---- helpers --------------------------------------------------------------------------------------


def rendered_objects(bundles: Iterable[DesiredBundle]) -> dict[tuple[str, ObjectKey], Obj]:
    """Every rendered object by (destination, key), Helm hook objects included (they are steps too)."""
    return {(b.dest, ObjectKey.of(o)): o for b in bundles for o in (*b.objects, *(h.object for h in b.hooks))}


def _observe(dest: str, connections: Connections, *, fleet_name: str, desired: list[Obj],
             held: set[ObjectKey]) -> LiveCluster:
    nothing_yet = LiveCluster.reachable(dest, objects=[])  # still being provisioned: nothing there yet
    return observe.observe_dest(dest, connections, fleet=fleet_name, desired=desired, inventory=held,
                                pending=nothing_yet)


def _context(planned: Planned, *, run_id: str, session: Session, options: ApplyOptions) -> apply.Context:
    objects = rendered_objects(planned.render.bundles)
    policies: dict[tuple[str, BundleId], BundlePolicy] = {(b.dest, b.id): b.policy for b in planned.render.bundles}
    return apply.Context(
        run_id=run_id, runs=session.store.runs,
        ledger=Ledger(session.store.inventories, planned.plan.revision, versions=_versions(planned),
                      known=planned.inventory),
        client=_client_getter(session), objects=objects, policies=policies,
        progress=apply.Progress(known=frozenset(c.step for c in planned.plan.steps if c.step is not None)),
        timing=session.timing, approve=options.approve, on_step=options.on_step, heal=options.heal,
        health_rules=health_rules(planned.repo),
    )


def _versions(planned: Planned) -> dict[tuple[str, BundleId], str]:
    return {(b.dest, b.id): b.version for b in planned.render.bundles}


def health_rules(repo: FleetRepo) -> tuple[healthrules.HealthRule, ...]:
    """The fleet's own health rules, as ``fleet.yaml`` declares them."""
    return healthrules.compile_rules((r.kind, r.group, r.healthy, r.degraded, r.message)
                                     for r in repo.fleet.model.spec.health)


def _client_getter(session: Session) -> Callable[[str, float], ClusterApi]:
    def client(dest: str, wait: float) -> ClusterApi:
        deadline = session.timing.clock() + wait
        while True:
            try:
                return session.connections.client(dest)
            except KubeconfigPending:
                if session.timing.clock() >= deadline:
                    raise
                session.timing.sleep(session.timing.poll)

    return client


def rollout_of(planned: Planned) -> tuple[dict[units.Unit, list[Change]], list[rollout.Stage]]:
    """The plan's rollout units with changes (ADR 0010) and the stages of every unit the render puts on
    the fleet (ADR 0022: a stage's members include its units with nothing to do)."""
    providers = _providers(planned.plan)
    split = units.split(planned.plan, sources={b.id: b.source for b in planned.render.bundles}, providers=providers)
    members = units.members(planned.render.bundles, providers=providers)
    return split, _stages(planned, [*split, *members], split, providers)


def _remember(store: StateStore, planned: Planned, memory: fleetrun.Memory,
              outcomes: Sequence[fleetrun.Outcome]) -> None:
    """Store what the rollout learnt. A run over the whole fleet stores every unit and the stage marks;
    a run over part of it (``--cluster``, a heal) cannot judge a stage, so it stores only the units it
    ran and leaves the marks alone."""
    if not planned.scope:
        store.rollouts.save(memory.marks, memory.units.values(), clusters=sorted({c for c, _ in memory.units}))
        return
    ran = {(o.cluster, o.stage.partition("/")[0]) for o in outcomes}
    store.rollouts.save({}, [u for key, u in memory.units.items() if key in ran])


def _memory(store: StateStore, split: Mapping[units.Unit, Sequence[Change]],
            members: Mapping[units.Unit, Sequence[DesiredBundle]], live: Mapping[str, LiveCluster]) -> fleetrun.Memory:
    """What the rollout reads from the store, and how it tells units with changes from idle ones."""
    def changed(cluster: str, group: str) -> bool:
        return (cluster, group) in split

    def idle(cluster: str, group: str) -> UnitState:
        return units.idle_state(members.get((cluster, group), ()), live)

    return fleetrun.Memory(marks=store.rollouts.marks(), changed=changed, idle=idle, retries=store.rollouts.retries())


def _stages(planned: Planned, members: Iterable[units.Unit], split: Mapping[units.Unit, Sequence[Change]],
            providers: Sequence[str]) -> list[rollout.Stage]:
    spec = planned.repo.fleet.model.spec
    labels = {n: dict(c.model.metadata.labels) for n, c in planned.repo.clusters.items()}
    return rollout.plan_unit_stages(units=members, policies={a.name: a.rollout for a in spec.assignments},
                                    order=[a.name for a in spec.assignments], labels=labels,
                                    providers=providers, installs=units.installs(split))


def _providers(plan: Plan) -> list[str]:
    """Fleet clusters whose steps another fleet cluster's steps wait for."""
    unit_of = {c.step: c.bundle.cluster for c in plan.steps}
    return sorted({unit_of[w] for c in plan.steps for w in c.after if w in unit_of and unit_of[w] != c.bundle.cluster})


def _execute(unit: str, changes: Sequence[Change], plan: Plan, ctx: apply.Context) -> apply.UnitResult:
    """Apply one fleet cluster (with nothing to do, this still takes its unchanged objects into the inventory)."""
    held = _held_result(unit, changes, plan)
    result = apply.apply_unit(unit, changes, ctx)
    if held and result.result in rollout.SUCCESSES:
        return apply.UnitResult(unit, held[0], result.steps, held[1])
    return result


def _held_result(unit: str, changes: Sequence[Change], plan: Plan) -> tuple[rollout.Result, str] | None:
    """Paused or unreadable clusters: reported as such, never as success."""
    status = {c.name: c for c in plan.clusters}
    for dest in sorted({c.dest for c in changes}):
        record = status.get(dest)
        if record is not None and record.status in _HELD:
            return _HELD[record.status], f"cluster {dest}: {record.reason}"
    if any(c.why is Reason.PAUSED for c in changes):
        return rollout.Result.PAUSED, "cluster is paused"
    return None


_HELD = {Reachability.AUTH_FAILED: rollout.Result.AUTH_FAILED, Reachability.UNREACHABLE: rollout.Result.UNREACHABLE}
"""What an unreadable destination makes of its unit's rollout result."""
