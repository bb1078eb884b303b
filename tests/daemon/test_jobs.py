"""The daemon's scheduling against a real ``git daemon`` and the real SQLite store.

The pipeline here is a stand-in at the daemon's port (``ports.Pipeline``): it loads the fleet repo
with the real loader (so an invalid commit is refused exactly as the engine would refuse it) and
records which revisions it ran.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.core.statuses import RevisionStatus
from reconciler.daemon.jobs import Daemon, Schedule
from reconciler.daemon.journals import StoreJournal
from reconciler.daemon.ports import Outcome
from reconciler.daemon.tracks import Track
from reconciler.demo import waits
from reconciler.demo.repos import GitDaemon
from reconciler.source.git import Mirror
from reconciler.source.sources import Backoff, GitSource
from reconciler.source.webhooks import WebhookReceiver
from reconciler.spec import loader
from reconciler.spec.trees import FileTree
from reconciler.store.stores import Store

BROKEN_FLEET = "apiVersion: stackfleet.dev/v1alpha1\nkind: Fleet\nmetadata: {name: [unclosed\n"


class LoadingPipeline:
    """Loads each revision with the real loader; optionally blocks until released (a step in flight)."""

    def __init__(self) -> None:
        self.failures_left = 0
        self.crashes_left = 0
        self.ran: list[str] = []
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()

    def reconcile(self, tree: FileTree, *, revision: str, source: str, stop: threading.Event,
                  forced_from: str | None = None) -> Outcome:
        loader.load(tree)
        self.entered.set()
        self.release.wait(30)
        self.ran.append(revision)
        if self.crashes_left:
            self.crashes_left -= 1
            raise KeyError("a bug in the pipeline")
        if self.failures_left:
            self.failures_left -= 1
            return Outcome(revision=revision, summary="1 failed; dev: HTTP 503", ok=False)
        return Outcome(revision=revision, summary="loaded")


@pytest.fixture
def pipeline() -> LoadingPipeline:
    return LoadingPipeline()


@pytest.fixture
def make_daemon(
    tmp_path: Path, git_server: GitDaemon, store: Store, pipeline: LoadingPipeline
) -> Iterator[Callable[[Schedule], Daemon]]:
    started: list[Daemon] = []

    def make(schedule: Schedule) -> Daemon:
        mirror = Mirror(git_server.url(), cache_dir=tmp_path / "cache", timeout=5)
        source = GitSource(mirror, ref="main", backoff=Backoff(initial=0.1, maximum=0.2))
        daemon = Daemon([Track("fleet", source)], pipeline=pipeline, journal=StoreJournal(store), schedule=schedule)
        started.append(daemon.start())
        return daemon

    yield make
    for daemon in started:
        daemon.stop()


def sha_of(revision: str) -> str:
    return revision.rpartition(":")[2]


def applied_shas(store: Store) -> list[str]:
    return [sha_of(r.revision) for r in store.revisions.history("fleet") if r.status is RevisionStatus.APPLIED]


def test_first_poll_reconciles_the_head_and_records_it_applied(make_daemon, upstream, store, pipeline):
    make_daemon(Schedule(poll=0.3))
    head = upstream.head()
    assert waits.until(lambda: applied_shas(store) == [head], seconds=15)


def test_a_pushed_commit_is_reconciled_by_the_next_poll(make_daemon, upstream, store, pipeline):
    make_daemon(Schedule(poll=0.3))
    assert waits.until(lambda: len(pipeline.ran) == 1, seconds=15)
    pushed = upstream.commit("bump", {"clusters/dev.yaml": upstream.read("clusters/dev.yaml") + "\n"})
    assert waits.until(lambda: pushed in applied_shas(store), seconds=15)


def test_an_invalid_revision_is_refused_and_recorded(make_daemon, upstream, store, pipeline):
    make_daemon(Schedule(poll=0.3))
    assert waits.until(lambda: len(pipeline.ran) == 1, seconds=15)
    broken = upstream.commit("break fleet.yaml", {"fleet.yaml": BROKEN_FLEET})
    assert waits.until(lambda: any(sha_of(r.revision) == broken and r.status is RevisionStatus.INVALID
                                  for r in store.revisions.history("fleet")), seconds=15)


def test_the_last_good_revision_keeps_running_after_an_invalid_one(make_daemon, upstream, store, pipeline):
    make_daemon(Schedule(poll=0.3, reconcile=0.3))
    assert waits.until(lambda: len(pipeline.ran) == 1, seconds=15)
    good = pipeline.ran[0]
    upstream.commit("break fleet.yaml", {"fleet.yaml": BROKEN_FLEET})
    assert waits.until(lambda: pipeline.ran.count(good) >= 3, seconds=15)


def test_the_last_good_revision_keeps_running_while_git_is_down(make_daemon, git_server, pipeline):
    daemon = make_daemon(Schedule(poll=0.2, reconcile=0.3))
    assert waits.until(lambda: len(pipeline.ran) == 1, seconds=15)
    git_server.stop()
    assert waits.until(lambda: daemon.tracks["fleet"].status.stale, seconds=15)
    runs = len(pipeline.ran)
    assert waits.until(lambda: len(pipeline.ran) >= runs + 2 and set(pipeline.ran) == {pipeline.ran[0]}, seconds=15)


def test_a_signed_webhook_push_polls_at_once(make_daemon, upstream, git_server, store, pipeline):
    daemon = make_daemon(Schedule(poll=600))
    assert waits.until(lambda: len(pipeline.ran) == 1, seconds=15)
    pushed = upstream.commit("bump", {"clusters/dev.yaml": upstream.read("clusters/dev.yaml") + "\n"})
    receiver = WebhookReceiver(secret="s3cret", tracked=[git_server.url()], trigger=daemon.trigger)
    body = json.dumps({"ref": "refs/heads/main", "repository": {"clone_url": git_server.url()}}).encode()
    signature = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    result = receiver.handle({"X-Hub-Signature-256": signature, "X-GitHub-Event": "push"}, body)
    assert result.triggered
    assert waits.until(lambda: pushed in applied_shas(store), seconds=15)


def test_stop_lets_the_step_in_flight_finish_and_records_it(make_daemon, upstream, store, pipeline):
    pipeline.release.clear()
    daemon = make_daemon(Schedule(poll=0.3))
    assert pipeline.entered.wait(15)
    stopper = threading.Thread(target=daemon.stop)
    stopper.start()
    assert waits.until(daemon.stopping.is_set, seconds=15)
    pipeline.release.set()
    stopper.join(15)
    head = upstream.head()
    assert (not stopper.is_alive(), applied_shas(store)) == (True, [head])


def test_a_failed_reconcile_is_recorded_then_retried_by_the_reconcile_job_not_by_polls(
    make_daemon, upstream, store, pipeline
):
    pipeline.failures_left = 1
    make_daemon(Schedule(poll=0.1, reconcile=1.0))
    head = upstream.head()
    assert waits.until(lambda: applied_shas(store) == [head], seconds=15)
    reasons = [e.reason for e in reversed(store.events.recent())]
    assert (reasons, len(pipeline.ran)) == (["NewRevision", "ReconcileFailed"], 2)


def test_a_crashing_reconcile_is_recorded_and_the_daemon_keeps_going(make_daemon, upstream, store, pipeline):
    pipeline.crashes_left = 1
    make_daemon(Schedule(poll=0.1, reconcile=1.0))
    head = upstream.head()
    assert waits.until(lambda: applied_shas(store) == [head], seconds=15)
    failed = [e.message for e in store.events.recent() if e.reason == "ReconcileFailed"]
    assert (len(failed), "KeyError: 'a bug in the pipeline'" in failed[0], len(pipeline.ran)) == (1, True, 2)
