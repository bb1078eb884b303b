"""Execute one cluster's share of a Plan: waves in plan order, each dry-run as a whole before any write.

For one rollout unit (a fleet cluster: its own bundles, plus the bundles it sends to the management
cluster), ``apply_unit`` goes wave by wave (``engine.waves``):

1. a wave whose steps wait for a step that failed or has not run is not started;
2. the objects of the wave that can fail are sent as SSA dry-runs (``engine.prechecks``: custom and
   admission kinds, updates, unknown namespaces, and each distinct created object once per run); one
   refusal and nothing of the wave is written;
3. each object is applied (field manager ``stackfleet``; forcing conflicts only per ADR 0007; fields of
   the bundle's ignore rules left out of updates) and its inventory entry added as soon as the server
   confirmed it; the wave's inventory changes and step records go to the store once the wave's writes
   are done, one transaction each;
4. the health gate waits until the wave's objects are healthy (the bundle's health timeout); Helm hook
   objects are deleted by their policies once their phase is over (``engine.hookruns``);
5. delete waves come last (prune): DELETE with the uid precondition the plan saw; a refused delete
   is recorded as failed and keeps its inventory entry, the other deletes go on.

A failure stops its bundle only: the bundle's later waves (its prune included) and every wave that waits
for its steps (its dependents) are reported skipped, the unit's other bundles go on; an unreachable
cluster or refused credentials stop the whole unit. Inventories (only the entries that changed,
``engine.ledgers``) are flushed after every wave and on the way out, so a cut leaves
``inventory = old + applied``; a rerun re-plans from live state and writes only what is still different.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import jsonpointer

from reconciler.core import diff, drift, health, plans, rollout
from reconciler.core.desired import BundleId, BundlePolicy
from reconciler.core.inventory import Entry, fingerprint
from reconciler.core.jsonvalues import clone
from reconciler.core.objects import FIELD_MANAGER, Obj, ObjectKey
from reconciler.core.plans import Action, Change
from reconciler.core.reasons import Reason
from reconciler.core.statuses import Outcome
from reconciler.core.steps import StepWrite
from reconciler.engine import gates, hookruns, prechecks, waves
from reconciler.engine.ledgers import Ledger, UnitLedger
from reconciler.engine.ports import ClusterApi, RunsPort
from reconciler.errors import ApplyError, ClusterAuthFailed, ClusterError, StackfleetError, StalePlanError


@dataclass(frozen=True)
class StepResult:
    change: Change
    outcome: Outcome
    error: str = ""
    why: Reason | None = None
    """Why a skipped step was not run."""


@dataclass(frozen=True)
class UnitResult:
    cluster: str
    result: rollout.Result
    steps: tuple[StepResult, ...] = ()
    error: str = ""

    @property
    def writes(self) -> int:
        return sum(1 for s in self.steps if s.outcome in (Outcome.APPLIED, Outcome.DELETED))


@dataclass
class Progress:
    """Step numbers done and failed so far in this run, shared by every unit."""

    known: frozenset[int] = frozenset()
    """The plan's step numbers (a wait on a step the plan no longer has is no wait)."""
    done: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)
    held: set[int] = field(default_factory=set)
    """Steps not run for want of an approval (or a self-heal policy)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def blocker(self, wave: waves.Wave) -> tuple[str, rollout.Result]:
        """Why ``wave`` cannot start (empty when it can), and what that makes of its cluster."""
        with self.lock:
            waits = ({w for c in wave.changes for w in c.after} & self.known) - wave.steps
            held, failed, missing = sorted(waits & self.held), sorted(waits & self.failed), sorted(waits - self.done)
        if held:
            return f"waits for step {held[0]}, which needs approval", rollout.Result.AWAITING_APPROVAL
        if failed:
            return f"waits for step {failed[0]}, which failed", rollout.Result.FAILED
        return (f"waits for step {missing[0]}, which has not run" if missing else ""), rollout.Result.FAILED

    def mark(self, steps: frozenset[int], *, ok: bool) -> None:
        with self.lock:
            (self.done if ok else self.failed).update(steps)

    def hold(self, steps: frozenset[int]) -> None:
        with self.lock:
            self.held.update(steps)


@dataclass
class Context:
    """Everything a unit's apply needs; one per run, shared by the units."""

    run_id: str
    runs: RunsPort
    ledger: Ledger
    client: Callable[[str, float], ClusterApi]
    """``client(dest, wait_seconds)``: the client of ``dest``, waiting that long for a cluster being provisioned."""
    objects: Mapping[tuple[str, ObjectKey], Obj]
    policies: Mapping[tuple[str, BundleId], BundlePolicy]
    progress: Progress = field(default_factory=Progress)
    timing: gates.Timing = field(default_factory=gates.Timing)
    checks: prechecks.Checks = field(default_factory=prechecks.Checks)
    """Which dry-runs this run still needs (shared by the units)."""
    health_rules: tuple[health.Rule, ...] = ()
    """The fleet's own health rules (``core.healthrules``)."""
    approve: bool = False
    on_step: Callable[[StepResult], None] = lambda _: None
    heal: bool = False
    """Put drifted fields back in every bundle (a person's apply), not only in those with ``selfHeal``."""

    def policy(self, change: Change) -> BundlePolicy:
        return self.policies.get((change.dest, change.bundle), BundlePolicy())

    def heals(self, change: Change) -> bool:
        """Whether drift of ``change``'s object is corrected in this run."""
        return self.heal or self.policy(change).self_heal


