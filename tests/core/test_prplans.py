"""Pull-request plans from plain data: what the PR changes, apart from what is already so; their views.

The Markdown views are checked against ``tests/golden/prplan/<case>.md`` (regenerate with
``STACKFLEET_UPDATE_GOLDEN=1`` and review the diff: the files are the specification).
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.core import inventory, planner, prplan_views, prplans
from reconciler.core.desired import BundleId, DesiredBundle
from reconciler.core.inventory import BundleInventory, Entry, Inventory
from reconciler.core.live import LiveCluster
from reconciler.core.objects import ObjectKey
from reconciler.core.prplans import Hold, StageGate
from tests.core.test_planner_golden import with_marks

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "prplan"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
BASE = "main@sha1:" + "a" * 40
HEAD = "refs/pull/7/head@sha1:" + "b" * 40
HOSTILE = "``` ](javascript:alert(1)) ![i](https://x.example/i.png) <img src=x onerror=alert(1)> a\u200bb \u202etxt.exe"


def cm(name: str, data: dict[str, str], *, bundle: str = "app") -> dict[str, Any]:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "apps"}, "data": data}
    return with_marks(obj, fleet="acme", stack="platform", bundle=bundle)


def desired(cluster: str, bundle: str, objects: list[dict[str, Any]], *, version: str = "1.4.0") -> DesiredBundle:
    return DesiredBundle(id=BundleId(cluster, "platform", bundle), dest=cluster, fleet="acme", version=version,
                         layer="addons", layer_index=2, depends_on=(), objects=tuple(objects),
                         content_hash=inventory.fingerprint({"objects": objects}),
                         source="assignment/platform-stable")


def applied(bundle: DesiredBundle) -> BundleInventory:
    entries = tuple(sorted(Entry(ObjectKey.of(o), f"uid-{ObjectKey.of(o).name}", inventory.fingerprint(o))
                           for o in bundle.objects))
    return BundleInventory(bundle.dest, bundle.id, BASE, entries)


def live_of(*objects: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for obj in objects:
        meta = {**obj["metadata"], "uid": f"uid-{obj['metadata']['name']}", "resourceVersion": "1"}
        out.append({**obj, "metadata": meta})
    return out


def plan_of(bundles: list[DesiredBundle], live: dict[str, LiveCluster], inv: Inventory, revision: str) -> Any:
    return planner.plan(desired=bundles, failures=[], live=live, inventory=inv, policy=planner.PlanPolicy(),
                        revision=revision, previous_revision_forced=False, now=NOW)


def compose(base: list[DesiredBundle], head: list[DesiredBundle], live: dict[str, LiveCluster],
            *, gates: tuple[StageGate, ...] = ()) -> prplans.PullRequestPlan:
    inv = Inventory.of(applied(b) for b in base)
    return prplans.compose(base=base, head=head, base_plan=plan_of(base, live, inv, BASE),
                           head_plan=plan_of(head, live, inv, HEAD), gates=gates, number=7)


def scene() -> prplans.PullRequestPlan:
    """c1: app's settings change and the ``old`` bundle is dropped; c2: drift on base the PR leaves alone."""
    settings = cm("settings", {"level": "info"})
    old = cm("leftover", {"x": "1"}, bundle="old")
    other = cm("other", {"k": "v"})
    base = [desired("c1", "app", [settings]), desired("c1", "old", [old]), desired("c2", "app", [other])]
    head = [desired("c1", "app", [cm("settings", {"level": "debug"})], version="1.5.0"),
            desired("c2", "app", [other])]
    live = {"c1": LiveCluster.reachable("c1", objects=live_of(settings, old)),
            "c2": LiveCluster.reachable("c2", objects=live_of(cm("other", {"k": "changed-by-hand"})))}
    gate = StageGate("c1", BundleId("c1", "platform", "app"), "platform-stable/prod", first_install=False)
    return compose(base, head, live, gates=(gate,))


def test_only_the_pull_requests_bundles_and_objects_are_its_changes() -> None:
    plan = scene()
    assert [(b.dest, b.bundle.bundle, b.base_version, b.head_version) for b in plan.bundles] == [
        ("c1", "app", "1.4.0", "1.5.0"), ("c1", "old", "1.4.0", "")]
    assert sorted((c.action.value, c.dest, c.key.name) for c in plan.changes) == [
        ("delete", "c1", "leftover"), ("update", "c1", "settings")]


def test_the_deletion_and_the_stage_are_the_approvals() -> None:
    plan = scene()
    assert [(a.hold, a.cluster, a.key.name if a.key else "") for a in plan.approvals] == [
        (Hold.STEP, "c1", "leftover"), (Hold.STAGE, "c1", "")]


