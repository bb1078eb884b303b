"""The rollout runner with a stand-in for applying one cluster: in-flight bound, budget, approval, pause."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from reconciler.core.rollout import Result, Stage
from reconciler.core.stagegates import StageMark
from reconciler.core.statuses import UnitState
from reconciler.engine import fleetrun
from reconciler.engine.apply import UnitResult


class Recorder:
    """Applies clusters by looking up their result; records concurrency and start order."""

    def __init__(self, results: dict[str, Result]) -> None:
        self.results, self.started, self.peak, self._now = results, [], 0, 0
        self._lock = threading.Lock()

    def __call__(self, cluster: str) -> UnitResult:
        with self._lock:
            self.started.append(cluster)
            self._now += 1
            self.peak = max(self.peak, self._now)
        time.sleep(0.01)
        with self._lock:
            self._now -= 1
        return UnitResult(cluster, self.results.get(cluster, Result.SUCCEEDED))


def stage(name: str, clusters: str, **more) -> Stage:
    return Stage("g", name, tuple(clusters.split()), **more)


def test_at_most_max_in_flight_clusters_run_at_once():
    run = Recorder({})
    outcomes = fleetrun.run([stage("all", "a b c d e f", max_in_flight=2)], run, options=fleetrun.Options())
    assert run.peak <= 2 and len(outcomes) == 6


def test_past_the_budget_no_new_cluster_starts_and_the_rest_are_halted():
    run = Recorder({"a": Result.FAILED, "b": Result.UNREACHABLE})
    stages = [stage("one", "a b c d", max_in_flight=1, failure_budget=1), stage("two", "e")]
    outcomes = {o.cluster: o.result for o in fleetrun.run(stages, run, options=fleetrun.Options())}
    assert run.started == ["a", "b"]
    assert outcomes == {"a": Result.FAILED, "b": Result.UNREACHABLE, "c": Result.HALTED, "d": Result.HALTED,
                        "e": Result.HALTED}


def test_a_stage_needing_approval_runs_only_when_approved():
    stages = [stage("one", "a"), stage("two", "b", approval=True)]
    waiting = fleetrun.run(stages, Recorder({}), options=fleetrun.Options())
    assert [o.result for o in waiting] == [Result.SUCCEEDED, Result.AWAITING_APPROVAL]
    approved = fleetrun.run(stages, Recorder({}), options=fleetrun.Options(approved=frozenset({"g/two"})))
    assert [o.result for o in approved] == [Result.SUCCEEDED, Result.SUCCEEDED]


class Clock:
    """A clock that moves only when slept on (or told to)."""

    def __init__(self) -> None:
        self.at = datetime(2026, 1, 1, tzinfo=UTC)
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += timedelta(seconds=seconds)


def test_a_short_pause_is_waited_out_and_a_long_one_stops_the_run():
    clock = Clock()
    stages = [stage("one", "a"), stage("two", "b", pause_seconds=30)]
    fleetrun.run(stages, Recorder({}), options=fleetrun.Options(pause_limit=60, sleep=clock.sleep, now=clock.now))
    assert clock.slept == [30]
    stopped = fleetrun.run(stages, Recorder({}),
                           options=fleetrun.Options(pause_limit=10, sleep=clock.sleep, now=clock.now))
    assert [o.result for o in stopped] == [Result.SUCCEEDED, Result.WAITING]


def test_a_pause_counts_from_when_the_previous_stage_became_ready_across_runs():
    clock, memory = Clock(), fleetrun.Memory()
    stages = [stage("one", "a"), stage("two", "b", pause_seconds=600)]
    options = fleetrun.Options(sleep=clock.sleep, now=clock.now)
    fleetrun.run(stages, Recorder({}), options=options, memory=memory)
    clock.at += timedelta(seconds=599)
    memory.changed = lambda cluster, group: cluster == "b"  # the next run: stage one has nothing left to do
    held = fleetrun.run(stages, Recorder({}), options=options, memory=memory)
    clock.at += timedelta(seconds=1)
    resumed = fleetrun.run(stages, Recorder({}), options=options, memory=memory)
    assert [(o.state, o.until) for o in held] == [(UnitState.PAUSED, datetime(2026, 1, 1, 0, 10, tzinfo=UTC))]
    assert [o.state for o in resumed] == [UnitState.HEALTHY]


def test_a_stage_whose_only_unit_never_got_healthy_holds_the_next_stage():
    memory = fleetrun.Memory(idle=lambda cluster, group: UnitState.APPLIED, changed=lambda c, g: c == "b")
    stages = [stage("one", "a", failure_budget=1), stage("two", "b")]
    outcomes = fleetrun.run(stages, Recorder({}), options=fleetrun.Options(), memory=memory)
    assert [(o.state, o.detail) for o in outcomes] == [
        (UnitState.WAITING, "stage g/one is not done: 0 of 1 unit(s) healthy (applied)")]


def test_a_failure_within_the_budget_is_done_only_next_to_a_healthy_unit():
    stages = [stage("one", "a b", failure_budget=1), stage("two", "c")]
    lonely = fleetrun.run([stage("one", "a", failure_budget=1), stage("two", "c")],
                          Recorder({"a": Result.UNREACHABLE}), options=fleetrun.Options())
    beside = fleetrun.run(stages, Recorder({"a": Result.FAILED}), options=fleetrun.Options())
    assert (lonely[-1].state, beside[-1].state) == (UnitState.WAITING, UnitState.HEALTHY)


def test_a_stored_approval_opens_its_stage_once():
    memory = fleetrun.Memory(marks={"g/two": StageMark(approved_by="ops", approved_at=datetime(2026, 1, 1, tzinfo=UTC))})
    stages = [stage("one", "a"), stage("two", "b", approval=True)]
    first = fleetrun.run(stages, Recorder({}), options=fleetrun.Options(), memory=memory)
    fleetrun.run(stages, Recorder({}), options=fleetrun.Options(), memory=memory)  # b's next change
    second = fleetrun.run(stages, Recorder({}), options=fleetrun.Options(), memory=memory)
    assert [o.state for o in first] == [UnitState.HEALTHY, UnitState.HEALTHY]
    assert [o.state for o in second] == [UnitState.HEALTHY, UnitState.AWAITING_APPROVAL]


def test_a_paused_assignment_starts_nothing():
    outcomes = fleetrun.run([stage("one", "a")], Recorder({}), options=fleetrun.Options(paused=frozenset({"g"})))
    assert [(o.state, o.detail) for o in outcomes] == [(UnitState.PAUSED, "assignment g is paused")]


def test_a_crashing_cluster_is_a_failure_not_a_crash_of_the_run():
    def explode(cluster: str) -> UnitResult:
        raise RuntimeError("boom")

    outcomes = fleetrun.run([stage("one", "a")], explode, options=fleetrun.Options())
    assert outcomes[0].result is Result.FAILED and "boom" in outcomes[0].detail


def test_a_retried_unit_starts_although_its_group_halted():
    stages = [stage("one", "a b", max_in_flight=1, failure_budget=0), stage("two", "c d")]
    memory = fleetrun.Memory(retries=frozenset({("d", "g")}))
    outcomes = {o.cluster: o.state for o in fleetrun.run(stages, Recorder({"a": Result.FAILED}),
                                                          options=fleetrun.Options(), memory=memory)}
    assert outcomes == {"a": UnitState.FAILED, "b": UnitState.HALTED, "c": UnitState.HALTED, "d": UnitState.HEALTHY}
