"""One masking rule in every sink: a secret-looking value outside a Secret (a ConfigMap's ``password``,
an env var ``DB_PASSWORD``) is shown as a digest marker in plans, drift and the store, and comparisons
use the digests, so an untouched object never reads as drifted because a sink masked it."""

from __future__ import annotations

import json

from reconciler.sim.clusters import Write

CLUSTER = "masked-1"
VALUE = "hunter2-canary-7f3a"
CONFIG = f"""apiVersion: v1
kind: ConfigMap
metadata: {{name: db}}
data: {{host: db.local, password: {VALUE}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: api}}
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata: {{labels: {{app: api}}}}
    spec:
      containers:
        - name: api
          image: registry.example.dev/api:1.0
          env: [{{name: DB_PASSWORD, value: {VALUE}}}, {{name: DB_HOST, value: db.local}}]
"""


def everything_stored(bench) -> str:
    return json.dumps([r.body for r in bench.store.applied.all()], default=str)


def test_an_untouched_object_with_a_secret_looking_value_is_not_drift(bench_factory, small_fleet) -> None:
    bench = bench_factory(small_fleet(CLUSTER, CONFIG), [CLUSTER])
    bench.apply()
    plan = bench.plan().plan
    assert (plan.has_changes, bench.drift().entries, VALUE in everything_stored(bench)) == (False, (), False)


def test_a_changed_secret_looking_value_shows_as_a_digest_change_never_in_clear(bench_factory, small_fleet) -> None:
    bench = bench_factory(small_fleet(CLUSTER, CONFIG), [CLUSTER])
    bench.apply()
    cluster = bench.running.cluster(CLUSTER)

    def rotate(obj: dict) -> dict:
        obj["data"]["password"] = "rotated-by-hand-9c1d"
        return obj

    cluster.patch(cluster.registry.lookup("", "v1", "configmaps"), "default", "db", rotate, Write(manager="kubectl-edit"))
    [entry] = bench.drift().entries
    [field] = entry.fields
    shown = json.dumps([entry.to_dict(), bench.plan().plan.to_dict()], default=str)
    assert (field.path, field.manager.name, str(field.live).startswith("<masked sha256:"),
            VALUE in shown, "rotated-by-hand" in shown) == ("/data/password", "kubectl-edit", True, False, False)
