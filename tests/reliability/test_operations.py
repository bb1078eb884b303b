"""Issue 17 item 6: the admin token cannot pause a cluster nobody knows; /readyz fails while the store
is read-only or a Git source has been stale past its poll interval."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.daemon import readiness
from reconciler.daemon.tracks import Track
from reconciler.sim.testing import FakeClock
from reconciler.source.git import Mirror
from reconciler.source.sources import Backoff, GitSource
from reconciler.store import stores
from reconciler.web import catalogs
from reconciler.web import testing as web_testing
from reconciler.web.access import Tokens
from reconciler.web.services import Services

AREA = "operations"
ADMIN = "reliability-admin-token-6c1f"


def services(rig, store: stores.Store, **extra) -> Services:
    return Services(store=store, tokens=Tokens.of(admin=[ADMIN]), clock=lambda: datetime.now(UTC),
                    catalog=lambda: catalogs.from_repo(rig.repo()), sources=("fleet",), **extra)


def test_the_admin_token_cannot_pause_a_cluster_that_does_not_exist(applied, figures, captured_logs):
    headers = {"Authorization": f"Bearer {ADMIN}"}
    events = applied.store.events.count()
    with web_testing.running(services(applied, applied.store)) as (_, client):
        ghost = client.post("/api/v1/clusters/no-such-cluster/pause", headers=headers)
        real = client.post("/api/v1/clusters/c1/pause", headers=headers)
    figures.bad_input(rejected=ghost.status_code == 404)
    assert (ghost.status_code, real.status_code) == (404, 200)
    assert [c.name for c in applied.store.clusters.all() if c.paused] == ["c1"]
    assert applied.store.events.count() == events + 1
    applied.check(area=AREA, logs_text=captured_logs.text())


def test_readyz_fails_while_the_store_is_read_only(applied, captured_logs):
    read_only = stores.open_store(f"sqlite:///file:{applied.state}?mode=ro&uri=true")
    try:
        with web_testing.running(services(applied, read_only)) as (_, client):
            answer = client.get("/readyz")
        with web_testing.running(services(applied, applied.store)) as (_, client):
            writable = client.get("/readyz")
    finally:
        read_only.close()
    assert (answer.status_code, writable.status_code) == (503, 200)
    assert "readonly" in answer.json()["checks"]["store"]
    applied.check(area=AREA, logs_text=captured_logs.text())


def test_readyz_fails_once_the_git_source_is_stale_past_its_interval(remote, tmp_path, captured_logs):
    clock = FakeClock()
    source = GitSource(Mirror(remote.url, cache_dir=tmp_path / "mirrors", timeout=5), ref="main",
                       backoff=Backoff(initial=5.0), clock=clock)
    track = Track("fleet", source, poll_seconds=30.0)
    source.poll()
    check = readiness.sources_fresh([track], max_stale_seconds=3600.0, clock=clock)
    remote.server.mode = "500"
    source.poll()
    within = check()
    clock.advance(31.0)
    past = check()
    remote.server.mode = "ok"
    with web_testing.running(services(remote.rig, remote.rig.store, readiness=check)) as (_, client):
        answer = client.get("/readyz")
    assert (within.ready, past.ready, answer.status_code) == (True, False, 503)
    assert "source stale since" in past.checks["source:fleet"]
    remote.rig.check(area=AREA, logs_text=captured_logs.text())
