"""A version bump rolls out stage by stage (the reference fleet's platform-stable policy) and halts
once the sim fails more of the group's clusters than its failure budget allows."""

from __future__ import annotations

from datetime import timedelta

from reconciler.core.rollout import Result
from reconciler.core.statuses import UnitState

BUMP = ('{name: platform, version: "~1.4.0"}', '{name: platform, version: "~1.5.0"}')


def platform_versions(world, cluster: str) -> set[str]:
    """The platform stack's versions as the inventories of ``cluster`` record them (objects carry none)."""
    return {b.version for b in world.store.inventories.load_all() if b.dest == cluster and b.bundle.stack == "platform"}


def test_a_version_bump_goes_stage_by_stage_and_halts_past_the_failure_budget(world):
    world.apply(stages=frozenset({"prod-rest"}))
    world.edit("fleet.yaml", *BUMP)
    planned = world.plan()
    for name in ("prod-eu-1", "prod-eu-2"):
        world.sim.faults(name).error_rate = 1.0  # from now on every request is answered 500
    report = world.apply(planned, stages=frozenset({"prod-rest"}))
    seen = [(o.stage, o.cluster, o.result) for o in report.outcomes if o.stage.startswith("platform-stable/")]
    assert seen[0] == ("platform-stable/staging", "stage-eu-1", Result.SUCCEEDED)
    assert sorted(seen[1:3]) == [("platform-stable/prod-eu", "prod-eu-1", Result.UNREACHABLE),
                                 ("platform-stable/prod-eu", "prod-eu-2", Result.UNREACHABLE)]
    assert seen[3] == ("platform-stable/prod-rest", "prod-us-1", Result.HALTED)
    assert platform_versions(world, "stage-eu-1") == {"1.5.0"}
    assert platform_versions(world, "prod-us-1") == {"1.4.0"}


def test_a_stage_needing_approval_waits_for_it(world):
    world.apply(stages=frozenset({"prod-rest"}))
    world.edit("fleet.yaml", *BUMP)
    report = world.apply()
    results = {o.cluster: o.result for o in report.outcomes}
    assert results["stage-eu-1"] is results["prod-eu-1"] is results["prod-eu-2"] is Result.SUCCEEDED
    assert results["prod-us-1"] is Result.AWAITING_APPROVAL
    assert platform_versions(world, "prod-us-1") == {"1.4.0"}


def test_a_long_pause_stops_the_run_before_its_stage(world):
    world.apply(stages=frozenset({"prod-rest"}))
    world.edit("fleet.yaml", *BUMP)
    report = world.apply(pause_limit=0)
    results = {o.cluster: o.result for o in report.outcomes}
    assert results["stage-eu-1"] is Result.SUCCEEDED
    assert results["prod-eu-1"] is results["prod-eu-2"] is Result.WAITING


def test_the_next_run_honours_the_pause_and_continues_once_it_is_over(world):
    world.apply(stages=frozenset({"prod-rest"}))
    world.edit("fleet.yaml", *BUMP)
    world.apply(pause_limit=0)
    world.later += timedelta(minutes=9)
    held = {o.cluster: o.state for o in world.apply(pause_limit=0, stages=frozenset({"prod-rest"})).outcomes}
    world.later += timedelta(minutes=1)
    report = world.apply(pause_limit=0, stages=frozenset({"prod-rest"}))
    results = {o.cluster: o.result for o in report.outcomes}
    assert held["prod-eu-1"] is held["prod-eu-2"] is UnitState.PAUSED
    assert results["prod-eu-1"] is results["prod-eu-2"] is results["prod-us-1"] is Result.SUCCEEDED
