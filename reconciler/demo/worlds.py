"""The demo's world: simulated clusters for a fleet repo and that repo as a Git remote on loopback.

``World.start(fleet_dir, workdir)`` serves one sim cluster per Cluster reached by context (child
clusters appear once the fleet has installed Cluster API on the management cluster and provisioned
them: the sim's provisioner acts on any cluster.x-k8s.io Cluster once its CRD is served),
writes a kubeconfig, copies the fleet repo into a Git repo and serves it with ``git daemon``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import reconciler
from reconciler.demo.repos import GitDaemon, Upstream
from reconciler.errors import ConfigError
from reconciler.sim import fleets
from reconciler.sim.controllers import Controllers
from reconciler.sim.server import SimServer
from reconciler.source.dirtree import DirTree
from reconciler.spec import loader


def find_fleet(cwd: Path) -> Path:
    """The reference fleet: ``./fleet`` (or ``.`` itself), else the one installed with the package.

    A wheel carries it as ``reconciler/reference-fleet/`` (``setup.py``); an editable install or a
    checkout has ``fleet/`` next to the package.
    """
    package = Path(reconciler.__file__).resolve().parent
    candidates = [cwd / "fleet", cwd, package / "reference-fleet", package.parent / "fleet"]
    for candidate in candidates:
        if (candidate / "fleet.yaml").is_file() and (candidate / "clusters").is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise ConfigError(f"cannot find the reference fleet repo (a fleet/ directory with fleet.yaml); tried {tried}")


@dataclass
class World:
    """Sim clusters, their kubeconfig, and the fleet repo served by ``git daemon``."""

    sim: SimServer
    controllers: Controllers
    kubeconfig: Path
    upstream: Upstream
    git: GitDaemon

    @classmethod
    def start(cls, fleet_dir: Path, workdir: Path, *, ready_after: float = 0.2,
              provision_after: float = 0.5) -> World:
        sim = SimServer(tls=True)
        fleets.start(sim, fleets.layout(loader.load(DirTree(str(fleet_dir))).clusters))
        controllers = Controllers(sim, ready_after=ready_after, provision_after=provision_after)
        sim.start()
        controllers.start()
        kubeconfig = sim.kubeconfig(workdir / "kubeconfig")
        upstream = Upstream.create(workdir / "git", seed=fleet_dir)
        return cls(sim, controllers, kubeconfig, upstream, GitDaemon(upstream.root).start())

    @property
    def repo_url(self) -> str:
        return self.git.url()

    def refresh_kubeconfig(self) -> Path:
        """Rewrite the kubeconfig with every cluster served now (children appear when provisioned)."""
        return self.sim.kubeconfig(self.kubeconfig)

    def stop(self) -> None:
        self.git.stop()
        self.controllers.stop()
        self.sim.stop()
