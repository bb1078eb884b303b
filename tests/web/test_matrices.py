"""The fleet matrix and bundle states as plain data (no server)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.core.desired import BundleId
from reconciler.core.stagegates import UnitStatus
from reconciler.core.statuses import Outcome, Reachability, UnitState
from reconciler.store.records import BundleRow
from reconciler.web import matrices, states
from reconciler.web.catalogs import Catalog, ClusterEntry
from reconciler.web.states import State

AT = datetime(2026, 1, 1, tzinfo=UTC)


def row(cluster: str = "c1", bundle: str = "web", **changes: object) -> BundleRow:
    base: dict[str, object] = {
        "cluster": cluster,
        "bundle": BundleId(cluster, "platform", bundle),
        "reachability": Reachability.REACHABLE,
        "paused": False,
        "revision": "main@sha1:1",
        "objects": 3,
        "open_drift": 0,
        "outcome": Outcome.APPLIED,
        "error": "",
        "updated_at": AT,
    }
    return BundleRow(**{**base, **changes})  # type: ignore[arg-type]


STATES = [
    pytest.param(row(), State.IN_SYNC, id="applied-is-in-sync"),
    pytest.param(row(open_drift=2), State.DRIFTED, id="open-drift"),
    pytest.param(row(outcome=Outcome.STARTED), State.APPLYING, id="started-step-is-applying"),
    pytest.param(row(outcome=Outcome.FAILED, error="denied"), State.FAILED, id="failed-step"),
    pytest.param(
        row(open_drift=1, reachability=Reachability.AUTH_FAILED),
        State.UNREACHABLE,
        id="auth-failed-wins-over-drift",
    ),
    pytest.param(row(paused=True, outcome=Outcome.FAILED), State.PAUSED, id="paused-wins"),
    pytest.param(row(revision="", outcome=None), State.UNKNOWN, id="nothing-recorded"),
    pytest.param(row(outcome=Outcome.SKIPPED, error="drift reported, not corrected: selfHeal is off", open_drift=1),
                 State.DRIFTED, id="report-only-drift-held-back-is-drifted-not-failed"),
]

HELD = UnitStatus("c1", "platform", "platform/prod", UnitState.AWAITING_APPROVAL, "awaiting approval")
UNIT_STATES = [
    pytest.param(row(), HELD, State.AWAITING_APPROVAL, id="held-unit-over-an-older-version-in-sync"),
    pytest.param(None, HELD, State.AWAITING_APPROVAL, id="held-first-install"),
    pytest.param(None, None, State.UNKNOWN, id="never-installed"),
    pytest.param(row(), UnitStatus("c1", "platform", "platform/prod", UnitState.APPLIED), State.APPLIED,
                 id="applied-not-healthy"),
    pytest.param(row(paused=True), HELD, State.PAUSED, id="paused-cluster-wins"),
]


@pytest.mark.parametrize(("found", "unit", "expected"), UNIT_STATES)
def test_a_bundle_shows_its_rollout_units_state(found: BundleRow | None, unit: UnitStatus | None,
                                                  expected: State) -> None:
    assert states.of(found, unit) is expected


@pytest.mark.parametrize(("found", "expected"), STATES)
def test_state_of_a_bundle(found: BundleRow, expected: State) -> None:
    assert states.of(found) is expected


SELECTORS = [
    pytest.param("env=prod", {"env": "prod"}, True, id="equal"),
    pytest.param("env=prod", {"env": "dev"}, False, id="equal-mismatch"),
    pytest.param("env!=prod", {}, True, id="not-equal-absent"),
    pytest.param("ring", {"ring": "1"}, True, id="exists"),
    pytest.param("ring", {}, False, id="exists-missing"),
    pytest.param(" env = prod , ring ", {"env": "prod", "ring": "0"}, True, id="spaces"),
    pytest.param("", {}, True, id="empty-selects-all"),
]


@pytest.mark.parametrize(("selector", "labels", "expected"), SELECTORS)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert matrices.matches(labels, matrices.parse_selector(selector)) is expected


def test_a_cluster_of_the_catalog_without_records_still_has_a_row() -> None:
    catalog = Catalog(
        clusters={"c1": ClusterEntry("c1"), "c2": ClusterEntry("c2")}, columns=("platform/web",)
    )
    built = matrices.build([row()], catalog)
    assert [(line.cluster, line.state) for line in built.lines] == [
        ("c1", State.IN_SYNC),
        ("c2", State.UNKNOWN),
    ]


def test_counts_cover_the_whole_fleet_not_the_filtered_rows() -> None:
    catalog = Catalog(
        clusters={"c1": ClusterEntry("c1", {"env": "a"}), "c2": ClusterEntry("c2", {"env": "b"})}
    )
    built = matrices.build([row(), row("c2", open_drift=1)], catalog, selector="env=a")
    assert (len(built.lines), built.clusters[State.DRIFTED], built.clusters[State.IN_SYNC]) == (1, 1, 1)


def test_a_stack_held_at_an_older_version_shows_the_version_it_runs() -> None:
    catalog = Catalog(clusters={"c1": ClusterEntry("c1", stacks={"platform": "1.5.0"})}, columns=("platform/web",))
    held = matrices.build([row(version="1.4.0")], catalog).lines[0]
    whole = matrices.build([row(version="1.5.0")], catalog).lines[0]
    assert (held.running, whole.running) == ({"platform": "1.4.0"}, {})