class _Halt(Exception):
    def __init__(self, error: StackfleetError, result: rollout.Result) -> None:
        self.error, self.result = error, result
        super().__init__(str(error))


@dataclass
class _Unit:
    ctx: Context
    ledger: UnitLedger
    namespaces: set[str] = field(default_factory=set)
    """Namespaces known to exist on the unit's clusters (live when planned, or written by this unit)."""
    results: list[StepResult] = field(default_factory=list)
    pending: hookruns.Pending = field(default_factory=hookruns.Pending)
    stopped: set[tuple[str, BundleId]] = field(default_factory=set)
    """Bundles (destination, bundle) that failed or wait for a failed step: their later waves are skipped."""
    failures: list[ApplyError] = field(default_factory=list)
    _steps: list[StepWrite] = field(default_factory=list)

    def record(self, change: Change, outcome: Outcome, error: str = "", why: Reason | None = None) -> None:
        result = StepResult(change, outcome, error, why)
        self.results.append(result)
        self._steps.append(StepWrite(change.dest, change.bundle, change.key, change.action.value, outcome, error))
        self.ctx.on_step(result)

    def flush(self) -> None:
        """The inventory changes and the step records since the last flush, one transaction each."""
        self.ledger.flush()
        steps, self._steps = self._steps, []
        self.ctx.runs.record_steps(self.ctx.run_id, steps)


def apply_unit(cluster: str, changes: Sequence[Change], ctx: Context) -> UnitResult:
    """Apply the actionable ``changes`` of fleet cluster ``cluster`` (all its plan changes, in step order)."""
    live_namespaces = {c.key.name for c in changes if c.key.group_kind == "Namespace" and c.live_uid}
    unit = _Unit(ctx, ctx.ledger.unit(), live_namespaces)
    steps = [c for c in changes if c.step is not None]
    cut = waves.split(steps)
    try:
        for index, wave in enumerate(cut):
            _isolated(unit, wave)
            unit.pending.settle(_spot(cut[index + 1]) if index + 1 < len(cut) else None)
        _keep_unchanged(unit.ledger, ctx, changes)
    except _Halt as halt:
        unit.pending.fail()
        _skip_rest(unit, steps, reason=f"not started: {halt.error.message}")
        return UnitResult(cluster, halt.result, tuple(unit.results), str(halt.error))
    finally:
        unit.flush()
    failed = [r for r in unit.results if r.outcome is Outcome.FAILED]
    if unit.failures:
        return UnitResult(cluster, rollout.Result.FAILED, tuple(unit.results), str(unit.failures[0]))
    return UnitResult(cluster, _status(unit.results), tuple(unit.results), failed[0].error if failed else "")


def _isolated(unit: _Unit, wave: waves.Wave) -> None:
    """Run ``wave``; a failure of its bundle (or a wait on a failed step) stops that bundle only.

    The failed bundle's later waves and the waves that wait for its steps (its dependents, the
    bundles of later layers) are skipped; the cluster's other bundles go on. What stops the whole
    unit: an unreachable cluster, refused credentials, and a wait on a step that needs approval.
    """
    slot = (wave.dest, wave.bundle)
    if slot in unit.stopped:
        _skip_wave(unit, wave, reason=f"not started: bundle {wave.bundle} failed")
        return
    try:
        _run_wave(unit, wave)
    except _Halt as halt:
        if halt.result is not rollout.Result.FAILED or not isinstance(halt.error, ApplyError):
            raise
        unit.stopped.add(slot)
        unit.failures.append(halt.error)
        unit.pending.fail(slot)
        _skip_wave(unit, wave, reason=f"not started: {halt.error.message}")


def _skip_wave(unit: _Unit, wave: waves.Wave, *, reason: str) -> None:
    unit.ctx.progress.mark(wave.steps, ok=False)
    _skip_rest(unit, wave.changes, reason=reason)


def _spot(wave: waves.Wave) -> hookruns.Spot:
    first = wave.changes[0]
    rank = len(hookruns.RANKS) if wave.delete else hookruns.RANKS[first.hook.phase if first.hook else ""]
    return hookruns.Spot(wave.dest, wave.bundle, rank)


