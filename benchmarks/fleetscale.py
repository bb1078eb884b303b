"""Shared setup of bench_plan.py and bench_apply.py: a generated fleet of N sim clusters x M objects.

Each cluster gets one stack with one bundle: a Namespace, then ConfigMaps, Services and Deployments
(M objects in all, four kinds), so "one LIST per kind per cluster" is four LISTs per cluster.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.engine import fleetrun, gates, reconcile, sessions
from reconciler.kube.connections import ClientSettings
from reconciler.render import fleet as fleet_render
from reconciler.sim import testing
from reconciler.source import opening
from reconciler.spec import loader
from reconciler.store import stores

KINDS = 4


def _objects(count: int) -> str:
    """``count`` objects: a Namespace, then ConfigMaps, Services and Deployments in turn; ConfigMap
    cm-0 carries ``${values.push}`` (what ``python -m benchmarks run`` pushes)."""
    docs = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: bench}\n"]
    for i in range(count - 1):
        kind = i % 3
        if i == 0:
            docs.append("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-0}\ndata: {n: '0', push: '${values.push}'}\n")
        elif kind == 0:
            docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}}}\ndata: {{n: '{i}'}}\n")
        elif kind == 1:
            docs.append(f"apiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}}}\n"
                        f"spec: {{selector: {{app: a{i}}}, ports: [{{port: 80}}]}}\n")
        else:
            docs.append(
                f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: dep-{i}}}\n"
                f"spec:\n  replicas: 1\n  selector: {{matchLabels: {{app: a{i}}}}}\n"
                f"  template:\n    metadata: {{labels: {{app: a{i}}}}}\n"
                f"    spec: {{containers: [{{name: c, image: 'nginx:1.27'}}]}}\n")
    return "---\n".join(docs)


def cluster_yaml(name: str, *, push: str | None = None) -> str:
    """The Cluster file of ``name`` (context ``name``), with ``values.push`` when given."""
    values = f"values: {{push: '{push}'}}, " if push is not None else ""
    return (f"apiVersion: stackfleet.dev/v1alpha1\nkind: Cluster\nmetadata: {{name: {name}}}\n"
            f"spec: {{{values}connection: {{context: {name}}}}}\n")


def write_fleet(root: Path, *, clusters: int = 0, objects: int, names: list[str] | None = None) -> Path:
    """The fleet repo: clusters ``names`` (or ``c0``.. ``c<clusters-1>``), each running ``objects`` objects."""
    names = names if names is not None else [f"c{i}" for i in range(clusters)]
    files = {
        "fleet.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Fleet\nmetadata: {name: bench}\nspec:\n"
                      "  layers: [addons]\n  assignments:\n    - name: all\n      selector: {}\n"
                      "      stacks: [{name: app, version: 1.0.0}]\n"
                      f"      rollout: {{maxInFlight: 32, failureBudget: {len(names)}}}\n",
        "stacks/app/1.0.0/stack.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Stack\nmetadata: {name: app}\n"
                                       "spec:\n  version: 1.0.0\n  values: {push: '1'}\n  bundles:\n"
                                       "    - {name: web, layer: addons, namespace: bench, manifests: {path: web}}\n",
        "stacks/app/1.0.0/web/objects.yaml": _objects(objects),
    }
    for name in names:
        files[f"clusters/{name}.yaml"] = cluster_yaml(name)
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return root


class Bench:
    def __init__(self, running: testing.RunningSim, repo: loader.FleetRepo, state: Path) -> None:
        self.running, self.repo = running, repo
        self.store = stores.open_store(state)
        self.render_options = fleet_render.Options(workers=4)

    def session(self, *, workers: int = 32) -> reconcile.Session:
        connections = sessions.connections_for(self.repo, kubeconfig=str(self.running.kubeconfig),
                                               settings=ClientSettings(qps=1000, burst=1000))
        return reconcile.Session(connections=connections, store=self.store, render_options=self.render_options,
                                 workers=workers, timing=gates.Timing(poll=0.02))

    def apply(self, session: reconcile.Session) -> tuple[float, reconcile.ApplyReport, reconcile.Planned]:
        start = time.perf_counter()
        planned = reconcile.plan_fleet(self.repo, session=session)
        options = reconcile.ApplyOptions(rollout=fleetrun.Options(sleep=lambda _: None))
        report = reconcile.apply_plan(planned, session=session, options=options)
        return time.perf_counter() - start, report, planned

    def requests(self) -> Counter[tuple[str, str]]:
        total: Counter[tuple[str, str]] = Counter()
        for cluster in self.running.server.clusters.values():
            total.update(cluster.faults.requests)
        return total


def arguments(doc: str | None, *, clusters: int = 200, objects: int = 50) -> argparse.Namespace:
    """``--clusters N --objects M`` (200 x 50 unless the benchmark has other defaults)."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--clusters", type=int, default=clusters)
    parser.add_argument("--objects", type=int, default=objects)
    return parser.parse_args()


@contextmanager
def started(workdir: Path, args: argparse.Namespace) -> Iterator[Bench]:
    clusters, objects = args.clusters, args.objects
    repo = loader.load(opening.open_tree(str(write_fleet(workdir / "fleet", clusters=clusters, objects=objects))))
    names = [f"c{i}" for i in range(clusters)]
    with testing.running(clusters=names, workdir=workdir, interval=0.05) as running:
        yield Bench(running, repo, workdir / "state.db")


def writes(requests: Counter[tuple[str, str]]) -> int:
    return sum(n for (verb, _), n in requests.items() if verb in ("create", "update", "patch", "delete"))
