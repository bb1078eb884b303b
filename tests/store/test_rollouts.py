"""Rollout memory in the store: stage marks and approvals, unit states, paused assignments."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.core import plans
from reconciler.core.stagegates import StageMark, UnitStatus
from reconciler.core.statuses import PlanStatus, UnitState
from reconciler.store import stores

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
"""Where the store tests' clock starts (``tests/store/conftest.py``)."""


def test_marks_and_unit_states_survive_a_reopen(db_path, clock) -> None:
    first = stores.open_store(db_path, clock=clock)
    first.rollouts.save({"platform/staging": StageMark(ready_since=START)},
                        [UnitStatus("prod-eu-1", "platform", "platform/prod-eu", UnitState.PAUSED, "opens later", START)],
                        clusters=["prod-eu-1"])
    first.close()
    again = stores.open_store(db_path, clock=clock)
    assert again.rollouts.marks() == {"platform/staging": StageMark(ready_since=START)}
    assert again.rollouts.units(cluster="prod-eu-1") == [
        UnitStatus("prod-eu-1", "platform", "platform/prod-eu", UnitState.PAUSED, "opens later", START)]
    again.close()


def test_a_save_replaces_the_unit_states_of_the_clusters_it_saw(store) -> None:
    store.rollouts.save({}, [UnitStatus("a", "platform", "platform/all", UnitState.FAILED),
                             UnitStatus("c", "platform", "platform/all", UnitState.FAILED)], clusters=["a", "c"])
    store.rollouts.save({}, [UnitStatus("b", "platform", "platform/all", UnitState.HEALTHY)], clusters=["a", "b"])
    assert [u.cluster for u in store.rollouts.units()] == ["b", "c"]


def test_an_approval_is_recorded_with_who_and_when(store) -> None:
    mark = store.rollouts.approve("platform/prod-rest", by="ops")
    assert (mark.approved_by, mark.approved_at, mark.ready_since) == ("ops", START, None)


def test_pausing_and_resuming_an_assignment(store) -> None:
    store.rollouts.set_paused("platform", paused=True, by="ops")
    store.rollouts.set_paused("base", paused=True, by="ops")
    store.rollouts.set_paused("base", paused=False, by="ops")
    assert store.rollouts.paused() == frozenset({"platform"})


def test_a_new_daemon_plan_supersedes_the_ones_never_applied_but_not_pull_request_plans(store) -> None:
    plan = plans.Plan(revision="main@sha1:" + "a" * 40, created_at=START.isoformat())
    store.plans.save("plan-old", plan)
    store.plans.save("plan-pr", plan, pr_number=7, pr_branch="topic")
    store.plans.save("plan-new", plan)
    store.plans.supersede(by="plan-new")
    found = {p: store.plans.get(p).status for p in ("plan-old", "plan-pr", "plan-new")}
    assert found == {"plan-old": PlanStatus.SUPERSEDED, "plan-pr": PlanStatus.PLANNED, "plan-new": PlanStatus.PLANNED}
