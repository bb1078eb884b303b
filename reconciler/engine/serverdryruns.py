"""``plan --server-dry-run``: confirm each create/update/adopt with an SSA dry-run on its cluster.

Admission and defaulting are then exactly the server's: a refusal is reported as an error, and an
update the server answers without moving the object's resourceVersion is in fact no change (the
step is turned into ``unchanged``). Nothing is written.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from reconciler.core.objects import ObjectKey
from reconciler.core.plans import Action, Change
from reconciler.engine.reconcile import Planned, Session
from reconciler.errors import ClusterError, StackfleetError

CONFIRMED = frozenset({Action.CREATE, Action.UPDATE, Action.ADOPT})


@dataclass(frozen=True)
class Confirmed:
    planned: Planned
    errors: tuple[str, ...] = ()


def confirm(planned: Planned, *, session: Session) -> Confirmed:
    objects = {(b.dest, ObjectKey.of(o)): o for b in planned.render.bundles for o in b.objects}
    errors: list[str] = []
    changes = [_confirm(c, objects, session, errors) for c in planned.plan.changes]
    plan = dataclasses.replace(planned.plan, changes=tuple(changes))
    return Confirmed(dataclasses.replace(planned, plan=plan), tuple(errors))


def _confirm(change: Change, objects: dict[tuple[str, ObjectKey], dict[str, object]], session: Session,
             errors: list[str]) -> Change:
    obj = objects.get((change.cluster, change.key))
    if change.action not in CONFIRMED or obj is None:
        return change
    try:
        answer = session.connections.client(change.cluster).apply(obj, dry_run=True,
                                                                  force=change.action is Action.ADOPT)
    except ClusterError as exc:
        errors.append(f"{change.cluster} {change.key}: {exc.message}")
        return change
    except StackfleetError:
        return change
    moved = (answer.get("metadata") or {}).get("resourceVersion") != change.live_resource_version
    if change.action is Action.UPDATE and not moved:
        return dataclasses.replace(change, action=Action.UNCHANGED, step=None, after=(), patch=(), diff="",
                                   object=None, reason="server dry-run: no change")
    return change
