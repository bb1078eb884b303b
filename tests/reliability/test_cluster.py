"""RELIABILITY.md, area cluster: an unreachable or refusing cluster is held, never pruned, never stormed."""

from __future__ import annotations

from reconciler.core import rollout
from reconciler.core.statuses import Reachability

AREA = "cluster"


def results(report) -> dict[str, rollout.Result]:
    return {o.cluster: o.result for o in report.outcomes}


def test_an_unreachable_cluster_is_marked_held_and_never_pruned(applied, captured_logs):
    applied.keep_config_maps(4)
    applied.running.faults("c1").down = True
    report = applied.apply()
    assert results(report) == {"c0": rollout.Result.SUCCEEDED, "c1": rollout.Result.UNREACHABLE,
                               "c2": rollout.Result.SUCCEEDED}
    assert applied.store.clusters.get("c1").status is Reachability.UNREACHABLE
    assert applied.running.faults("c1").total("delete") == 0
    applied.check(area=AREA, dropped=applied.config_maps_of(["cm-4", "cm-5"], clusters=["c0", "c2"]),
                  logs_text=captured_logs.text())
    applied.running.faults("c1").down = False
    applied.converge()
    applied.check(area=AREA, dropped=applied.config_maps_of(["cm-4", "cm-5"], clusters=["c1"]),
                  logs_text=captured_logs.text())
    assert applied.store.clusters.get("c1").status is Reachability.REACHABLE


def test_revoked_credentials_are_auth_failed_without_a_retry_storm(applied, captured_logs):
    applied.keep_config_maps(5)
    faults = applied.running.faults("c2")
    faults.forbidden = True
    asked = faults.total()
    report = applied.apply()
    assert results(report)["c2"] is rollout.Result.AUTH_FAILED
    assert {results(report)[c] for c in ("c0", "c1")} == {rollout.Result.SUCCEEDED}
    assert faults.total() - asked <= 2  # one refused request per plan + apply, never retried
    status = applied.store.clusters.get("c2")
    assert status.status is Reachability.AUTH_FAILED and "forbidden" in status.last_error.lower()
    applied.check(area=AREA, dropped=applied.config_maps_of(["cm-5"], clusters=["c0", "c1"]),
                  logs_text=captured_logs.text())


def test_a_rollout_halts_once_its_failure_budget_is_spent_and_nothing_is_pruned_where_it_stopped(applied,
                                                                                                captured_logs):
    applied.edit("fleet.yaml", "rollout: {maxInFlight: 3, failureBudget: 3}", "rollout: {maxInFlight: 1, failureBudget: 0}")
    applied.keep_config_maps(4)
    first = min(applied.running.names)
    applied.running.faults(first).down = True  # clusters start in name order, one at a time
    planned = applied.plan()
    writes = {c: applied.writes(c) for c in ("c1", "c2")}
    report = applied.apply(planned)
    assert results(report) == {first: rollout.Result.UNREACHABLE, "c1": rollout.Result.HALTED,
                               "c2": rollout.Result.HALTED}
    assert {c: applied.writes(c) for c in ("c1", "c2")} == writes  # halted clusters see no write, not even a dry run
    applied.check(area=AREA, logs_text=captured_logs.text())  # nothing deleted anywhere: no cluster was pruned
