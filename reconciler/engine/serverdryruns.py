"""``plan --server-dry-run``: confirm each create/update/adopt with an SSA dry-run on its cluster.

Admission and defaulting are then exactly the server's: a refusal is reported as an error, and an
update whose dry-run answer equals the live object (metadata the server maintains and status left
out) is in fact no change: the step is turned into ``unchanged``. Nothing is written.

A create the server cannot judge yet is not sent: its cluster is still being provisioned, its
namespace or its kind's CRD is created by an earlier step of the same plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.core import ordering
from reconciler.core.objects import Obj, ObjectKey
from reconciler.core.plans import Action, Change
from reconciler.engine.reconcile import Planned, Session, rendered_objects
from reconciler.errors import ClusterError, StackfleetError
from reconciler.kube.connections import KubeconfigPending

CONFIRMED = frozenset({Action.CREATE, Action.UPDATE, Action.ADOPT})
SERVER_METADATA = frozenset({"managedFields", "resourceVersion", "generation", "creationTimestamp", "uid"})


@dataclass(frozen=True)
class Confirmed:
    planned: Planned
    errors: tuple[str, ...] = ()


def confirm(planned: Planned, *, session: Session) -> Confirmed:
    objects = rendered_objects(planned.render.bundles)
    errors: list[str] = []
    live = {(name, key): obj for name, cluster in planned.live.items() for key, obj in cluster.objects.items()}
    later = _created_in_plan(planned)
    changes = [c if _not_yet(c, later) else _confirm(c, objects, live, session, errors) for c in planned.plan.changes]
    plan = dataclasses.replace(planned.plan, changes=tuple(changes))
    return Confirmed(dataclasses.replace(planned, plan=plan), tuple(errors))


def _created_in_plan(planned: Planned) -> set[tuple[str, str]]:
    """(cluster, namespace or kind) that steps of the plan create: namespaces, kinds of new CRDs."""
    found: set[tuple[str, str]] = set()
    for change in planned.plan.steps:
        if change.action is Action.CREATE and change.key.kind == "Namespace":
            found.add((change.dest, f"ns/{change.key.name}"))
        kind = ordering.provided_kind(change.object) if change.object else None
        if kind:
            found.add((change.dest, f"kind/{kind}"))
    return found


def _not_yet(change: Change, later: set[tuple[str, str]]) -> bool:
    if change.action is not Action.CREATE:
        return False
    if (change.dest, f"kind/{change.key.group_kind}") in later:
        return True
    return bool(change.key.namespace) and (change.dest, f"ns/{change.key.namespace}") in later


def _comparable(obj: Obj) -> Obj:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in SERVER_METADATA}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def _confirm(change: Change, objects: Mapping[tuple[str, ObjectKey], Obj], live_objects: Mapping[tuple[str, ObjectKey], Obj],
             session: Session, errors: list[str]) -> Change:
    obj = objects.get((change.dest, change.key))
    if change.action not in CONFIRMED or obj is None:
        return change
    try:
        answer = session.connections.client(change.dest).apply(obj, dry_run=True,
                                                                  force=change.action is Action.ADOPT)
    except KubeconfigPending:
        return change  # a cluster still being provisioned: nothing there to ask
    except ClusterError as exc:
        errors.append(f"{change.dest} {change.key}: {exc.message}")
        return change
    except StackfleetError:
        return change
    live = live_objects.get((change.dest, change.key))
    if change.action is Action.UPDATE and live is not None and _comparable(answer) == _comparable(live):
        return dataclasses.replace(change, action=Action.UNCHANGED, step=None, after=(), patch=(), diff="",
                                   object=None, reason="server dry-run: no change")
    return change
