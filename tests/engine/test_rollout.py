"""Rollout stages and the failure budget, as plain data."""

from __future__ import annotations

from reconciler.core import rollout
from reconciler.core.rollout import Result
from reconciler.spec.models import LabelSelector, RolloutPolicy, RolloutStage

LABELS = {
    "a": {"env": "staging"}, "b": {"env": "prod", "region": "eu"}, "c": {"env": "prod", "region": "eu"},
    "d": {"env": "prod", "region": "us"}, "e": {"env": "dev"},
}
POLICY = RolloutPolicy(
    max_in_flight=2, failure_budget=1,
    stages=[
        RolloutStage(name="staging", selector=LabelSelector(match_labels={"env": "staging"})),
        RolloutStage(name="prod-eu", selector=LabelSelector(match_labels={"env": "prod", "region": "eu"}),
                     pause="10m"),
        RolloutStage(name="prod-rest", selector=LabelSelector(match_labels={"env": "prod"}), approval=True),
    ],
)


def test_stages_take_clusters_in_order_and_leftovers_form_a_last_stage():
    stages = rollout.stages_of("g", POLICY, list(LABELS), LABELS)
    assert [(s.name, s.clusters) for s in stages] == [
        ("staging", ("a",)), ("prod-eu", ("b", "c")), ("prod-rest", ("d",)), ("rest", ("e",))]
    assert stages[1].pause_seconds == 600 and stages[2].approval


def test_providers_go_first_and_direct_before_assignments():
    stages = rollout.plan_stages(groups={"mgmt": "direct", "a": "g", "x": "direct"}, policies={"g": POLICY},
                                 order=["g"], labels=LABELS, providers=["mgmt"])
    assert [(s.qualified, s.clusters) for s in stages] == [
        ("direct/providers", ("mgmt",)), ("direct/all", ("x",)), ("g/staging", ("a",))]


def test_the_budget_counts_failed_unreachable_and_auth_failed_but_not_paused():
    results = [Result.FAILED, Result.PAUSED, Result.SUCCEEDED]
    assert not rollout.over_budget(results, budget=1)
    assert rollout.over_budget([*results, Result.UNREACHABLE], budget=1)
    assert rollout.failures([Result.AUTH_FAILED, Result.HALTED]) == 1


def test_groups_come_from_where_the_assignment_came_from():
    assert rollout.group_of("assignment/platform-stable") == "platform-stable"
    assert rollout.group_of("cluster") == rollout.DIRECT
