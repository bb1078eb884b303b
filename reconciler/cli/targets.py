"""What a cluster command works on: the fleet repo, the clusters picked, and a session that can reach them.

``load`` opens ``--fleet``/``--path`` and validates the repo. ``pick`` turns ``--cluster`` and
``--context`` into fleet cluster names (a context picks the clusters whose connection names it, as
``kubectl --context`` picks a cluster), refusing unknown names with the closest ones as a hint.
``open_session`` refuses a kubeconfig that cannot be read before any cluster is asked, so the error is
one line instead of one per cluster and object.
"""

from __future__ import annotations

import click

from reconciler.cli.options import F, require_known
from reconciler.engine import reconcile, sessions
from reconciler.kube.connections import ClientSettings
from reconciler.source import opening
from reconciler.spec import loader


def context_option(func: F) -> F:
    """``--context CTX``: only the fleet clusters reached through kubeconfig context CTX."""
    return click.option("--context", "contexts", multiple=True, metavar="CTX",
                        help="Only the fleet clusters whose connection is kubeconfig context CTX (repeatable).")(func)


def load(fleet: str, *, path: str) -> tuple[opening.Opened, loader.FleetRepo]:
    opened = opening.open_fleet(fleet, path=path)
    return opened, loader.load(opened.tree)


def pick(repo: loader.FleetRepo, *, clusters: tuple[str, ...], contexts: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Fleet cluster names from ``--cluster`` and ``--context`` (empty: every cluster)."""
    require_known(clusters, repo.clusters, what="cluster", hint="--cluster")
    by_context = {name: located.model.spec.connection.context for name, located in sorted(repo.clusters.items())}
    require_known(contexts, {c for c in by_context.values() if c}, what="kubeconfig context", hint="--context")
    picked = [*clusters, *(name for name, context in by_context.items() if context in contexts)]
    return tuple(dict.fromkeys(picked))


def open_session(repo: loader.FleetRepo, *, kubeconfig: str | None, state: str,
                 settings: ClientSettings | None = None) -> reconcile.Session:
    """``sessions.open_session``, after the operator's kubeconfig was read (when a cluster needs it)."""
    session = sessions.open_session(repo, kubeconfig=kubeconfig, state=state, settings=settings)
    try:
        session.connections.read_kubeconfig()
    except BaseException:
        sessions.close(session)
        raise
    return session

