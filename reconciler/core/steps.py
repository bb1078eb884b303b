"""A finished apply step, as the engine hands it to the state store (``Runs.record_steps``)."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.core.statuses import Outcome


@dataclass(frozen=True)
class StepWrite:
    """A finished step to record (``Runs.record_steps`` writes a batch of them in one transaction)."""

    cluster: str
    bundle: BundleId
    key: ObjectKey | str
    action: str
    outcome: Outcome
    error: str = ""
