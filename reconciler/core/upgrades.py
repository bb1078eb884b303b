"""Kubernetes version changes of Cluster API objects in a plan. Pure.

A plan update of a ``Cluster`` (``spec.topology.version``), a control plane (``spec.version``) or a
MachineDeployment (``spec.template.spec.version``) that moves the Kubernetes version is recorded on its
change as a ``VersionChange``: shown as "Kubernetes v1.30.6 → v1.31.2 on prod-eu-1". Kubernetes
supports upgrading the control plane one minor version at a time and never downgrading it (the
version skew policy; kubeadm and Cluster API's KubeadmControlPlane refuse both), so a downgrade or a
skip of more than one minor version needs approval.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.core import conditions
from reconciler.core.clusterapi import CONTROL_PLANE_GROUP, GROUP
from reconciler.core.objects import Obj, ObjectKey

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


class Direction(StrEnum):
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    SKIP = "skip"
    """An upgrade of more than one minor version."""


@dataclass(frozen=True)
class VersionChange:
    cluster: str
    """The fleet cluster whose Kubernetes version moves (the child, not the management cluster)."""
    old: str
    new: str

    @property
    def direction(self) -> Direction:
        old, new = parse(self.old), parse(self.new)
        if new < old:
            return Direction.DOWNGRADE
        if new[0] != old[0] or new[1] - old[1] > 1:
            return Direction.SKIP
        return Direction.UPGRADE

    def __str__(self) -> str:
        return f"Kubernetes {self.old} → {self.new} on {self.cluster}"

    @property
    def approval(self) -> str:
        """Why this change needs approval ("" for a patch or one-minor upgrade)."""
        if self.direction is Direction.DOWNGRADE:
            return f"{self} is a downgrade (Kubernetes does not support downgrading a control plane)"
        if self.direction is Direction.SKIP:
            return f"{self} skips minor versions (a control plane upgrades one minor version at a time)"
        return ""

    def to_dict(self) -> dict[str, str]:
        return {"cluster": self.cluster, "old": self.old, "new": self.new}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VersionChange:
        return cls(str(data["cluster"]), str(data["old"]), str(data["new"]))


def parse(version: str) -> tuple[int, int, int]:
    """``v1.31.2`` (with or without ``v``, build metadata such as ``+k0s.0`` ignored) as numbers."""
    found = _VERSION.match(version.strip())
    return (int(found[1]), int(found[2]), int(found[3])) if found else (0, 0, 0)


def version_of(obj: Obj | None) -> str:
    """The Kubernetes version a Cluster API object asks for ("" when it names none or is another kind)."""
    if obj is None:
        return ""
    key = ObjectKey.of(obj)
    spec = conditions.spec_of(obj)
    found: Any = None
    if key.group_kind == f"Cluster.{GROUP}":
        found = conditions.mapping(spec.get("topology")).get("version")
    elif key.group == CONTROL_PLANE_GROUP:
        found = spec.get("version")
    elif key.group_kind == f"MachineDeployment.{GROUP}":
        found = conditions.mapping(conditions.mapping(spec.get("template")).get("spec")).get("version")
    return found if isinstance(found, str) and _VERSION.match(found.strip()) else ""


def change_of(live: Obj | None, desired: Obj, *, cluster: str) -> VersionChange | None:
    """The version change from ``live`` to ``desired`` for fleet cluster ``cluster``, if any."""
    old, new = version_of(live), version_of(desired)
    if not old or not new or parse(old) == parse(new):
        return None
    return VersionChange(cluster, old, new)
