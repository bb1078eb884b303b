"""The rollout runner with a stand-in for applying one cluster: in-flight bound, budget, approval, pause."""

from __future__ import annotations

import threading
import time

from reconciler.core.rollout import Result, Stage
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


def test_a_short_pause_is_waited_out_and_a_long_one_stops_the_run():
    slept: list[float] = []
    stages = [stage("one", "a"), stage("two", "b", pause_seconds=30)]
    fleetrun.run(stages, Recorder({}), options=fleetrun.Options(pause_limit=60, sleep=slept.append))
    assert slept == [30]
    stopped = fleetrun.run(stages, Recorder({}), options=fleetrun.Options(pause_limit=10, sleep=slept.append))
    assert [o.result for o in stopped] == [Result.SUCCEEDED, Result.WAITING]


def test_a_crashing_cluster_is_a_failure_not_a_crash_of_the_run():
    def explode(cluster: str) -> UnitResult:
        raise RuntimeError("boom")

    outcomes = fleetrun.run([stage("one", "a")], explode, options=fleetrun.Options())
    assert outcomes[0].result is Result.FAILED and "boom" in outcomes[0].detail
