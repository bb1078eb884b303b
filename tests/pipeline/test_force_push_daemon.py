"""The daemon passes a force-push through to the pipeline: a revision that does not descend from the
last applied one reaches ``Pipeline.reconcile`` with ``forced_from``, and stays so while the reconcile
held something back (deletions awaiting approval)."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from reconciler.core.rollout import Result
from reconciler.core.statuses import RunStatus
from reconciler.daemon import sourcing
from reconciler.daemon.jobs import Daemon
from reconciler.daemon.ports import Outcome
from reconciler.daemon.tracks import Track
from reconciler.source.git import Mirror
from reconciler.source.sources import GitSource
from reconciler.spec.trees import FileTree
from reconciler.store import stores


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.dev",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.dev"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


class Recording:
    """A pipeline that records what it was asked and ends every cluster with ``result``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.result = Result.SUCCEEDED

    def reconcile(self, tree: FileTree, *, revision: str, source: str, stop: threading.Event,
                  forced_from: str | None = None) -> Outcome:
        self.calls.append((revision, forced_from))
        return Outcome(revision, self.result.value, clusters={"c0": self.result})


class Quiet:
    def seen(self, source: str, revision: str, *, forced: bool, subject: str = "", author: str = "") -> None: ...

    def applied(self, source: str, revision: str, *, held: str = "") -> None: ...

    def failed(self, source: str, revision: str, *, error: str, invalid: bool) -> None: ...


def commit(repo: Path, text: str, *, amend: bool = False) -> None:
    (repo / "fleet.yaml").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", text, *(["--amend"] if amend else []))


def started(tmp_path: Path) -> tuple[Path, Daemon, Track, Recording]:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "one")
    mirror = Mirror(repo.as_uri(), cache_dir=tmp_path / "mirrors")
    track, pipeline = Track("fleet", GitSource(mirror, ref="main")), Recording()
    return repo, Daemon([track], pipeline=pipeline, journal=Quiet()), track, pipeline


def test_a_force_pushed_revision_reaches_the_pipeline_as_forced(tmp_path: Path) -> None:
    repo, daemon, track, pipeline = started(tmp_path)
    daemon.poll(track)
    commit(repo, "two")
    daemon.poll(track)
    commit(repo, "two, rewritten", amend=True)
    daemon.poll(track)
    [_, (second, _), (_, forced_from)] = pipeline.calls
    assert [f for _, f in pipeline.calls[:2]] == [None, None] and forced_from == second


def test_a_forced_revision_whose_deletions_wait_stays_forced_on_the_next_reconcile(tmp_path: Path) -> None:
    repo, daemon, track, pipeline = started(tmp_path)
    daemon.poll(track)
    commit(repo, "one, rewritten", amend=True)
    pipeline.result = Result.AWAITING_APPROVAL
    daemon.poll(track)
    daemon.reconcile(track)
    pipeline.result = Result.SUCCEEDED
    daemon.reconcile(track)
    daemon.reconcile(track)
    first = pipeline.calls[0][0]
    assert [f for _, f in pipeline.calls[1:]] == [first, first, first, None]


def test_after_a_restart_the_stores_last_applied_revision_is_the_base(tmp_path: Path) -> None:
    repo, daemon, track, pipeline = started(tmp_path)
    daemon.poll(track)
    store = stores.open_store(tmp_path / "state.db")
    store.runs.start("run-1", revision=pipeline.calls[0][0])
    store.runs.finish("run-1", RunStatus.SUCCEEDED)
    commit(repo, "one, rewritten", amend=True)
    restarted = Track("fleet", GitSource(Mirror(repo.as_uri(), cache_dir=tmp_path / "mirrors"), ref="main"))
    last = store.runs.last_succeeded()
    resumed = sourcing.resume(restarted, applied=last.revision if last else None)
    store.close()
    Daemon([restarted], pipeline=pipeline, journal=Quiet()).poll(restarted)
    assert resumed and pipeline.calls[-1][1] == pipeline.calls[0][0]
