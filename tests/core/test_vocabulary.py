"""The closed vocabulary (ADR 0013): plan files carry enum members, and text outside the sets is refused
where it enters (``plans.from_json``), never compared further downstream."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from reconciler.core import planner, plans
from reconciler.core.desired import BundleId, DesiredBundle
from reconciler.core.inventory import Inventory
from reconciler.core.live import LiveCluster
from reconciler.core.reasons import Reason
from reconciler.core.statuses import Reachability
from reconciler.errors import PlanError

NOW = datetime(2026, 1, 2, tzinfo=UTC)
CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}, "data": {"k": "1"}}


def held_plan() -> plans.Plan:
    """c1 paused, c2 refused our credentials, c3 never observed: every object skipped, each with its code."""
    bundles = [
        DesiredBundle(id=BundleId(name, "web", "app"), dest=name, fleet="demo", version="1.0.0", layer="addons",
                      layer_index=2, depends_on=(), objects=(CM,), content_hash="sha256:abc")
        for name in ("c1", "c2", "c3")
    ]
    live = {
        "c1": LiveCluster.reachable("c1", objects=[]),
        "c2": LiveCluster.unreachable("c2", status=Reachability.AUTH_FAILED, reason="401 Unauthorized"),
    }
    return planner.plan(desired=bundles, failures=[], live=live, inventory=Inventory(),
                        policy=planner.PlanPolicy(paused_clusters=frozenset({"c1"})), revision="main@sha1:abc",
                        previous_revision_forced=False, now=NOW)


def test_held_changes_carry_their_code_through_a_plan_file() -> None:
    again = plans.from_json(plans.to_json(held_plan()))
    assert {c.dest: c.why for c in again.changes} == {
        "c1": Reason.PAUSED, "c2": Reason.UNREACHABLE, "c3": Reason.UNREACHABLE,
    }


def test_cluster_statuses_come_back_as_members() -> None:
    again = plans.from_json(plans.to_json(held_plan()))
    assert {c.name: c.status for c in again.clusters} == {
        "c1": Reachability.REACHABLE, "c2": Reachability.AUTH_FAILED, "c3": Reachability.UNREACHABLE,
    }


def test_a_v1_plan_is_refused() -> None:
    data = json.loads(plans.to_json(held_plan()))
    data["schema"] = "stackfleet.dev/plan/v1"
    with pytest.raises(PlanError, match="unsupported plan schema"):
        plans.from_json(json.dumps(data))


@pytest.mark.parametrize(
    ("part", "field", "value"),
    [
        pytest.param("changes", "why", "Paused", id="reason-outside-the-set"),
        pytest.param("clusters", "status", "Reachable", id="v1-spelling-of-a-status"),
        pytest.param("changes", "action", "replace", id="action-outside-the-set"),
    ],
)
def test_text_outside_the_closed_sets_is_a_plan_error(part: str, field: str, value: str) -> None:
    data = json.loads(plans.to_json(held_plan()))
    data[part][0][field] = value
    with pytest.raises(PlanError, match=r"is not a stackfleet\.dev/plan/v2 plan"):
        plans.from_json(json.dumps(data))
