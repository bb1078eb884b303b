"""Apply-time re-checks of a saved plan: every step must be one a fresh plan makes now. Pure.

A plan file is authenticated (``core.signatures``), but a MAC only says who wrote it. Before any step
runs, ``check`` re-judges every step against what the cluster and the store say now:

- a ``delete`` is allowed only for an object in its bundle's inventory at that destination whose live
  object still carries this bundle's marks (``objects.read_owner``), and that no bundle declares;
- every step (``create``, ``update``, ``adopt``, ``delete``) must have the same action for the same
  cluster, bundle and object in ``fresh``, the plan computed now from the same revision, live state,
  inventory and policy; a step the fresh plan holds for approval must have been planned so too.

The first step that fails raises ``RefusedStepError`` naming the step, cluster, bundle and object.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from reconciler.core.inventory import Inventory
from reconciler.core.live import LiveCluster
from reconciler.core.objects import ObjectKey, read_owner
from reconciler.core.plans import Action, Change, Plan
from reconciler.errors import RefusedStepError


def check(saved: Plan, *, fresh: Plan, live: Mapping[str, LiveCluster], inventory: Inventory, fleet: str,
          declared: Collection[tuple[str, ObjectKey]]) -> None:
    """Raise ``RefusedStepError`` for the first step of ``saved`` that is not allowed now.

    ``declared``: (destination, key) of every object the fleet renders now; ``fleet``: its name."""
    expected = {(c.dest, c.bundle, c.key): c for c in fresh.steps}
    for step in saved.steps:
        if step.action is Action.DELETE:
            _check_delete(step, live=live, inventory=inventory, fleet=fleet,
                          declared=(step.dest, step.key) in declared)
        now = expected.get((step.dest, step.bundle, step.key))
        if now is None or now.action is not step.action:
            said = now.action.value if now is not None else "nothing"
            _refuse(step, f"a fresh plan makes no such step (it says {said} for this object)")
        if now is not None and now.approval and not step.approval:
            _refuse(step, f"the step needs approval ({now.approval}) but the plan says it does not")


def _check_delete(step: Change, *, live: Mapping[str, LiveCluster], inventory: Inventory, fleet: str,
                  declared: bool) -> None:
    held = inventory.get(step.dest, step.bundle)
    if held is None or step.key not in held.keys:
        _refuse(step, f"the object is not in the inventory of bundle {step.bundle}")
    cluster = live.get(step.dest)
    current = cluster.get(step.key) if cluster is not None else None
    owner = read_owner(current) if current is not None else None
    ours = owner is not None and (owner.fleet, owner.stack, owner.bundle) == (
        fleet, step.bundle.stack, step.bundle.bundle)
    if not ours:
        _refuse(step, f"the live object does not carry the marks of bundle {step.bundle}: not ours")
    if declared:
        _refuse(step, "the object is still declared by the desired state")


def _refuse(step: Change, why: str) -> None:
    raise RefusedStepError(f"saved plan refused: step {step.step} ({step.action.value} {step.key}): {why}",
                           cluster=step.dest, bundle=str(step.bundle), object=str(step.key))
