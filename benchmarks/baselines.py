"""The two baselines of ``python -m benchmarks run``, and the drift it makes behind stackfleet's back.

- ``Kubectl``: ``kubectl apply --server-side`` of one file per cluster (what a shell loop over a
  fleet does), four kubectl processes at a time;
- ``PyClient``: the official Python client's typed API, one server-side apply per object, one
  cluster after another per thread (16 threads, as many clusters at once as stackfleet observes).

Both get exactly the rendered objects stackfleet applies (labels and annotations included).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from reconciler.core.objects import Obj

MANAGER = "baseline"
APPLY = "application/apply-patch+yaml"


class Kubectl:
    def __init__(self, kubeconfig: Path, workdir: Path, *, parallel: int = 4) -> None:
        self.kubeconfig, self.workdir, self.parallel = kubeconfig, workdir, parallel
        workdir.mkdir(parents=True, exist_ok=True)

    def apply(self, objects: Mapping[str, list[Obj]]) -> tuple[int, int]:
        """Apply every cluster's objects; returns (objects sent, kubectl runs)."""

        def one(cluster: str) -> None:
            path = self.workdir / f"{cluster}.yaml"
            path.write_text(yaml.safe_dump_all(objects[cluster], sort_keys=False))
            subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), "--context", cluster, "apply",
                            "--server-side", f"--field-manager={MANAGER}", "-f", str(path)],
                           check=True, capture_output=True, timeout=600)

        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            list(pool.map(one, sorted(objects)))
        return sum(len(v) for v in objects.values()), len(objects)


_PATHS = {"Namespace": ("", "namespaces"), "ConfigMap": ("", "configmaps"), "Service": ("", "services"),
          "Deployment": ("apps", "deployments")}


class PyClient:
    def __init__(self, kubeconfig: Path, *, threads: int = 16) -> None:
        self.kubeconfig, self.threads = kubeconfig, threads
        self._apis: dict[str, k8s.ApiClient] = {}

    def api(self, cluster: str) -> k8s.ApiClient:
        if cluster not in self._apis:
            self._apis[cluster] = k8s_config.new_client_from_config(  # type: ignore[no-untyped-call]
                str(self.kubeconfig), context=cluster)
        return self._apis[cluster]

    def apply(self, objects: Mapping[str, list[Obj]]) -> tuple[int, int]:
        """One server-side apply per object through the typed API; returns (objects, writes)."""

        def one(cluster: str) -> int:
            api = self.api(cluster)
            for obj in objects[cluster]:
                self._send(api, obj)
            return len(objects[cluster])

        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            sent = sum(pool.map(one, sorted(objects)))
        return sent, sent

    @staticmethod
    def _send(api: k8s.ApiClient, obj: Obj) -> Any:
        meta = obj["metadata"]
        options: dict[str, Any] = {"field_manager": MANAGER, "force": True, "_content_type": APPLY}
        kind = obj["kind"]
        if kind == "Namespace":
            return k8s.CoreV1Api(api).patch_namespace(meta["name"], obj, **options)
        if kind == "ConfigMap":
            return k8s.CoreV1Api(api).patch_namespaced_config_map(meta["name"], meta["namespace"], obj, **options)
        if kind == "Service":
            return k8s.CoreV1Api(api).patch_namespaced_service(meta["name"], meta["namespace"], obj, **options)
        if kind == "Deployment":
            return k8s.AppsV1Api(api).patch_namespaced_deployment(meta["name"], meta["namespace"], obj, **options)
        raise ValueError(f"the baseline knows no kind {kind}")


def make_drift(kubeconfig: Path, clusters: Sequence[str], *, objects: int) -> tuple[int, int]:
    """Edit 1 % of the managed ConfigMaps' data and delete 0.1 % of the managed objects (at least one
    each), spread over the clusters, with another client; returns (edited, deleted)."""
    total = len(clusters) * objects
    edits, deletes = max(1, total // 100), max(1, total // 1000)
    names = [f"cm-{i}" for i in range(3, objects - 1, 3)] or ["cm-0"]
    edited = deleted = 0
    for n in range(edits + deletes):
        cluster = clusters[n % len(clusters)]
        api = k8s_config.new_client_from_config(str(kubeconfig), context=cluster)  # type: ignore[no-untyped-call]
        core = k8s.CoreV1Api(api)
        name = names[(n // len(clusters)) % len(names)]
        if n < edits:
            core.patch_namespaced_config_map(name, "bench", {"data": {"n": "edited by hand"}})
            edited += 1
        else:
            core.delete_namespaced_config_map(name, "bench")
            deleted += 1
    return edited, deleted
