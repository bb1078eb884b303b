"""No planted secret reaches a database row: bodies and error texts are scrubbed before writing."""

from __future__ import annotations

import base64
from pathlib import Path

from reconciler.core import plans
from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.core.statuses import Outcome
from reconciler.redactions import Redactor
from reconciler.store import stores

CANARY = "canary-7f3a9c1e5b2d"
BUNDLE = BundleId(cluster="eu-1", stack="platform", bundle="db")
KEY = ObjectKey(group="apps", kind="Deployment", namespace="db", name="postgres")


def leaky_plan() -> plans.Plan:
    env = [{"name": "PGPASSWORD", "value": "hunter2-plain"}, {"name": "X", "value": f"url {CANARY}"}]
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"env": env, "password": "hunter2-plain"}}
    change = plans.Change(
        action=plans.Action.UPDATE, dest="eu-1", bundle=BUNDLE, key=KEY, step=1, object=obj
    )
    return plans.Plan(revision="main@sha1:abc", created_at="2026-01-01T00:00:00Z", changes=(change,))


def write_everything(store: stores.Store) -> None:
    store.plans.save("p-1", leaky_plan())
    store.runs.start("r-1", revision="main@sha1:abc")
    store.runs.record_step(
        "r-1",
        cluster="eu-1",
        bundle=BUNDLE,
        key=KEY,
        action="update",
        outcome=Outcome.FAILED,
        error=f"401 calling https://admin:{CANARY}@eu-1.example:6443 with Authorization: Bearer {CANARY}",
    )
    patch = [{"op": "replace", "path": "/data/token", "value": base64.b64encode(CANARY.encode()).decode()}]
    store.drifts.report("eu-1", BUNDLE, KEY, patch=patch, diff=f"- token: {CANARY}")
    store.events.add("apply-failed", f"bearer {CANARY}")


def database_bytes(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


def test_a_canary_appears_in_no_database_file(store: stores.Store, redactor: Redactor, db_path: Path) -> None:
    redactor.register(CANARY)
    write_everything(store)
    raw = database_bytes(db_path)
    encoded = base64.b64encode(CANARY.encode())
    assert (CANARY.encode() in raw, encoded in raw) == (False, False)


def test_values_of_secret_looking_keys_are_masked_in_plan_bodies(store: stores.Store) -> None:
    store.plans.save("p-1", leaky_plan())
    assert "hunter2-plain" not in store.plans.get("p-1").body


def test_a_stored_plan_loads_back_as_a_plan(store: stores.Store) -> None:
    store.plans.save("p-1", leaky_plan())
    loaded = store.plans.load("p-1")
    assert (loaded.revision, loaded.changes[0].key) == ("main@sha1:abc", KEY)