def test_a_first_install_held_by_a_stage_says_so() -> None:
    base: list[DesiredBundle] = []
    head = [desired("c3", "app", [cm("settings", {"level": "info"})])]
    gate = StageGate("c3", BundleId("c3", "platform", "app"), "platform-stable/prod-rest", first_install=True)
    plan = compose(base, head, {"c3": LiveCluster.reachable("c3", objects=[])}, gates=(gate,))
    assert [(a.hold, a.reason) for a in plan.approvals] == [
        (Hold.STAGE, "rollout stage platform-stable/prod-rest needs approval (a first install: approvals hold those too)")]


def test_drift_on_base_is_apart() -> None:
    assert [(c.dest, c.key.name, c.drift) for c in scene().on_base] == [("c2", "other", True)]


def test_the_text_view_has_the_four_parts_in_order() -> None:
    shown = prplan_views.text(scene(), detail=True)
    parts = ["Bundles the pull request changes:", "  platform/app 1.4.0 -> 1.5.0: 1 modified on c1",
             "Approvals the merge will need:", "On the live clusters:", "+++ head",
             "Already so on base (not this pull request's change):", "  update c2 c2/platform/app ConfigMap/apps/other (drift)"]
    assert [shown.index(p) for p in parts] == sorted(shown.index(p) for p in parts)


def test_a_pull_request_plan_round_trips_through_json() -> None:
    plan = scene()
    assert prplans.PullRequestPlan.from_dict(json.loads(prplan_views.json(plan))) == plan


def test_the_reviewed_plan_matches_itself_and_not_a_moved_live_object() -> None:
    settings = cm("settings", {"level": "info"})
    base = [desired("c1", "app", [settings])]
    head = [desired("c1", "app", [cm("settings", {"level": "debug"})])]
    inv = Inventory.of(applied(b) for b in base)
    reviewed = plan_of(head, {"c1": LiveCluster.reachable("c1", objects=live_of(settings))}, inv, HEAD)
    merged = plan_of(head, {"c1": LiveCluster.reachable("c1", objects=live_of(settings))}, inv, "main@sha1:" + "c" * 40)
    moved = live_of(settings)[0]
    moved["metadata"]["resourceVersion"] = "2"
    later = plan_of(head, {"c1": LiveCluster.reachable("c1", objects=[moved])}, inv, BASE)
    assert (prplans.matches(reviewed, merged), bool(prplans.matches(reviewed, later))) == ("", True)


def golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.md"
    if os.environ.get("STACKFLEET_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text()


def test_markdown_golden_version_bump_with_a_deletion_and_drift_on_base() -> None:
    golden("version-bump-deletion-and-drift-on-base", prplan_views.markdown(scene(), link="https://sf.example/prs/7"))


def hostile_plan() -> prplans.PullRequestPlan:
    base = [desired("c1", "app", [cm("settings", {"v": "plain"})])]
    head = [desired("c1", "app", [cm("settings", {"v": HOSTILE, HOSTILE: "key"})])]
    live = {"c1": LiveCluster.reachable("c1", objects=live_of(*base[0].objects))}
    plan = compose(base, head, live)
    return dataclasses.replace(plan, base=f"main{HOSTILE}@sha1:x", on_base=tuple(
        dataclasses.replace(c, reason=HOSTILE) for c in plan.changes))


def test_markdown_golden_hostile_values() -> None:
    golden("hostile-values-stay-text", prplan_views.markdown(hostile_plan()))


def outside_fences(markdown: str) -> str:
    out, fence = [], ""
    for line in markdown.splitlines():
        run = line[: len(line) - len(line.lstrip("`"))]
        if not fence and len(run) >= 3:
            fence = run
        elif fence and line == fence:
            fence = ""
        elif not fence:
            out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("needle", ["](javascript:", "![i]", "<img", "\u200b", "\u202e", "```"])
def test_a_hostile_value_opens_no_link_image_tag_or_fence(needle: str) -> None:
    shown = prplan_views.markdown(hostile_plan())
    assert needle not in outside_fences(shown) and "\u202e" not in shown and "\u200b" not in shown


def test_a_thousand_cluster_change_stays_under_the_cap_with_a_note_and_link() -> None:
    base, head, live = [], [], {}
    for i in range(1000):
        name = f"cluster-{i:04d}"
        before = cm("settings", {"level": "info", "cluster": name})
        base.append(desired(name, "app", [before]))
        head.append(desired(name, "app", [cm("settings", {"level": "debug", "cluster": name})], version="1.5.0"))
        live[name] = LiveCluster.reachable(name, objects=live_of(before))
    plan = compose(base, head, live)
    shown = prplan_views.markdown(plan, link="https://sf.example/prs/7")
    assert len(shown) <= prplan_views.MARKDOWN_LIMIT
    assert "Comment capped at 60000 characters" in shown and "(https://sf.example/prs/7)" in shown
    assert "| platform/app | 1.4.0 -&gt; 1.5.0 | 1 modified | cluster-0000" in shown
