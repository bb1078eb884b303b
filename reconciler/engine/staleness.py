"""Refuse a saved plan whose world moved: the revision, or a live object it recorded.

``check`` compares the plan with a fresh observation: the source revision must be the same, and for
every step the live uid and resourceVersion must be what the plan saw (an object the plan would create
must still be absent). Clusters that cannot be read now are left to the apply, which fails there.
``objects`` (the fleet re-rendered now, by destination and key) must still hash to what the plan
recorded for every create, update and adopt (``plans.check_object``).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.core import plans
from reconciler.core.live import LiveCluster
from reconciler.core.objects import Obj, ObjectKey
from reconciler.core.plans import Action, Plan
from reconciler.errors import StalePlanError


def check(plan: Plan, *, revision: str, live: Mapping[str, LiveCluster],
          objects: Mapping[tuple[str, ObjectKey], Obj]) -> None:
    """Raise ``StalePlanError`` naming the first thing that moved."""
    if plan.revision != revision:
        raise StalePlanError(f"the fleet repo moved from {plan.revision} to {revision}", revision=plan.revision)
    for change in plan.steps:
        if change.action is not Action.DELETE:
            rendered = objects.get((change.dest, change.key))
            if rendered is None:
                raise StalePlanError("object is no longer rendered", cluster=change.dest, object=str(change.key))
            plans.check_object(change, rendered)
        cluster = live.get(change.dest)
        if cluster is not None and cluster.is_reachable:
            plans.check_live(change, cluster.get(change.key))
