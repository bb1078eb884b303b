"""What a destination cluster offers to templates: its Kubernetes version and API versions.

Helm charts read these through ``.Capabilities``. The render pipeline takes them per destination
cluster (the engine passes what discovery found); without any, ``DEFAULT`` is used.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_KUBE_VERSION = "v1.31.0"


@dataclass(frozen=True)
class Capabilities:
    kube_version: str = DEFAULT_KUBE_VERSION
    """``v<major>.<minor>.<patch>``, as ``.Capabilities.KubeVersion.Version`` shows it."""
    api_versions: tuple[str, ...] = ()
    """Extra ``group/version`` and ``group/version/Kind`` entries for ``.Capabilities.APIVersions.Has``,
    on top of the built-in API versions Helm always reports."""


DEFAULT = Capabilities()
