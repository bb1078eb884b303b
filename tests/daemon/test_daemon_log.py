"""The daemon's log says what matters once: its poll interval as configured, each new revision, each
reconcile result, drift when it changes; APScheduler's per-job lines are not in it.

A real daemon polls a real ``git daemon`` (``tests/daemon/conftest.py``); the pipeline is the stand-in
at the daemon's port that loads each revision with the real loader. Log lines are the JSON lines
``logs.configure`` writes to a file.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import logs
from reconciler.daemon.jobs import Daemon, Schedule
from reconciler.daemon.journals import StoreJournal
from reconciler.daemon.ports import Outcome
from reconciler.daemon.tracks import Track
from reconciler.demo import waits
from reconciler.demo.repos import GitDaemon, Upstream
from reconciler.source.git import Mirror
from reconciler.source.sources import GitSource
from reconciler.spec import loader
from reconciler.spec.trees import FileTree
from reconciler.store.stores import Store


class Loading:
    def __init__(self) -> None:
        self.ran: list[str] = []

    def reconcile(self, tree: FileTree, *, revision: str, source: str, stop: threading.Event,
                  forced_from: str | None = None) -> Outcome:
        loader.load(tree)
        self.ran.append(revision)
        return Outcome(revision=revision, summary="1 unchanged")


class Drift:
    def __init__(self, counts: list[int]) -> None:
        self.counts = counts

    def scan(self, *, stop: threading.Event) -> int:
        return self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "daemon.log"
    with path.open("w") as stream:
        logs.configure(level="debug", stream=stream, output="json")
        yield path
    logs.configure(level="warning")


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def events(path: Path, event: str) -> list[dict]:
    return [line for line in lines(path) if line.get("event") == event]


@pytest.fixture
def running(tmp_path: Path, git_server: GitDaemon, store: Store, log_file: Path) -> Iterator[tuple[Daemon, Loading]]:
    pipeline = Loading()
    source = GitSource(Mirror(git_server.url(), cache_dir=tmp_path / "cache", timeout=5), ref="main")
    daemon = Daemon([Track("fleet", source, poll_seconds=0.2)], pipeline=pipeline, journal=StoreJournal(store),
                    schedule=Schedule(poll=30, reconcile=3600, drift=0.2), drift=Drift([0, 2, 2, 2, 0]))
    daemon.start()
    yield daemon, pipeline
    daemon.stop()


def test_the_start_line_gives_each_source_its_configured_poll_interval(running, log_file: Path):
    assert [line["poll_seconds"] for line in events(log_file, "started")] == [{"fleet": 0.2}]


def test_a_revision_is_seen_and_its_result_logged_once_however_often_it_is_polled(
        running, log_file: Path, upstream: Upstream):
    _, pipeline = running
    assert waits.until(lambda: len(events(log_file, "reconciled")) == 1, seconds=30)
    assert waits.until(lambda: len(events(log_file, "drift cleared")) == 1, seconds=30)  # many polls later
    upstream.commit("a change", {"README.md": "changed\n"})
    assert waits.until(lambda: len(events(log_file, "reconciled")) == 2, seconds=30)
    seen = [line["revision"] for line in events(log_file, "new revision")]
    reconciled = [(line["revision"], line["summary"]) for line in events(log_file, "reconciled")]
    assert (seen, reconciled) == (pipeline.ran, [(r, "1 unchanged") for r in pipeline.ran])


def test_drift_is_logged_when_it_changes_not_on_every_scan(running, log_file: Path):
    assert waits.until(lambda: len(events(log_file, "drift cleared")) == 1, seconds=30)
    found = [(line["open"], line["before"]) for line in events(log_file, "drift found")]
    assert (found, len(events(log_file, "drift scanned")) >= 3) == ([(2, 0)], True)


def test_apscheduler_writes_no_line_of_its_own(running, log_file: Path):
    assert waits.until(lambda: len(events(log_file, "drift cleared")) == 1, seconds=30)
    assert [line for line in lines(log_file) if line.get("logger", "").startswith("apscheduler")] == []
