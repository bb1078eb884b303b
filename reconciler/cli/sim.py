"""``stackfleet sim``: serve simulated Kubernetes clusters and write a kubeconfig for them.

``stackfleet sim --clusters 50 --kubeconfig K`` serves 50 empty clusters; ``stackfleet sim --fleet
fleet/ --kubeconfig K`` serves the clusters a fleet repo's connections expect (contexts, and Cluster
API on the clusters that hold kubeconfig Secrets). Both serve until interrupted (Ctrl-C or SIGTERM) or for ``--lifetime`` seconds.
TLS is on by default because kubectl sends bearer tokens only over TLS (``--no-tls`` for plain HTTP).
Clusters that Cluster API provisions later get their context in the kubeconfig as they appear, so
``kubectl --context <child>`` works as soon as the child exists.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import click

from reconciler.sim import fleets
from reconciler.sim.controllers import Controllers
from reconciler.sim.server import SimServer


def _load_layout(fleet: str) -> fleets.Layout:
    from reconciler.source import opening
    from reconciler.spec import loader

    return fleets.layout(loader.load(opening.open_tree(fleet)).clusters)


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (installed before the server announces itself)."""
    stop = threading.Event()

    def handler(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


@click.command("sim")
@click.option("--clusters", "count", type=click.IntRange(min=1), default=None, help="Serve this many clusters.")
@click.option("--fleet", default=None, metavar="PATH|GIT_URL[@REF]", help="Serve the clusters of this fleet repo.")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the kubeconfig (one context per cluster).")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--tls/--no-tls", default=True, show_default=True,
              help="Serve HTTPS with a generated CA (kubectl sends tokens only over TLS).")
@click.option("--prefix", default="cluster-", show_default=True, help="Name prefix with --clusters.")
@click.option("--ready-after", type=float, default=2.0, show_default=True,
              help="Seconds before workloads report ready.")
@click.option("--provision-after", type=float, default=5.0, show_default=True,
              help="Seconds before a Cluster API Cluster is provisioned.")
@click.option("--upgrade-after", type=float, default=5.0, show_default=True,
              help="Seconds each phase of a Cluster API version rollout takes (control plane, then workers).")
@click.option("--provision", is_flag=True,
              help="With --fleet: start clusters reached by kubeconfig Secrets (and write the Secrets) at once, "
                   "instead of when the fleet applies their Cluster API Cluster.")
@click.option("--no-defaulting", is_flag=True, help="Store objects without API-server defaults.")
@click.option("--load-balancers/--no-load-balancers", default=True, show_default=True,
              help="Give LoadBalancer Services an address from a simulated provider (off: they stay pending).")
@click.option("--lifetime", type=float, default=None, metavar="SECONDS",
              help="Stop by itself after this long (default: serve until interrupted).")
@click.option("--audit-log", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write one JSON line per request (verb, resource, user agent, times), as kube-apiserver's "
                   "--audit-log-path does.")
def command(count: int | None, fleet: str | None, kubeconfig: Path, port: int, tls: bool, prefix: str,
            ready_after: float, provision_after: float, upgrade_after: float, provision: bool, no_defaulting: bool,
            load_balancers: bool, lifetime: float | None, audit_log: Path | None) -> None:
    """Serve simulated Kubernetes clusters until interrupted."""
    if (count is None) == (fleet is None):
        raise click.UsageError("give exactly one of --clusters N or --fleet PATH")
    stop = _stop_on_signals()
    server = SimServer(port=port, tls=tls, defaulting=not no_defaulting, audit_log=audit_log)
    if fleet is not None:
        fleets.start(server, _load_layout(fleet), provision=provision)
    else:
        width = len(str(count))
        for index in range(1, (count or 0) + 1):
            server.add_cluster(f"{prefix}{index:0{width}d}")
    controllers = Controllers(server, ready_after=ready_after, provision_after=provision_after,
                              upgrade_after=upgrade_after, load_balancers=load_balancers)
    with server, controllers:
        server.kubeconfig(kubeconfig)
        click.echo(f"serving {len(server.clusters)} cluster(s) at {server.base_url}/clusters/<name>; "
                   f"kubeconfig: {kubeconfig}", err=True)
        _serve_until(stop, lifetime=lifetime, server=server, kubeconfig=kubeconfig)
    click.echo("sim stopped", err=True)


def _serve_until(stop: threading.Event, *, lifetime: float | None, server: SimServer, kubeconfig: Path) -> None:
    """Wait for a signal or the lifetime, adding contexts for clusters provisioned meanwhile."""
    deadline = None if lifetime is None else time.monotonic() + lifetime
    known = set(server.clusters)
    while not stop.wait(0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))):
        if deadline is not None and time.monotonic() >= deadline:
            return
        if set(server.clusters) != known:
            known = set(server.clusters)
            server.kubeconfig(kubeconfig)
            click.echo(f"kubeconfig now has {len(known)} context(s): {', '.join(sorted(known))}", err=True)
