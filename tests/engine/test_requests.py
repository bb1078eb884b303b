"""Request and write counts of the hot paths (issue 20): a cold rollout sends about one request per
changed object, an unchanged cycle writes nothing to the clusters and nothing per object to the store.

A fleet of clusters running one bundle: a Namespace, ConfigMaps and Services (healthy once written, so
no health-gate reads), the same on every cluster; one session (its clients keep discovery) for every
cycle, as the daemon keeps it. Counts are the sim's own request counters and SQLite's own COMMITs.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from reconciler.daemon.pipelines import EnginePipeline
from reconciler.daemon.ports import Outcome
from reconciler.engine import reconcile
from reconciler.sim import testing
from reconciler.source import opening
from tests.engine.conftest import World

CLUSTERS = 4
OBJECTS = 40
KINDS = 3  # Namespace, ConfigMap, Service


def _objects() -> str:
    docs = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: bench}\n"]
    for i in range(OBJECTS - 1):
        if i == 1:
            docs.append("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-1}\ndata: {n: '${values.n}'}\n")
        elif i % 2:
            docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}}}\ndata: {{n: '{i}'}}\n")
        else:
            docs.append(f"apiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}}}\n"
                        f"spec: {{selector: {{app: a{i}}}, ports: [{{port: 80}}]}}\n")
    return "---\n".join(docs)


def _cluster(name: str, *, n: str | None = None) -> str:
    values = f"values: {{n: '{n}'}}, " if n else ""
    return (f"apiVersion: stackfleet.dev/v1alpha1\nkind: Cluster\nmetadata: {{name: {name}}}\n"
            f"spec: {{{values}connection: {{context: {name}}}}}\n")


def _fleet(root: Path) -> Path:
    files = {
        "fleet.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Fleet\nmetadata: {name: counted}\nspec:\n"
                      "  layers: [addons]\n  assignments:\n    - {name: all, selector: {}, "
                      "stacks: [{name: app, version: 1.0.0}], rollout: {maxInFlight: 4, failureBudget: 0}}\n",
        "stacks/app/1.0.0/stack.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Stack\nmetadata: {name: app}\n"
                                       "spec:\n  version: 1.0.0\n  values: {n: '1'}\n  bundles:\n"
                                       "    - {name: web, layer: addons, namespace: bench, manifests: {path: web}}\n",
        "stacks/app/1.0.0/web/objects.yaml": _objects(),
        **{f"clusters/c{i}.yaml": _cluster(f"c{i}") for i in range(CLUSTERS)},
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


class Fleet(World):
    """``World`` with one session for every plan and apply."""

    def __init__(self, running: testing.RunningSim, fleet: Path, state: Path) -> None:
        super().__init__(running, fleet, state)
        self.kept = super().session()

    def session(self, repo: object = None) -> reconcile.Session:
        return self.kept

    def cycle(self) -> reconcile.ApplyReport:
        planned = self.plan()
        return self.apply(planned)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    names = [f"c{i}" for i in range(CLUSTERS)]
    with testing.running(clusters=names, workdir=tmp_path, interval=0.01) as running:
        built = Fleet(running, _fleet(tmp_path / "fleet"), tmp_path / "state.db")
        yield built
        built.store.close()


def _requests(world: World) -> Counter[str]:
    """Requests by verb over every cluster since the last call (discovery GETs counted as ``discovery``)."""
    total: Counter[str] = Counter()
    for counts in _requests_by_cluster(world).values():
        total.update(counts)
    return total


def _requests_by_cluster(world: World) -> dict[str, Counter[str]]:
    found: dict[str, Counter[str]] = {}
    for name, cluster in world.running.server.clusters.items():
        counts = found.setdefault(name, Counter())
        for (verb, resource), n in cluster.faults.requests.items():
            counts["discovery" if verb == "get" and resource in ("api", "apis") else verb] += n
        cluster.faults.requests.clear()
    return found


def _transactions(world: World) -> list[int]:
    """A list that grows by one per store transaction that wrote (SQLite's own COMMITs)."""
    seen: list[int] = []
    event.listen(world.store.context.engine, "commit", lambda _conn: seen.append(1))
    return seen


def test_a_cold_rollout_sends_one_write_per_object_and_a_dry_run_per_distinct_object_only(fleet):
    planned = fleet.plan()
    observed = _requests(fleet)
    changed = sum(1 for c in planned.plan.steps)
    assert changed == CLUSTERS * OBJECTS
    # observe: discovery, one label-selected LIST per kind, one GET of the Namespace (absent, so nothing in
    # it is looked up): the same whatever the number of objects
    assert observed == {"discovery": 2 * CLUSTERS, "list": KINDS * CLUSTERS, "get": CLUSTERS}
    report = fleet.apply(planned)
    assert not report.failed
    # every object once, plus one dry-run per distinct object (the clusters run the same objects); nothing else
    assert _requests(fleet) == {"patch": changed + OBJECTS}


def test_an_unchanged_cycle_writes_nothing_to_the_clusters_and_nothing_per_object_to_the_store(fleet):
    fleet.cycle()
    _requests(fleet)
    commits = _transactions(fleet)
    report = fleet.cycle()
    assert report.writes == 0
    assert _requests(fleet) == {"list": KINDS * CLUSTERS}
    # one each: the clusters' statuses, the run's start, the rollout's memory, its notice, the run's end;
    # none per cluster, bundle or object (no inventory, step or applied set)
    assert len(commits) == 5


def test_a_changed_object_rewrites_only_its_own_inventory_entry(fleet):
    fleet.cycle()
    before = {b.dest: b for b in fleet.store.inventories.load_all()}
    fleet.edit("stacks/app/1.0.0/web/objects.yaml", "data: {n: '3'}", "data: {n: 'three'}")
    commits = _transactions(fleet)
    report = fleet.cycle()
    assert report.writes == CLUSTERS
    after = {b.dest: b for b in fleet.store.inventories.load_all()}
    for dest, held in after.items():
        moved = {e.key.name for e in held.entries} ^ {e.key.name for e in before[dest].entries}
        assert not moved
        changed = {e.key.name for e in held.entries if e != before[dest].entry(e.key)}
        assert changed == {"cm-3"}
    assert len(commits) <= 5 + 3 * CLUSTERS  # per unit: its inventory change, its steps, its applied set


def test_a_push_plans_and_applies_only_the_clusters_it_touched_and_the_interval_plans_all(fleet):
    pipeline = EnginePipeline(fleet.store, kubeconfig=str(fleet.running.kubeconfig), client_settings=fleet.settings)
    stop = threading.Event()

    def reconcile(revision: str) -> Outcome:
        return pipeline.reconcile(opening.open_tree(str(fleet.fleet)), revision=revision, source="test", stop=stop)

    assert reconcile("r1").ok
    _requests(fleet)
    (fleet.fleet / "clusters/c0.yaml").write_text(_cluster("c0", n="2"))
    pushed = reconcile("r2")
    assert pushed.ok and pushed.writes == 1
    asked = _requests_by_cluster(fleet)
    assert {name: sum(counts.values()) for name, counts in asked.items() if name != "c0"} == {
        f"c{i}": 0 for i in range(1, CLUSTERS)}
    assert asked["c0"] == {"list": KINDS, "patch": 2}  # observe; the update's dry-run and its write
    again = reconcile("r2")  # the interval: the same revision, every cluster planned, nothing to write
    assert again.ok and again.writes == 0
    assert _requests(fleet) == {"list": KINDS * CLUSTERS}
