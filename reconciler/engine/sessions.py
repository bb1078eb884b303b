"""Build a reconcile ``Session`` for a loaded fleet repo: connections from its clusters, the state store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler import settings
from reconciler.engine.reconcile import Session
from reconciler.kube.connections import ClientSettings, Connections, InCluster
from reconciler.render import fleet, sops
from reconciler.spec.loader import FleetRepo
from reconciler.store import stores

DEFAULT_STATE = ".stackfleet/state.db"


def connections_for(repo: FleetRepo, *, kubeconfig: str | None,
                    settings: ClientSettings | None = None, in_cluster: InCluster | None = None,
                    fence: Callable[[str], None] | None = None) -> Connections:
    """A ``Connections`` for every cluster of ``repo`` (contexts from ``kubeconfig``, a path or a list)."""
    specs = {name: located.model.spec.connection for name, located in repo.clusters.items()}
    return Connections(specs, kubeconfig_path=kubeconfig, settings=settings or ClientSettings(), in_cluster=in_cluster,
                       fence=fence)


def open_session(repo: FleetRepo, *, kubeconfig: str | None, state: str | Path,
                 render_options: fleet.Options | None = None, settings: ClientSettings | None = None) -> Session:
    """A session over ``repo``'s clusters and the store at ``state`` (created with its directory)."""
    if "://" not in str(state):
        Path(state).parent.mkdir(parents=True, exist_ok=True)
    return Session(connections=connections_for(repo, kubeconfig=kubeconfig, settings=settings),
                   store=stores.open_store(state), render_options=render_options or default_render_options())


def default_render_options() -> fleet.Options:
    """Render options with the age keys of SOPS-encrypted manifests (``settings.sops_age_keys``)."""
    return fleet.Options(age_keys=sops.AgeKeys.parse(settings.sops_age_keys()))


def close(session: Session) -> None:
    session.connections.close()
    session.store.close()
