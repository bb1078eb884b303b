"""Everything ``stackfleet serve`` runs, built from the daemon settings, and stopped in order.

``start(config, path)`` opens the state store, makes a ``Track`` per source, wires the engine's
pipeline, starts the web app (dashboard, API, probes, metrics, webhook routes) with uvicorn on the
configured address, and starts the scheduler. ``Runtime.stop`` stops the scheduler first (the step in
flight finishes and is recorded), then the web server, the cluster clients and the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconciler import logs, settings
from reconciler.daemon import readiness, replicas, sourcing
from reconciler.daemon.jobs import Chore, Daemon, Schedule
from reconciler.daemon.journals import StoreJournal
from reconciler.daemon.operators import DaemonOperator
from reconciler.daemon.pipelines import EnginePipeline
from reconciler.daemon.reviews import Planner, Reviews, forges_of
from reconciler.daemon.tracks import Track
from reconciler.kube.connections import ClientSettings, Connections, InCluster
from reconciler.kube.leases import Leases
from reconciler.render import fleet, sops
from reconciler.source.webhooks import WebhookReceiver
from reconciler.spec.models import Connection
from reconciler.store import retention, stores
from reconciler.web import access, apps, oidc, servers
from reconciler.web.access import Tokens
from reconciler.web.services import Services


@dataclass
class Runtime:
    daemon: Daemon
    store: stores.Store
    web: servers.Running
    pipeline: EnginePipeline

    @property
    def url(self) -> str:
        return self.web.url

    def stop(self) -> None:
        self.daemon.stop()
        if self.pipeline.replica is not None:
            self.pipeline.replica.stop()
        self.web.stop()
        self.pipeline.close()
        self.store.close()


def start(config: settings.Settings, *, base: Path, schedule: Schedule | None = None) -> Runtime:
    """Build and start the daemon of ``config`` (``base``: the config file's directory)."""
    tokens = tokens_of(config.web)  # configuration errors first, before anything is opened
    store = stores.open_store(database_of(config.state, base=base))
    try:
        return _start(config, base=base, schedule=schedule, store=store, tokens=tokens)
    except Exception:
        store.close()
        raise


def _start(config: settings.Settings, *, base: Path, schedule: Schedule | None, store: stores.Store,
           tokens: Tokens) -> Runtime:
    tracks = [sourcing.track_of(s, cache_dir=cache_dir_of(config.state, base=base)) for s in config.sources]
    last = store.runs.last_succeeded()
    for track in tracks:  # force-pushes are judged against what was applied before the restart
        sourcing.resume(track, applied=last.revision if last else None)
    access = settings.kube_access(config.kube)
    identity = settings.replica_identity(config.replicas) if config.replicas.enabled else None
    client_settings = ClientSettings(qps=config.concurrency.qps, burst=config.concurrency.burst,
                                     allowed_plugins=frozenset(config.kube.exec_allow),
                                     user_agent=f"stackfleet/{identity}" if identity else None)
    pipeline = EnginePipeline(
        store=store,
        kubeconfig=access.kubeconfig,
        in_cluster=in_cluster_of(access),
        client_settings=client_settings,
        workers=config.concurrency.max_clusters,
        render_options=fleet.Options(age_keys=sops.AgeKeys.parse(settings.sops_age_keys())),
        replica=replica_of(config, access, identity=identity, client_settings=client_settings),
    )
    policy = retention.Policy(max_age=timedelta(seconds=config.state.retention), keep_runs=config.state.keep_runs)
    pipeline.reviews = reviews = reviews_of(config, store=store, pipeline=pipeline, tracks=tracks)
    chores = [Chore("housekeeping", 3600.0, lambda: store.retention.prune(policy))]
    if pipeline.replica is not None:
        replica = pipeline.replica
        chores.append(Chore("membership", replica.duration / 3, replica.beat, first=True, stage="apply"))
    daemon = Daemon(tracks, pipeline=pipeline, journal=StoreJournal(store), drift=pipeline, reviews=reviews,
                    chores=chores,
                    schedule=schedule or Schedule(reconcile=config.intervals.reconcile, drift=config.intervals.drift))
    if pipeline.replica is not None:
        pipeline.replica.on_gain = daemon.nudge
    host, port = listen_of(config.web.listen)
    app = apps.create_app(services_of(config, store=store, daemon=daemon, pipeline=pipeline, tokens=tokens))
    web = servers.start(app, host=host, port=port)
    return Runtime(daemon.start(), store, web, pipeline)


def reviews_of(config: settings.Settings, *, store: stores.Store, pipeline: EnginePipeline,
               tracks: Sequence[Track]) -> Reviews | None:
    """Pull-request planning for the sources that ask for it (``pull_requests``), else None."""
    configs = {s.name: s.pull_requests for s in config.sources if s.pull_requests is not None}
    if not configs:
        return None
    planner = Planner(session_for=pipeline.session_for, approved=lambda: pipeline.approved)
    return Reviews(store, planner, configs, forges=forges_of(config.sources),
                   tracks={t.name: t for t in tracks if t.name in configs})


def services_of(config: settings.Settings, *, store: stores.Store, daemon: Daemon, pipeline: EnginePipeline,
                tokens: Tokens) -> Services:
    tracks = list(daemon.tracks.values())
    return Services(
        store=store,
        tokens=tokens,
        clock=lambda: datetime.now(UTC),
        catalog=lambda: pipeline.catalog,
        readiness=readiness.sources_fresh(tracks, max_stale_seconds=daemon.schedule.poll),
        webhooks=receiver_of(config.web.webhooks, tracks=tracks, trigger=daemon.trigger),
        sources=tuple(daemon.tracks),
        logins=logins_of(config.web.oidc),
        operator=DaemonOperator(daemon, pipeline),
    )


def logins_of(given: settings.Oidc | None) -> oidc.Logins | None:
    """The dashboard's OIDC logins, when ``web.oidc`` is configured."""
    if given is None:
        return None
    secret = settings.reveal(given.client_secret) if given.client_secret else None
    if secret:
        logs.register_secret(secret)
    grants = {name: oidc.Grant(frozenset(map(access.Scope, g.scopes)), tuple(g.clusters), tuple(g.stacks))
              for name, g in given.groups.items()}
    return oidc.Logins(oidc.Config(issuer=given.issuer, client_id=given.client_id, redirect_url=given.redirect_url,
                                   client_secret=secret, groups_claim=given.groups_claim, grants=grants))


def replica_of(config: settings.Settings, access: settings.KubeAccess, *, identity: str | None,
               client_settings: ClientSettings) -> replicas.Replica | None:
    """This daemon as one replica of several (``replicas.enabled``), its Leases on the cluster of
    ``replicas.context`` (the pod's own cluster by default)."""
    wanted = config.replicas
    if identity is None:
        return None
    context = wanted.context or access.in_cluster_context
    lease_cluster = Connections({context: Connection(context=context)}, kubeconfig_path=access.kubeconfig,
                                settings=client_settings, in_cluster=in_cluster_of(access)).client(context)
    leases = Leases(lease_cluster, namespace=wanted.namespace, group=wanted.group)
    return replicas.Replica(identity, leases, duration=wanted.lease_duration)


def in_cluster_of(access: settings.KubeAccess) -> InCluster | None:
    if access.in_cluster_server is None:
        return None
    return InCluster(server=access.in_cluster_server, ca_file=access.ca_file, token_file=access.token_file,
                     context=access.in_cluster_context)


def tokens_of(web: settings.Web) -> Tokens:
    read = [settings.reveal(web.read_token)] if web.read_token else []
    admin = [settings.reveal(web.admin_token)] if web.admin_token else []
    for token in (*read, *admin):
        logs.register_secret(token)
    named = [access.NamedToken(t.name, f"sha256:{t.sha256}", access.Principal(
        t.name, frozenset({access.Scope.READ, *map(access.Scope, t.scopes)}), tuple(t.clusters), tuple(t.stacks)))
        for t in web.tokens]
    return Tokens.of(read=read, admin=admin, named=named)


def receiver_of(hooks: settings.Webhooks, *, tracks: Sequence[Track],
                trigger: Callable[[str], bool]) -> WebhookReceiver | None:
    """One receiver for the first configured secret (GitHub, then GitLab, then generic), if any."""
    ref = hooks.github or hooks.gitlab or hooks.generic
    if ref is None:
        return None
    secret = settings.reveal(ref)
    logs.register_secret(secret)
    return WebhookReceiver(secret=secret, tracked=[t.url for t in tracks], trigger=trigger)


def listen_of(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def database_of(state: settings.State, *, base: Path) -> str:
    """A database URL as is; a relative SQLite path is relative to the config file."""
    if "://" in state.database or Path(state.database).is_absolute():
        return state.database
    return str(base / state.database)


def cache_dir_of(state: settings.State, *, base: Path) -> Path:
    """Git mirrors live next to a SQLite database (``<dir>/git``), else in the state directory."""
    database = database_of(state, base=base)
    folder = base if "://" in database else Path(database).parent
    return folder / "git"

