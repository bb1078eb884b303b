"""The Plan artifact and its views: round trip, staleness checks, text/Markdown/JSON, no secrets."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from reconciler.core import inventory, plan_views, planner, plans
from reconciler.core.desired import BundleId, DesiredBundle
from reconciler.core.inventory import Inventory
from reconciler.core.live import LiveCluster
from reconciler.core.objects import ObjectKey
from reconciler.errors import PlanError, StalePlanError

CANARY = "canary-7rT2q"
CANARY_B64 = "Y2FuYXJ5LTdyVDJx"
NOW = datetime(2026, 1, 2, tzinfo=UTC)


def cm(name: str, value: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "n"},
        "data": {"k": value},
    }


SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "s", "namespace": "n"},
    "stringData": {"password": CANARY},
}


def make_plan(clusters: int = 1) -> plans.Plan:
    bundles = [
        DesiredBundle(
            id=BundleId(f"c{i}", "web", "app"),
            dest=f"c{i}",
            fleet="demo",
            version="1.0.0",
            layer="addons",
            layer_index=2,
            depends_on=(),
            objects=(cm("a", "1"), SECRET),
            content_hash="sha256:abc",
        )
        for i in range(clusters)
    ]
    live = {f"c{i}": LiveCluster.reachable(f"c{i}", objects=[]) for i in range(clusters)}
    return planner.plan(
        desired=bundles,
        failures=[],
        live=live,
        inventory=Inventory(),
        policy=planner.PlanPolicy(),
        revision="main@sha1:abc",
        previous_revision_forced=False,
        now=NOW,
    )


def test_json_round_trip_is_lossless() -> None:
    plan = make_plan()
    assert plans.from_json(plans.to_json(plan)) == plan


def test_unknown_schema_is_refused() -> None:
    with pytest.raises(PlanError, match="unsupported plan schema"):
        plans.from_json('{"schema": "stackfleet.dev/plan/v0"}')


def test_secret_is_sealed_and_checked_against_the_rendered_object() -> None:
    step = next(c for c in make_plan().steps if c.key.kind == "Secret")
    assert plans.check_object(step, SECRET) is SECRET and step.sealed


def test_changed_rendered_object_is_stale() -> None:
    step = next(c for c in make_plan().steps if c.key.kind == "Secret")
    with pytest.raises(StalePlanError):
        plans.check_object(step, {**SECRET, "stringData": {"password": "other"}})


def test_live_object_that_appeared_is_stale() -> None:
    step = make_plan().steps[0]
    with pytest.raises(StalePlanError, match="live object changed"):
        plans.check_live(step, {"metadata": {"uid": "u", "resourceVersion": "1"}})


def test_summary_counts_per_action_cluster_and_bundle() -> None:
    summary = make_plan(clusters=2).summary()
    assert (summary.actions, summary.clusters["c1"], summary.bundles["c0/web/app"]) == (
        {"create": 4},
        {"create": 2},
        {"create": 2},
    )


VIEWS = {
    "json": lambda p: plan_views.json(p),
    "text": lambda p: plan_views.text(p, detail=True),
    "markdown": lambda p: plan_views.markdown(p),
}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_no_view_holds_a_secret_value(view: str) -> None:
    rendered = VIEWS[view](make_plan())
    assert (CANARY in rendered, CANARY_B64 in rendered) == (False, False)


def test_text_view_lists_steps_and_diffs() -> None:
    text = plan_views.text(make_plan(), detail=True)
    assert "   1. create  c0 c0/web/app ConfigMap/n/a" in text and "\n+kind: ConfigMap\n" in text


def test_diff_lines_carry_their_kind_for_the_views_that_style_them() -> None:
    kinds = dict((line, kind) for kind, line in plan_views.diff_lines(make_plan().steps[0].diff))
    assert kinds["+kind: ConfigMap"] is plan_views.DiffLine.ADDED


def test_the_text_view_has_no_colour() -> None:
    assert "\x1b[" not in plan_views.text(make_plan(), detail=True)


def test_markdown_is_capped_with_a_note() -> None:
    text = plan_views.markdown(make_plan(clusters=30), limit=4000)
    assert len(text) < 4600 and "Output capped at 4000 characters" in text


def test_markdown_puts_each_cluster_in_details() -> None:
    text = plan_views.markdown(make_plan(clusters=2))
    assert text.count("<details><summary>") == 2 and text.index("| cluster |") < text.index("<details>")


def test_no_changes_headline() -> None:
    empty = plans.Plan(revision="r", created_at=NOW.isoformat())
    assert plan_views.headline(empty) == "Plan at r: no changes."


def test_inventory_round_trip() -> None:
    inv = Inventory.of(
        [
            inventory.BundleInventory(
                "c1",
                BundleId("c1", "s", "b"),
                "r",
                (inventory.Entry(ObjectKey("", "ConfigMap", "n", "x"), "u", "f"),),
            )
        ]
    )
    assert Inventory.from_dict(inv.to_dict()) == inv


def test_markdown_fence_outlasts_backticks_in_a_diff() -> None:
    change = plans.Change(
        action=plans.Action.UPDATE,
        dest="c<script>",
        bundle=BundleId("c", "s", "b"),
        key=ObjectKey("", "ConfigMap", "n", "x"),
        step=1,
        diff="-a: ````\n+a: b",
    )
    text = plan_views.markdown(plans.Plan(revision="r", created_at="t", changes=(change,)))
    assert "`````diff" in text and "<script>" not in text


def test_tables_list_bundles_with_changes_and_count_the_unchanged_rest() -> None:
    plan = make_plan(clusters=3)
    quiet = tuple(
        dataclasses.replace(c, action=plans.Action.UNCHANGED, step=None) if c.dest != "c0" else c for c in plan.changes
    )
    plan = dataclasses.replace(plan, changes=quiet)
    for view in (plan_views.text(plan), plan_views.markdown(plan)):
        assert ("c0" in view, "c1" in view, "2 bundle(s) unchanged on 2 cluster(s)." in view) == (True, False, True)


def test_a_plan_with_nothing_to_do_shows_only_the_count() -> None:
    plan = make_plan(clusters=2)
    plan = dataclasses.replace(
        plan, changes=tuple(dataclasses.replace(c, action=plans.Action.UNCHANGED, step=None) for c in plan.changes)
    )
    assert "| cluster |" not in plan_views.markdown(plan) and "2 bundle(s) unchanged on 2 cluster(s)." in plan_views.text(plan)
