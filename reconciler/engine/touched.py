"""Which fleet clusters a new revision touched, so a push plans, observes and applies only those.

Two renders of the fleet are compared bundle by bundle: a bundle added or removed, or one whose
rendered content (``DesiredBundle.content_hash``), destination, version, layer, dependencies,
policy, pause or source differ, touches its fleet cluster; so does a render failure in either
render. A fleet cluster's plan holds all its bundles, so the bundles depending on a touched one
(``dependsOn`` names bundles of the same stack and cluster) are planned with it, as are the bundles
it sends to the management cluster. The daemon still reconciles everything on its interval.
"""

from __future__ import annotations

from typing import Any

from reconciler.core.desired import BundleId, DesiredBundle
from reconciler.render.fleet import FleetRender


def touched(before: FleetRender, after: FleetRender) -> frozenset[str]:
    """The fleet clusters whose desired state differs between ``before`` and ``after``."""
    old, new = _signatures(before), _signatures(after)
    moved = {i for i in old.keys() | new.keys() if old.get(i) != new.get(i)}
    failed = {f.id for f in (*before.failures, *after.failures)}
    return frozenset(i.cluster for i in moved | failed)


def _signatures(render: FleetRender) -> dict[BundleId, tuple[Any, ...]]:
    return {b.id: _signature(b) for b in render.bundles}


def _signature(bundle: DesiredBundle) -> tuple[Any, ...]:
    return (bundle.dest, bundle.content_hash, bundle.version, bundle.layer, bundle.layer_index, bundle.depends_on,
            bundle.policy, bundle.paused, bundle.source)
