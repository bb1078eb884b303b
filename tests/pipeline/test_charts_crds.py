"""A monitoring operator's CRD-only chart (tests/data/charts/operator-crds): an enum with a plain ``=``
(which go-yaml, and so Helm, kubectl and the API server, read as the string "="), ``default:``s in the
structural schema that the API server fills in, and a custom resource of it."""

from __future__ import annotations

CLUSTER = "monitoring-1"


def _schema(crd: dict) -> dict:
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]


def test_a_plain_equals_sign_in_an_enum_is_the_string(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "operator-crds"), [CLUSTER])
    [bundle] = bench.plan().render.bundles
    [crd] = [o for o in bundle.objects if o["kind"] == "CustomResourceDefinition"]
    match_type = _schema(crd)["matchers"]["items"]["properties"]["matchType"]
    assert (match_type["enum"], match_type["default"]) == (["!=", "=", "=~", "!~"], "=")


def test_the_chart_applies_with_the_servers_defaults_and_then_nothing_is_planned_or_drifted(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "operator-crds"), [CLUSTER])
    [outcome] = bench.apply().outcomes
    cluster = bench.running.cluster(CLUSTER)
    rules = cluster.registry.lookup("monitoring.example.dev", "v1", "alertrules")
    spec = cluster.get(rules, "default", "web-disk")["spec"]
    assert (outcome.result.value, spec) == ("succeeded", {  # the schema's defaults, filled in by the API server
        "matchers": [{"name": "severity", "value": "critical", "matchType": "="},
                     {"name": "team", "value": "platform", "matchType": "=~"}],
        "severity": "warning", "repeatInterval": "4h"})
    assert (bench.plan().plan.has_changes, bench.drift().entries) == (False, ())
