"""Helpers for tests, the browser tests and the dashboard benchmark: fleets of records in a store.

::

    catalog = testing.synthetic_catalog(1000)
    testing.fill(store, testing.placements(catalog), revision="main@sha1:...",
                 states={"c0003": State.DRIFTED, "c0007": State.FAILED})

``fill`` writes through the store's API only (inventories in one transaction, then one record per
bundle that is not in sync), as the apply engine and the drift scan would.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import httpx

from reconciler.core.desired import BundleId
from reconciler.core.inventory import BundleInventory, Entry
from reconciler.core.objects import ObjectKey
from reconciler.core.statuses import Outcome, Reachability
from reconciler.spec.loader import FleetRepo
from reconciler.store.stores import Store
from reconciler.web import apps, servers
from reconciler.web.catalogs import Catalog, ClusterEntry
from reconciler.web.services import Services
from reconciler.web.states import State

Placement = tuple[str, BundleId]
"""(destination cluster, bundle)."""
STACKS = {"base": ("namespaces", "rbac", "monitoring"), "platform": ("ingress", "cert-manager")}
ENVS = ("prod", "stage", "dev")
REGIONS = ("eu", "us", "ap")


def synthetic_catalog(count: int, *, stacks: Mapping[str, tuple[str, ...]] = STACKS) -> Catalog:
    """``count`` clusters ``c0000``... labelled env/region/ring, each running every stack."""
    clusters = {
        name: ClusterEntry(
            name=name,
            labels={"env": ENVS[i % 3], "region": REGIONS[(i // 3) % 3], "ring": str(i % 4)},
            stacks={stack: "1.0.0" for stack in stacks},
        )
        for i, name in enumerate(f"c{i:04d}" for i in range(count))
    }
    columns = tuple(f"{s}/{b}" for s, bundles in stacks.items() for b in bundles)
    return Catalog(revision="main@sha1:" + "0" * 40, clusters=clusters, columns=columns)


def placements(catalog: Catalog) -> list[Placement]:
    """Every cluster x column of ``catalog``, applied to the cluster itself."""
    out: list[Placement] = []
    for name in catalog.clusters:
        for column in catalog.columns:
            stack, _, bundle = column.partition("/")
            out.append((name, BundleId(name, stack, bundle)))
    return out


def repo_placements(repo: FleetRepo) -> list[Placement]:
    """Every target of a real fleet repo, with its real destination (management-cluster bundles)."""
    from reconciler.core import targeting

    return [(t.dest, t.id) for t in targeting.build(repo)]


def fill(
    store: Store,
    where: Iterable[Placement],
    *,
    revision: str,
    states: Mapping[str, State] | None = None,
    objects: int = 3,
) -> None:
    """Record every placement as applied at ``revision``; clusters in ``states`` get that state."""
    found = list(where)
    store.inventories.put_many(_inventory(dest, bundle, revision, objects) for dest, bundle in found)
    for name, state in (states or {}).items():
        mine = sorted((p for p in found if p[1].cluster == name), key=lambda p: p[0] != name)
        mark(store, name, mine[:1], state=state)


def _inventory(dest: str, bundle: BundleId, revision: str, objects: int) -> BundleInventory:
    keys = [ObjectKey("", "ConfigMap", bundle.bundle, f"{bundle.bundle}-{i}") for i in range(objects)]
    return BundleInventory(dest=dest, bundle=bundle, revision=revision, entries=tuple(Entry(k) for k in keys))


def mark(store: Store, cluster: str, where: list[Placement], *, state: State) -> None:
    """Put one bundle of ``cluster`` (the first of ``where``) in ``state`` through the store's API."""
    if state is State.UNREACHABLE:
        store.clusters.set_status(cluster, Reachability.UNREACHABLE, error="dial tcp: connection refused")
    elif state is State.PAUSED:
        store.clusters.set_paused(cluster, paused=True)
    for dest, bundle in where:
        key = ObjectKey("", "ConfigMap", bundle.bundle, f"{bundle.bundle}-0")
        if state is State.DRIFTED:
            store.drifts.report(
                dest,
                bundle,
                key,
                patch=[{"op": "replace", "path": "/data/a", "value": "1"}],
                diff="--- live\n+++ desired\n-a: '2'\n+a: '1'",
            )
        elif state in (State.FAILED, State.APPLYING):
            run = f"run-{cluster}-{state.value}"
            store.runs.start(run, revision="main@sha1:" + "1" * 40)
            if state is State.FAILED:
                store.runs.record_step(
                    run,
                    cluster=dest,
                    bundle=bundle,
                    key=key,
                    action="update",
                    outcome=Outcome.FAILED,
                    error="admission webhook denied the request",
                )
            else:
                store.runs.begin_step(run, cluster=dest, bundle=bundle, key=key, action="update")


@contextmanager
def running(services: Services) -> Iterator[tuple[servers.Running, httpx.Client]]:
    """The app over ``services`` served on 127.0.0.1, and an httpx client for it (no token set)."""
    with (
        servers.serve(apps.create_app(services)) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        yield server, client
