"""The daemon's hands for the operations of the web app (``web.services.Operator``): reconcile soon
after an approval, a resume or a retry, and heal drifted objects while no reconcile runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.core.desired import BundleId
from reconciler.daemon.jobs import Daemon
from reconciler.daemon.pipelines import EnginePipeline


@dataclass
class DaemonOperator:
    daemon: Daemon
    pipeline: EnginePipeline

    def reconcile_soon(self) -> None:
        self.daemon.reconcile_soon()

    def heal(self, objects: Sequence[tuple[str, BundleId, str]], *, by: str) -> int:
        return self.daemon.exclusively(lambda: self.pipeline.heal_now(objects, asked=f"asked by {by}"))
