"""A chart that generates a password, a certificate and an id at render time
(tests/data/charts/generated-secrets): found by rendering twice, kept as live while the chart's inputs
stay the same, regenerated when they change, always regenerated with ``keepGenerated: false``."""

from __future__ import annotations

from reconciler.core.plans import Action

CLUSTER = "db-1"


def secret_password(bench) -> str:
    cluster = bench.running.cluster(CLUSTER)
    return cluster.get(cluster.registry.lookup("", "v1", "secrets"), "default", "web-db")["data"]["password"]


def test_the_generated_fields_are_marked(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "generated-secrets"), [CLUSTER])
    [bundle] = bench.plan().render.bundles
    marked = {(o["kind"], o["metadata"]["name"]): o["metadata"]["annotations"].get("stackfleet.dev/generated")
              for o in bundle.objects}
    assert marked == {("ConfigMap", "web-db"): "/data/install-id", ("Secret", "web-db"): "/data/password",
                      ("Secret", "web-db-tls"): "/data/tls.crt,/data/tls.key"}


def test_a_replan_after_the_apply_is_zero_changes_and_nothing_rotates(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "generated-secrets"), [CLUSTER])
    bench.apply()
    password = secret_password(bench)
    assert (bench.plan().plan.has_changes, bench.drift().entries) == (False, ())
    bench.apply()
    assert secret_password(bench) == password


def test_a_change_of_the_inputs_regenerates(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "generated-secrets"), [CLUSTER])
    bench.apply()
    password = secret_password(bench)
    values = bench.fleet / "stacks/apps/1.0.0/charts/generated-secrets/values.yaml"
    values.write_text("user: admin\n")
    updated = sorted(c.key.name for c in bench.plan().plan.steps if c.action is Action.UPDATE)
    bench.apply()
    assert (updated, secret_password(bench) != password) == (["web-db", "web-db", "web-db-tls"], True)


def test_keep_generated_off_applies_every_renders_values(bench_factory, charted) -> None:
    files = charted(CLUSTER, "generated-secrets")
    stack = "stacks/apps/1.0.0/stack.yaml"
    files[stack] = files[stack].replace("releaseName: web}", "releaseName: web, keepGenerated: false}")
    bench = bench_factory(files, [CLUSTER])
    bench.apply()
    assert bench.plan().plan.has_changes is True
