"""A fleet's own health rules (fleet.yaml spec.health) decide the health gate and the bundle health the drift
scan records, on the small one-cluster fleet."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.core import rollout, targeting
from reconciler.engine import drift, reconcile

RULE = """  health:
    - kind: ConfigMap
      group: ""
      healthy: "has(object.data.index)"
      degraded: "object.data.index == '3'"
      message: "'config map ' + string(object.data.index)"
"""


def add_rule(small, rule: str) -> None:
    small.edit("fleet.yaml", "spec:\n", "spec:\n" + rule)


def test_a_degraded_rule_fails_the_gate_naming_the_rule(small):
    add_rule(small, RULE.replace("      message: \"'config map ' + string(object.data.index)\"\n", ""))
    report = small.apply()
    failed = {o.cluster: o for o in report.outcomes}["c0"]
    assert failed.result is rollout.Result.FAILED
    assert ("ConfigMap/apps/cm-3 is Degraded: health rule for ConfigMap: object.data.index == '3'"
            in failed.detail)


def test_without_the_rule_the_same_objects_pass(small):
    report = small.apply()
    assert {o.cluster: o.result for o in report.outcomes} == {"c0": rollout.Result.SUCCEEDED}


def test_the_drift_scan_records_bundle_health_by_the_rule(small):
    add_rule(small, RULE.replace("'3'", "'9'"))
    small.apply()
    small.edit("fleet.yaml", "'9'", "'4'")
    repo = small.repo()
    session = small.session(repo)
    drift.scan(small.store, connections=session.connections, fleet_name=repo.name, policies=drift.policies_of(targeting.build(repo)),
               now=datetime.now(UTC), health_rules=reconcile.health_rules(repo))
    found = {(h.bundle.bundle, h.health.label, h.reason) for h in small.store.health.of_cluster("c0")}
    assert found == {("base", "Healthy", ""), ("config", "Degraded", "config map 4")}
