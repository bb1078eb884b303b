"""Helm hooks as stackfleet runs them.

- ``test`` hooks (``test``, ``test-success``, ``test-failure``) are not desired state: dropped.
- ``pre-install``/``pre-upgrade`` hooks become ``HelmHook(phase="pre")``: ordered steps applied before
  the bundle's other objects; ``post-install``/``post-upgrade`` become ``phase="post"``, after them.
  ``helm.sh/hook-weight`` orders hooks within a phase; ``helm.sh/hook-delete-policy`` is kept
  (default ``before-hook-creation``, as in Helm).
- A hook that runs only on delete or rollback (``pre-delete``, ``post-delete``, ``pre-rollback``,
  ``post-rollback``) has no place in a declarative apply: the chart fails with a ``ChartError``
  naming the template. Delete and rollback events listed next to install/upgrade ones are ignored.
- A hook listed for both a pre and a post event (``pre-install,pre-upgrade,post-install,post-upgrade``, as
  charts do for the RBAC their pre and post Jobs share) is applied once, in the pre phase, and kept until
  the post phase is over: ``HelmHook(phase="pre", last_phase="post")``. Helm would create it for the pre
  hooks, delete it by policy and create it again for the post ones; the object is there for both either
  way, without being written twice in one plan (ADR 0012).
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.core.desired import HelmHook
from reconciler.core.objects import Obj
from reconciler.errors import ChartError
from reconciler.render.manifests import Doc

HOOK = "helm.sh/hook"
WEIGHT = "helm.sh/hook-weight"
DELETE_POLICY = "helm.sh/hook-delete-policy"

TEST_EVENTS = frozenset({"test", "test-success", "test-failure"})
PHASES = {"pre-install": "pre", "pre-upgrade": "pre", "post-install": "post", "post-upgrade": "post"}
PHASE_ORDER = ("pre", "post")
IGNORED_EVENTS = frozenset({"pre-delete", "post-delete", "pre-rollback", "post-rollback"})
DELETE_POLICIES = frozenset({"before-hook-creation", "hook-succeeded", "hook-failed"})
DEFAULT_DELETE_POLICIES = ("before-hook-creation",)


def split(docs: Iterable[Doc]) -> tuple[list[Doc], list[HelmHook]]:
    """Plain objects, and the hooks (test hooks dropped)."""
    plain: list[Doc] = []
    found: list[HelmHook] = []
    for doc in docs:
        events = _events(doc.obj)
        if not events:
            plain.append(doc)
        elif not events <= TEST_EVENTS:
            found.append(_hook(doc, events))
    return plain, found


def _events(obj: Obj) -> set[str]:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    raw = str(annotations.get(HOOK, ""))
    return {e.strip() for e in raw.split(",") if e.strip()}


def _hook(doc: Doc, events: set[str]) -> HelmHook:
    unknown = events - TEST_EVENTS - set(PHASES) - IGNORED_EVENTS
    if unknown:
        raise _error(doc, f"unknown Helm hook {', '.join(sorted(unknown))}")
    phases = {PHASES[e] for e in events if e in PHASES}
    if not phases:
        raise _error(
            doc, f"Helm hook {', '.join(sorted(events))} is not supported (only pre/post install/upgrade)"
        )
    ranked = sorted(phases, key=PHASE_ORDER.index)
    last = ranked[-1] if len(ranked) > 1 else ""
    return HelmHook(phase=ranked[0], weight=_weight(doc), delete_policies=_policies(doc), object=doc.obj,
                    last_phase=last)


def _weight(doc: Doc) -> int:
    annotations = doc.obj["metadata"].get("annotations") or {}
    raw = str(annotations.get(WEIGHT, "0")).strip()
    try:
        return int(raw)
    except ValueError:
        raise _error(doc, f"hook weight {raw!r} is not an integer") from None


def _policies(doc: Doc) -> tuple[str, ...]:
    annotations = doc.obj["metadata"].get("annotations") or {}
    raw = str(annotations.get(DELETE_POLICY, ""))
    policies = tuple(sorted({p.strip() for p in raw.split(",") if p.strip()}))
    bad = set(policies) - DELETE_POLICIES
    if bad:
        raise _error(doc, f"unknown hook delete policy {', '.join(sorted(bad))}")
    return policies or DEFAULT_DELETE_POLICIES


def _error(doc: Doc, message: str) -> ChartError:
    name = f"{doc.obj.get('kind')}/{doc.obj['metadata'].get('name')}"
    return ChartError(f"{message} ({name})", file=doc.file, line=doc.line)
