"""Inventories: round trip through core.inventory, replaced atomically per bundle."""

from __future__ import annotations

import pytest

from reconciler.core import inventory
from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.errors import StoreError
from reconciler.store import stores

BUNDLE = BundleId(cluster="eu-1", stack="platform", bundle="ingress")


def entry(name: str, uid: str = "") -> inventory.Entry:
    key = ObjectKey(group="apps", kind="Deployment", namespace="ingress", name=name)
    return inventory.Entry(key=key, uid=uid or f"uid-{name}", fingerprint=f"sha256:{name}")


def bundle_inventory(*names: str, revision: str = "main@sha1:aaa") -> inventory.BundleInventory:
    return inventory.BundleInventory(
        dest="eu-1", bundle=BUNDLE, revision=revision, entries=tuple(entry(n) for n in names)
    )


def test_an_inventory_reads_back_equal(store: stores.Store) -> None:
    store.inventories.put(bundle_inventory("a", "b"))
    assert store.inventories.get("eu-1", BUNDLE) == bundle_inventory("a", "b")


def test_a_put_replaces_the_whole_bundle(store: stores.Store) -> None:
    store.inventories.put(bundle_inventory("a", "b"))
    store.inventories.put(bundle_inventory("c", revision="main@sha1:bbb"))
    assert store.inventories.get("eu-1", BUNDLE) == bundle_inventory("c", revision="main@sha1:bbb")


def test_a_failed_put_leaves_the_old_inventory(store: stores.Store) -> None:
    store.inventories.put(bundle_inventory("a", "b"))
    broken = inventory.BundleInventory(
        dest="eu-1", bundle=BUNDLE, revision="x", entries=(entry("c"), entry("c", "2"))
    )
    with pytest.raises(StoreError, match=r"(?i)unique"):
        store.inventories.put(broken)
    assert store.inventories.get("eu-1", BUNDLE) == bundle_inventory("a", "b")


def test_put_many_is_all_or_nothing(store: stores.Store) -> None:
    other = BundleId(cluster="eu-1", stack="platform", bundle="cert-manager")
    good = inventory.BundleInventory(dest="eu-1", bundle=other, entries=(entry("x"),))
    broken = inventory.BundleInventory(dest="eu-1", bundle=BUNDLE, entries=(entry("c"), entry("c", "2")))
    with pytest.raises(StoreError):
        store.inventories.put_many([good, broken])
    assert store.inventories.get("eu-1", other) is None


def test_load_all_gives_the_fleet_inventory(store: stores.Store) -> None:
    other = inventory.BundleInventory(dest="mgmt", bundle=BUNDLE, entries=(entry("capi"),))
    store.inventories.put_many([bundle_inventory("a"), other])
    assert store.inventories.load_all() == inventory.Inventory.of([bundle_inventory("a"), other])


def test_owners_of_names_every_bundle_holding_an_object(store: stores.Store) -> None:
    store.inventories.put(bundle_inventory("a"))
    assert store.inventories.owners_of("eu-1", entry("a").key) == [BUNDLE]


def test_an_unknown_bundle_has_no_inventory(store: stores.Store) -> None:
    assert store.inventories.get("eu-1", BUNDLE) is None