def _status(results: Sequence[StepResult]) -> rollout.Result:
    outcomes = {r.outcome for r in results}
    if Outcome.FAILED in outcomes:
        return rollout.Result.FAILED
    if any(r.why is Reason.NEEDS_APPROVAL for r in results):
        return rollout.Result.AWAITING_APPROVAL
    written = outcomes & {Outcome.APPLIED, Outcome.DELETED}
    return rollout.Result.SUCCEEDED if written else rollout.Result.UNCHANGED


def _run_wave(unit: _Unit, wave: waves.Wave) -> None:
    blocker, result = unit.ctx.progress.blocker(wave)
    if blocker:
        if result is rollout.Result.AWAITING_APPROVAL:
            unit.ctx.progress.hold(wave.steps)
        unit.ctx.progress.mark(wave.steps, ok=False)
        raise _Halt(ApplyError(blocker, cluster=wave.dest, bundle=str(wave.bundle)), result)
    held, ready = _held(unit, wave.changes)
    unit.ctx.progress.hold(held)
    if not ready:
        return
    try:
        client = unit.ctx.client(wave.dest, unit.ctx.policy(wave.changes[0]).health_timeout_seconds)
        ok = _prune(unit, client, ready) if wave.delete else _apply(unit, client, ready)
    except ClusterError as exc:
        unit.ctx.progress.mark(wave.steps, ok=False)
        raise _Halt(exc, _result_of(exc)) from None
    unit.ctx.progress.mark(wave.steps - held, ok=ok)


def _result_of(error: ClusterError) -> rollout.Result:
    if isinstance(error, ClusterAuthFailed):
        return rollout.Result.AUTH_FAILED
    return rollout.Result.FAILED if isinstance(error, ApplyError) else rollout.Result.UNREACHABLE


def _held(unit: _Unit, changes: Sequence[Change]) -> tuple[frozenset[int], list[Change]]:
    """Steps not to run, recorded as skipped: those needing approval (returned: what waits on them
    waits too) and drift left alone without self-heal (the object is there: nothing waits on it)."""
    held: set[int] = set()
    ready: list[Change] = []
    for change in changes:
        hold = _hold_reason(change, unit.ctx)
        if hold is None:
            ready.append(change)
            continue
        unit.record(change, Outcome.SKIPPED, hold[1], hold[0])
        if change.needs_approval:
            held.add(change.step or 0)
        else:
            unit.ctx.progress.mark(frozenset({change.step or 0}), ok=True)
    return frozenset(held), ready


def _hold_reason(change: Change, ctx: Context) -> tuple[Reason, str] | None:
    if change.needs_approval and not ctx.approve:
        return Reason.NEEDS_APPROVAL, f"needs approval: {change.approval}"
    if change.drift and change.action is Action.UPDATE and not ctx.heals(change):
        return Reason.SELF_HEAL_OFF, "drift reported, not corrected: selfHeal is off for this bundle"
    return None


def _apply(unit: _Unit, client: ClusterApi, changes: Sequence[Change]) -> bool:
    for change in changes:
        if change.hook and change.live_uid and "before-hook-creation" in change.hook.delete_policies:
            hookruns.replace_previous(client, change)
    sends = [(c, _object(c, unit.ctx, client)) for c in changes]
    now, claimed, later = unit.ctx.checks.split(sends, namespaces=unit.namespaces)
    passed = False
    try:
        _dry_run(unit, client, now, sends)
        passed = True
    finally:
        unit.ctx.checks.answer(claimed, passed=passed)
    _dry_run(unit, client, unit.ctx.checks.still_needed(later), sends)
    applied = {change.key: _write(unit, client, change, obj) for change, obj in sends}
    unit.flush()
    try:
        return _gate(unit, client, changes, applied)
    finally:
        unit.pending.add(client, changes, applied)


def _dry_run(unit: _Unit, client: ClusterApi, checks: Sequence[tuple[Change, Obj]],
             sends: Sequence[tuple[Change, Obj]]) -> None:
    """Dry-run ``checks``; on the first refusal every step of the wave (``sends``) fails unwritten."""
    for change, obj in checks:
        try:
            client.apply(obj, dry_run=True, force=_may_force(change, unit.ctx))
        except ApplyError as exc:
            for other, _ in sends:
                unit.record(other, Outcome.FAILED, exc.message if other is change else "wave failed its dry-run")
            raise _Halt(exc, rollout.Result.FAILED) from None


def _write(unit: _Unit, client: ClusterApi, change: Change, obj: Obj) -> Obj:
    try:
        kept = client.apply(obj, force=_may_force(change, unit.ctx))
    except ApplyError as exc:
        unit.record(change, Outcome.FAILED, exc.message)
        raise _Halt(exc, rollout.Result.FAILED) from None
    uid = str((kept.get("metadata") or {}).get("uid", ""))
    if change.key.group_kind == "Namespace":
        unit.namespaces.add(change.key.name)
    if change.hook is None:  # hook objects stay out of the inventory: never pruned
        unit.ledger.add(change.dest, change.bundle, Entry(change.key, uid, change.object_hash or fingerprint(obj)))
    unit.record(change, Outcome.APPLIED)
    return kept


