"""Refuse a saved plan whose world moved: the revision, or a live object it recorded.

``check`` compares the plan with a fresh observation: the source revision must be the same, and for
every step the live uid and resourceVersion must be what the plan saw (an object the plan would create
must still be absent). Clusters that cannot be read now are left to the apply, which fails there.
The rendered content is checked step by step at apply time (``plans.check_object``).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.core import plans
from reconciler.core.live import LiveCluster
from reconciler.core.plans import Plan
from reconciler.errors import StalePlanError


def check(plan: Plan, *, revision: str, live: Mapping[str, LiveCluster]) -> None:
    """Raise ``StalePlanError`` naming the first thing that moved."""
    if plan.revision != revision:
        raise StalePlanError(f"the fleet repo moved from {plan.revision} to {revision}", revision=plan.revision)
    for change in plan.steps:
        cluster = live.get(change.cluster)
        if cluster is not None and cluster.is_reachable:
            plans.check_live(change, cluster.get(change.key))
