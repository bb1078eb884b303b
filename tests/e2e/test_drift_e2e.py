"""Drift on sim clusters, end to end: apply with the engine, edit behind its back, scan, self-heal.

Four edits are injected into objects of a ``selfHeal`` bundle: a field we own changed by another
manager (Deployment replicas), an object deleted, a field of another manager changed (a label an
``labeler`` set and then changed), and a server-defaulted field changed (progressDeadlineSeconds).
Exactly the first two are drift, attributed to the right manager; self-heal fixes exactly those two
and leaves the other managers' fields alone. A report-only bundle's drift is reported, never healed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import main
from reconciler.core import drift as core_drift
from reconciler.core import targeting
from reconciler.core.objects import ObjectKey
from reconciler.engine import drift, fleetrun, gates, reconcile, sessions
from reconciler.kube.connections import ClientSettings
from reconciler.sim import testing
from reconciler.source import opening
from reconciler.spec import loader
from reconciler.store import stores
from reconciler.store.stores import Store

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: apps}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.25"}]
"""
CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: apps}\ndata: {mode: fast}\n"
FILES = {
    "fleet.yaml": """apiVersion: stackfleet.dev/v1alpha1
kind: Fleet
metadata: {name: drifty}
spec:
  layers: [infra, addons]
  assignments:
    - {name: apps, selector: {matchLabels: {role: worker}}, stacks: [{name: apps, version: 1.0.0}]}
""",
    "clusters/c0.yaml": """apiVersion: stackfleet.dev/v1alpha1
kind: Cluster
metadata: {name: c0, labels: {role: worker}}
spec: {connection: {context: c0}}
""",
    "stacks/apps/1.0.0/stack.yaml": """apiVersion: stackfleet.dev/v1alpha1
kind: Stack
metadata: {name: apps}
spec:
  version: 1.0.0
  bundles:
    - {name: base, layer: infra, manifests: {path: base}}
    - {name: healed, layer: addons, selfHeal: true, manifests: {path: healed}}
    - {name: watched, layer: addons, manifests: {path: watched}}
""",
    "stacks/apps/1.0.0/base/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n",
    "stacks/apps/1.0.0/healed/web.yaml": DEPLOYMENT + "---\n" + CONFIG,
    "stacks/apps/1.0.0/watched/cm.yaml": CONFIG.replace("settings", "report-only"),
}
WEB = ObjectKey("apps", "Deployment", "apps", "web")
SETTINGS = ObjectKey("", "ConfigMap", "apps", "settings")
REPORT_ONLY = ObjectKey("", "ConfigMap", "apps", "report-only")
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class Scene:
    sim: testing.RunningSim
    repo: loader.FleetRepo
    store: Store
    session: reconcile.Session
    root: Path

    def resource(self, api_version: str, kind: str) -> Any:
        return self.sim.dynamic_client("c0").resources.get(api_version=api_version, kind=kind)

    def patch(
        self, kind: str, name: str, body: dict[str, Any], *, manager: str, api_version: str = "v1"
    ) -> None:
        self.resource(api_version, kind).patch(
            body=body,
            name=name,
            namespace="apps",
            content_type="application/merge-patch+json",
            field_manager=manager,
        )

    def get(self, api_version: str, kind: str, name: str) -> dict[str, Any]:
        return self.resource(api_version, kind).get(name=name, namespace="apps").to_dict()

    def scan(self) -> core_drift.Report:
        return drift.scan(
            self.store,
            connections=self.session.connections,
            fleet_name=self.repo.name,
            policies=drift.policies_of(targeting.build(self.repo)),
            now=NOW,
        )


def write_fleet(root: Path) -> Path:
    for relative, text in FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    repo = loader.load(opening.open_tree(str(write_fleet(tmp_path / "fleet"))))
    with testing.running(clusters=["c0"], workdir=tmp_path, interval=0.01) as sim:
        store = stores.open_store(tmp_path / "state.db")
        settings = ClientSettings(qps=1000, burst=1000, attempts=3, backoff=0.01)
        connections = sessions.connections_for(repo, kubeconfig=str(sim.kubeconfig), settings=settings)
        session = reconcile.Session(connections=connections, store=store, timing=gates.Timing(poll=0.01))
        planned = reconcile.plan_fleet(repo, session=session)
        options = reconcile.ApplyOptions(approve=True, rollout=fleetrun.Options(sleep=lambda _: None))
        reconcile.apply_plan(planned, session=session, options=options)
        yield Scene(sim, repo, store, session, tmp_path)
        connections.close()
        store.close()


