"""Plan a pull request against the real state: render base and head, observe once, plan both, compose.

::

    reviewed = pullrequests.plan(base_repo, head_repo, session=session, number=7)
    reviewed.pr        # core.prplans.PullRequestPlan: what the pull request changes, apart from what is so
    reviewed.head      # the head's full Planned (what a merge of exactly this head would apply)

Both plans are computed from the same inventory (the session's store: the daemon's, when ``--state``
points at it) and the same observation of the clusters, so a pull request's prunes come from the
inventory and drift already on base is told apart. Rollout stages that need an approval not given
(``approved``, as ``group/stage`` or ``stage``) become ``StageGate``s of the head plan's units.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from reconciler.core import prplans
from reconciler.core.prplans import PullRequestPlan, StageGate
from reconciler.engine import reconcile, units
from reconciler.engine.reconcile import Planned, Session
from reconciler.render import fleet
from reconciler.spec.loader import FleetRepo


@dataclass(frozen=True)
class Reviewed:
    pr: PullRequestPlan
    base: Planned
    head: Planned


def plan(base: FleetRepo, head: FleetRepo, *, session: Session, number: int | None = None,
         approved: Collection[str] = (), forced: bool = False) -> Reviewed:
    """The pull request's plan (see the module docstring)."""
    base_render = reconcile.render_step(base, session=session, clusters=())
    head_render = reconcile.render_step(head, session=session, clusters=())
    inventory = reconcile.inventory_step(session.store, clusters=())
    live = reconcile.observe_step(_union(base_render, head_render), inventory, session=session, fleet_name=head.name)
    now = session.now()
    base_planned = Planned(base, base_render, live, reconcile.plan_step(base, base_render, live, inventory, now=now))
    head_plan = reconcile.plan_step(head, head_render, live, inventory, now=now, forced=forced)
    head_planned = Planned(head, head_render, live, head_plan)
    pr = prplans.compose(base=base_render.bundles, head=head_render.bundles, base_plan=base_planned.plan,
                         head_plan=head_plan, gates=stage_gates(head_planned, approved=approved), number=number)
    return Reviewed(pr, base_planned, head_planned)


def stage_gates(planned: Planned, *, approved: Collection[str] = ()) -> list[StageGate]:
    """Per unit in a stage that needs an approval not given: its bundles, and whether it is a first install."""
    split, stages = reconcile.rollout_of(planned)
    installs = units.installs(split)
    gates: list[StageGate] = []
    for stage in stages:
        if not stage.approval or {stage.qualified, stage.name} & set(approved):
            continue
        for cluster in stage.clusters:
            unit = (cluster, stage.group)
            bundles = sorted({c.bundle for c in split.get(unit, ())})
            gates += [StageGate(cluster, b, stage.qualified, first_install=unit in installs) for b in bundles]
    return gates


def _union(base: fleet.FleetRender, head: fleet.FleetRender) -> fleet.FleetRender:
    """What to observe: the head's bundles and the bundles only the base renders (each object once)."""
    seen = {(b.dest, b.id) for b in head.bundles}
    extra = tuple(b for b in base.bundles if (b.dest, b.id) not in seen)
    return fleet.FleetRender(head.revision, (*head.bundles, *extra), (*head.failures, *base.failures))