def _gate(unit: _Unit, client: ClusterApi, changes: Sequence[Change], applied: Mapping[ObjectKey, Obj]) -> bool:
    timeout = unit.ctx.policy(changes[0]).health_timeout_seconds
    gate = gates.wait_healthy(client, applied, timeout=timeout, timing=unit.ctx.timing, rules=unit.ctx.health_rules)
    if not gate.ok:
        raise _Halt(ApplyError(gate.reason, cluster=changes[0].dest, bundle=str(changes[0].bundle)),
                    rollout.Result.FAILED)
    return True


def _may_force(change: Change, ctx: Context) -> bool:
    """Force conflicts only on fields we own (ADR 0007): an approved adoption hands the object to us;
    otherwise only drift (desired did not move since our last apply, so every field it declares was
    ours) in a bundle that self-heals."""
    if change.action is Action.ADOPT:
        return True  # only reached when allowed or approved (see _hold_reason)
    return change.drift and ctx.heals(change)


def _object(change: Change, ctx: Context, client: ClusterApi) -> Obj:
    rendered = ctx.objects.get((change.dest, change.key))
    if rendered is None:
        raise _Halt(StalePlanError("object is no longer rendered", cluster=change.dest,
                                         bundle=str(change.bundle), object=str(change.key)), rollout.Result.FAILED)
    try:
        checked = plans.check_object(change, rendered)
    except StalePlanError as exc:
        raise _Halt(exc, rollout.Result.FAILED) from None
    pointers = [p for rule in ctx.policy(change).ignore if rule.applies_to(change.key) for p in rule.pointers]
    if not pointers or change.action is Action.CREATE:
        return checked
    return ignoring(checked, client.get(change.key), pointers)


def ignoring(obj: Obj, live: Obj | None, pointers: Sequence[str]) -> Obj:
    """``obj`` as applied over ``live`` when its bundle ignores ``pointers``: the live value stays.

    An ignored field another manager owns (an autoscaler's ``spec.replicas``) is left out, so we stop
    owning it and never conflict with them; one only we own gets its live value (left out, server-side
    apply would delete it). A create applies the declared value, so the object starts with it (as Argo
    CD's RespectIgnoreDifferences does).
    """
    out: Obj = clone(obj)
    for pointer in pointers:
        if jsonpointer.resolve_pointer(out, pointer, _ABSENT) is _ABSENT:
            continue
        value = jsonpointer.resolve_pointer(live, pointer, _ABSENT) if live is not None else _ABSENT
        others = live is not None and any(m.name != FIELD_MANAGER for m in drift.owners_of(live, pointer))
        if value is _ABSENT or others:
            diff.remove_pointer(out, pointer)
        else:
            jsonpointer.set_pointer(out, pointer, clone(value))
    return out


_ABSENT = object()


def _prune(unit: _Unit, client: ClusterApi, changes: Sequence[Change]) -> bool:
    ok = True
    for change in changes:
        try:
            client.delete(change.key, uid=change.live_uid or "")
        except ApplyError as exc:
            unit.record(change, Outcome.FAILED, exc.message)
            ok = False
            continue
        if change.key.group_kind in gates.WAIT_GONE:
            gone = gates.wait_gone(client, change.key, timeout=unit.ctx.policy(change).health_timeout_seconds,
                                   timing=unit.ctx.timing)
            if not gone.ok:
                unit.record(change, Outcome.FAILED, gone.reason)  # kept in the inventory: deleted again next run
                ok = False
                continue
        unit.ledger.remove(change.dest, change.bundle, change.key)
        unit.record(change, Outcome.DELETED)
    return ok


def _keep_unchanged(ledger: UnitLedger, ctx: Context, changes: Sequence[Change]) -> None:
    """Unchanged objects that are live and ours join the inventory; ones already gone leave it."""
    for change in changes:
        if change.action is not Action.UNCHANGED:
            continue
        rendered = ctx.objects.get((change.dest, change.key))
        if change.live_uid and rendered is not None:
            ledger.add(change.dest, change.bundle, Entry(change.key, change.live_uid, fingerprint(rendered)))
        elif change.live_uid is None:
            ledger.remove(change.dest, change.bundle, change.key)


def _skip_rest(unit: _Unit, steps: Sequence[Change], *, reason: str) -> None:
    seen = {id(r.change) for r in unit.results}
    for change in steps:
        if id(change) not in seen:
            unit.record(change, Outcome.SKIPPED, reason, Reason.NOT_STARTED)