def inject(scene: Scene) -> None:
    scene.patch("Deployment", "web", {"spec": {"replicas": 5}}, manager="intruder", api_version="apps/v1")
    scene.resource("v1", "ConfigMap").delete(name="settings", namespace="apps")
    scene.patch(
        "Deployment", "web", {"metadata": {"labels": {"team": "a"}}}, manager="labeler", api_version="apps/v1"
    )
    scene.patch(
        "Deployment", "web", {"metadata": {"labels": {"team": "b"}}}, manager="labeler", api_version="apps/v1"
    )
    scene.patch(
        "Deployment",
        "web",
        {"spec": {"progressDeadlineSeconds": 100}},
        manager="tuner",
        api_version="apps/v1",
    )


def test_a_clean_apply_has_no_drift(scene: Scene) -> None:
    report = scene.scan()
    assert (report.entries, report.checked) == ((), 4)


def test_exactly_the_owned_field_and_the_deleted_object_are_drift(scene: Scene) -> None:
    inject(scene)
    found = {(e.key, e.kind.value) for e in scene.scan().entries}
    assert found == {(WEB, "modified"), (SETTINGS, "missing")}


def test_the_changed_field_names_the_manager_that_changed_it(scene: Scene) -> None:
    inject(scene)
    entry = next(e for e in scene.scan().entries if e.key == WEB)
    assert [(f.path, f.manager.name, f.manager.operation) for f in entry.fields] == [
        ("/spec/replicas", "intruder", "Update")
    ]


def test_drift_is_recorded_in_the_store_with_its_manager(scene: Scene) -> None:
    inject(scene)
    scene.scan()
    found = {(d.object_key, d.who.manager) for d in scene.store.drifts.open()}
    assert found == {(str(WEB), "intruder"), (str(SETTINGS), "")}


def test_self_heal_fixes_exactly_the_drift(scene: Scene) -> None:
    inject(scene)
    drift.heal(scene.scan(), repo=scene.repo, session=scene.session)
    web = scene.get("apps/v1", "Deployment", "web")
    fixed = (web["spec"]["replicas"], scene.get("v1", "ConfigMap", "settings")["data"])
    left_alone = (web["metadata"]["labels"]["team"], web["spec"]["progressDeadlineSeconds"])
    assert (fixed, left_alone) == ((2, {"mode": "fast"}), ("b", 100))


def test_after_self_heal_the_drift_is_resolved(scene: Scene) -> None:
    inject(scene)
    drift.heal(scene.scan(), repo=scene.repo, session=scene.session)
    assert (scene.scan().entries, scene.store.drifts.open()) == ((), [])


def test_report_only_drift_is_reported_and_never_healed(scene: Scene) -> None:
    scene.patch("ConfigMap", "report-only", {"data": {"mode": "slow"}}, manager="intruder")
    report = scene.scan()
    drift.heal(report, repo=scene.repo, session=scene.session)
    still = scene.get("v1", "ConfigMap", "report-only")["data"]["mode"]
    assert ([e.key for e in report.entries], still) == ([REPORT_ONLY], "slow")


def test_first_seen_is_kept_across_scans(scene: Scene) -> None:
    inject(scene)
    scene.scan()
    first = {d.object_key: d.first_seen for d in scene.store.drifts.open()}
    scene.scan()
    assert {d.object_key: d.first_seen for d in scene.store.drifts.open()} == first


def run_cli(scene: Scene, *args: str) -> Result:
    """``stackfleet drift`` in this process (click's runner), against the scene's store and sim."""
    command = [
        "drift",
        "--fleet",
        str(scene.root / "fleet"),
        "--kubeconfig",
        str(scene.sim.kubeconfig),
        "--state",
        str(scene.root / "state.db"),
        *args,
    ]
    return CliRunner().invoke(main.cli, command, catch_exceptions=False)


def test_the_cli_exits_0_without_drift(scene: Scene) -> None:
    done = run_cli(scene, "-o", "json")
    assert (done.exit_code, json.loads(done.stdout)["drifted"]) == (0, False)


def test_the_cli_exits_2_and_reports_the_drift(scene: Scene) -> None:
    inject(scene)
    done = run_cli(scene, "-o", "json")
    assert (done.exit_code, json.loads(done.stdout)["counts"]) == (2, {"modified": 1, "missing": 1})


