"""Issue 17 item 4: one API group that fails (503 from its aggregated API server) or that aggregated
discovery marks Stale makes exactly its kinds unknown on that cluster: named in the plan, nothing of
them created or pruned, while the rest of the cluster and the other clusters proceed."""

from __future__ import annotations

import pytest

from reconciler.core import rollout
from reconciler.core.plans import Action
from reconciler.core.reasons import Reason
from reconciler.engine import reconcile
from tests.reliability.conftest import WIDGET_CRD as CRD

AREA = "discovery"
WIDGETS = "stacks/apps/1.0.0/config/widgets.yaml"


def widget(name: str) -> str:
    return f"---\napiVersion: example.dev/v1\nkind: Widget\nmetadata: {{name: {name}, namespace: apps}}\nspec: {{size: 3}}\n"


@pytest.fixture
def widgets(applied):
    """The applied rig with Widget w1 (and its CRD) on every cluster."""
    applied.write(WIDGETS, CRD + widget("w1"))
    assert not applied.converge().failed
    applied.settle()
    return applied


def changes_on(plan, cluster: str) -> dict[str, tuple[Action, str]]:
    return {c.key.name: (c.action, c.reason) for c in plan.changes
            if c.dest == cluster and c.key.kind in ("Widget", "ConfigMap") and c.action is not Action.UNCHANGED}


@pytest.mark.parametrize("fault", ["503", "stale"])
def test_a_failing_or_stale_group_leaves_exactly_its_kinds_alone(widgets, captured_logs, fault):
    repo = widgets.repo()
    session = widgets.session(repo)
    reconcile.plan_fleet(repo, session=session)  # discovery read while example.dev is Current, and kept
    faults = widgets.running.faults("c1")
    (faults.unavailable_groups if fault == "503" else faults.stale_groups).add("example.dev")
    widgets.write(WIDGETS, CRD + widget("w2"))
    widgets.edit("stacks/apps/1.0.0/config/cms.yaml", "data: {index: '1'}", "data: {index: 'one'}")
    repo = widgets.repo()
    planned = reconcile.plan_fleet(repo, session=session if fault == "503" else widgets.session(repo))
    on_c1 = changes_on(planned.plan, "c1")
    assert {n: a for n, (a, _) in on_c1.items()} == {"w1": Action.SKIPPED, "w2": Action.SKIPPED, "cm-1": Action.UPDATE}
    assert all("API group example.dev" in why and "c1" in why for n, (_, why) in on_c1.items() if n != "cm-1")
    assert {c.why for c in planned.plan.changes if c.dest == "c1" and c.key.kind == "Widget"} == {Reason.UNKNOWN_GROUP}
    assert {n: a for n, (a, _) in changes_on(planned.plan, "c0").items()} == {
        "w1": Action.DELETE, "w2": Action.CREATE, "cm-1": Action.UPDATE}
    report = widgets.apply(planned)
    assert {o.result for o in report.outcomes} == {rollout.Result.SUCCEEDED}
    widgets.check(area=AREA, dropped=[(c, "Widget", "apps", "w1") for c in ("c0", "c2")],
                  logs_text=captured_logs.text())
    assert ("c1", "Widget", "apps", "w1") in widgets.baseline and ("c1", "Widget", "apps", "w2") not in widgets.baseline

    faults.clear()  # the group is back: c1 catches up, its w1 still in the inventory
    healed = {n: a for n, (a, _) in changes_on(widgets.plan().plan, "c1").items()}
    assert healed == {"w1": Action.DELETE, "w2": Action.CREATE}
