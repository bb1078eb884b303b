"""Issue 17 item 2: guard rails. A bundle binding cluster-admin to anonymous users, replacing CoreDNS's
config in kube-system and writing into stackfleet's own namespace gets each of them ``refused`` in the
plan (nothing written), reported by ``validate`` with file and line, while the rest applies; an
explicit waiver in the fleet's policy lets the one it names through."""

from __future__ import annotations

import json
import subprocess
import sys

from reconciler.core import rollout
from reconciler.core.plans import Action

AREA = "guards"
GUARDED = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: open-door}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: Group, name: system:unauthenticated}
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: system:anonymous}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data: {Corefile: ".:53 { forward . 203.0.113.9 }"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: takeover, namespace: stackfleet-system}
data: {k: v}
"""
NAMES = {"open-door", "coredns", "takeover"}
GUARDS = {"open-door": "public-subjects", "coredns": "system-namespaces", "takeover": "stackfleet-self"}


def test_guarded_objects_are_refused_reported_and_never_written(applied, figures, captured_logs):
    applied.edit("stacks/apps/1.0.0/stack.yaml", "  - {name: secrets,",
                 "  - {name: rbac, manifests: {path: rbac}, layer: addons}\n  - {name: secrets,")
    applied.write("stacks/apps/1.0.0/rbac/guarded.yaml", GUARDED)
    applied.edit("stacks/apps/1.0.0/config/cms.yaml", "data: {index: '1'}", "data: {index: 'one'}")
    planned = applied.plan()
    refused = [c for c in planned.plan.changes if c.key.name in NAMES]
    figures.guarded_objects_tried += len(refused)
    assert {(c.action, c.key.name) for c in refused} == {(Action.REFUSED, n) for n in NAMES}
    assert all(GUARDS[c.key.name] in c.reason for c in refused)
    report = applied.apply(planned)
    after = applied.live()
    figures.guarded_objects_applied += sum(1 for k in after if k[3] in NAMES)
    assert [k for k in after if k[3] in NAMES] == []
    assert {o.result for o in report.outcomes} == {rollout.Result.SUCCEEDED}
    assert [c.action for c in planned.plan.steps] == [Action.UPDATE] * 3  # the unrelated change went on
    applied.check(area=AREA, logs_text=captured_logs.text())

    found = subprocess.run([sys.executable, "-m", "reconciler.cli", "validate", str(applied.fleet), "--no-render"],
                           capture_output=True, text=True, timeout=120)
    assert found.returncode == 0  # guards judge rendered objects
    checked = subprocess.run([sys.executable, "-m", "reconciler.cli", "validate", str(applied.fleet), "-o", "json"],
                             capture_output=True, text=True, timeout=300)
    problems = json.loads(checked.stdout)["problems"]
    assert checked.returncode == 1 and len(problems) == 3 * len(NAMES)
    assert {(p["file"], p["rule"]) for p in problems} == {
        ("stacks/apps/1.0.0/stack.yaml", f"guard:{g}") for g in GUARDS.values()}
    assert all(isinstance(p["line"], int) and p["line"] > 0 for p in problems)


def test_an_explicit_waiver_lets_the_guard_it_names_through(applied, captured_logs):
    applied.edit("stacks/apps/1.0.0/stack.yaml", "  - {name: secrets,",
                 "  - {name: rbac, manifests: {path: rbac}, layer: addons}\n  - {name: secrets,")
    applied.write("stacks/apps/1.0.0/rbac/guarded.yaml", GUARDED)
    applied.edit("fleet.yaml", "spec: {layers: [infra, addons],",
                 "spec: {layers: [infra, addons], policy: {guards: {stacks: [{stack: apps, waive: [system-namespaces]}]}},")
    planned = applied.plan()
    actions = {(c.key.name, c.action) for c in planned.plan.changes if c.key.name in NAMES and c.dest == "c0"}
    assert actions == {("coredns", Action.CREATE), ("open-door", Action.REFUSED), ("takeover", Action.REFUSED)}
    applied.check(area=AREA, logs_text=captured_logs.text())