def test_the_cli_text_names_who_changed_what(scene: Scene) -> None:
    inject(scene)
    done = run_cli(scene)
    assert "/spec/replicas: 5 -> 2 (owned by intruder (Update))" in done.stdout


def test_the_cli_heals_self_heal_bundles(scene: Scene) -> None:
    inject(scene)
    run_cli(scene, "--heal")
    assert run_cli(scene).exit_code == 0


def test_new_drift_and_its_resolution_are_events(scene: Scene) -> None:
    inject(scene)
    drift.heal(scene.scan(), repo=scene.repo, session=scene.session)
    scene.scan()
    reasons = [e.reason for e in reversed(scene.store.events.recent(limit=50))]
    assert [r for r in reasons if r.startswith("Drift")] == [
        "DriftDetected",
        "DriftDetected",
        "DriftResolved",
    ]


def test_an_unreachable_cluster_is_marked_and_its_drift_kept_open(scene: Scene) -> None:
    inject(scene)
    scene.scan()
    scene.sim.faults("c0").down = True
    report = scene.scan()
    found = (
        list(report.unreachable),
        scene.store.clusters.get("c0").status.value,
        len(scene.store.drifts.open()),
    )
    assert found == (["c0"], "unreachable", 2)


def test_the_cli_exits_1_when_a_cluster_cannot_be_scanned(scene: Scene) -> None:
    scene.sim.faults("c0").down = True
    done = run_cli(scene)
    assert (done.exit_code, "could not be scanned" in done.output) == (1, True)


def test_the_stored_patch_names_the_owner_of_each_field(scene: Scene) -> None:
    inject(scene)
    scene.scan()
    record = next(d for d in scene.store.drifts.open() if d.object_key == str(WEB))
    assert [(op["path"], op["manager"], op["operation"]) for op in record.patch] == [
        ("/spec/replicas", "intruder", "Update")
    ]


def test_self_heal_leaves_a_changed_desired_state_to_the_next_reconcile(scene: Scene) -> None:
    inject(scene)
    moved_web = DEPLOYMENT.replace("replicas: 2", "replicas: 3") + "---\n" + CONFIG
    (scene.root / "fleet/stacks/apps/1.0.0/healed/web.yaml").write_text(moved_web)
    moved = loader.load(opening.open_tree(str(scene.root / "fleet")))
    drift.heal(scene.scan(), repo=moved, session=scene.session)
    web = scene.get("apps/v1", "Deployment", "web")
    assert (web["spec"]["replicas"], scene.get("v1", "ConfigMap", "settings")["data"]) == (
        5,
        {"mode": "fast"},
    )


def test_each_scan_records_bundle_health(scene: Scene) -> None:
    scene.sim.tick()
    scene.scan()
    before = {h.bundle.bundle: h.health.label for h in scene.store.health.of_cluster("c0")}
    scene.resource("v1", "ConfigMap").delete(name="settings", namespace="apps")
    scene.scan()
    after = {h.bundle.bundle: (h.health.label, h.reason) for h in scene.store.health.of_cluster("c0")}
    assert (before, after["healed"]) == (
        {"base": "Healthy", "healed": "Healthy", "watched": "Healthy"},
        ("Unknown", "object not found"),
    )


def test_the_cli_says_when_nothing_was_applied(scene: Scene) -> None:
    done = CliRunner().invoke(
        main.cli,
        [
            "drift",
            "--fleet",
            str(scene.root / "fleet"),
            "--kubeconfig",
            str(scene.sim.kubeconfig),
            "--state",
            str(scene.root / "empty.db"),
        ],
    )
    assert (done.exit_code, "nothing is recorded as applied" in done.output) == (0, True)


def test_a_persons_apply_puts_a_report_only_drifted_field_back(scene: Scene) -> None:
    scene.patch("ConfigMap", "report-only", {"data": {"mode": "slow"}}, manager="intruder")
    command = ["apply", "--fleet", str(scene.root / "fleet"), "--kubeconfig", str(scene.sim.kubeconfig),
               "--state", str(scene.root / "state.db"), "--yes"]
    done = CliRunner().invoke(main.cli, command, catch_exceptions=False)
    healed = scene.get("v1", "ConfigMap", "report-only")["data"]["mode"]
    assert (done.exit_code, healed, scene.scan().entries) == (0, "fast", ())
