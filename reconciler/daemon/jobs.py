"""The ``Daemon``: polls, reconciles and drift scans on an APScheduler 3.x ``BackgroundScheduler``.

Per source: a poll job (interval with jitter) that reconciles as soon as a new revision arrives, and a
reconcile job on the reconcile interval that re-runs the newest good revision (this is what brings
clusters back after a failure: a revision is reconciled once per new commit by the poll job, and a
failed reconcile is retried by the reconcile job, not by every poll). One drift-scan job for the fleet. Every job is single-flight
(``max_instances=1``) and coalesced (``coalesce=True``: runs missed while busy collapse into one).
Reconciles and drift scans share one work lock, so one step runs at a time and a stop waits for it.

A webhook push calls ``trigger(url)``: an immediate forced poll of that source, coalesced by
``CoalescingTrigger`` (a burst of pushes makes one extra poll). Git being down, an invalid revision or
a failed reconcile are recorded and logged; the last good revision keeps running.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from apscheduler.schedulers.background import BackgroundScheduler

from reconciler import logs, metrics
from reconciler.core import rollout
from reconciler.daemon.ports import DriftScan, Journal, Outcome, Pipeline, PullRequestScan
from reconciler.daemon.tracks import Track
from reconciler.errors import ClusterError, RenderError, SpecError, StackfleetError, StoreError
from reconciler.source.git import Revision
from reconciler.source.sources import SourceStatus
from reconciler.source.webhooks import CoalescingTrigger, repo_key

QUIET_RESULTS = rollout.SUCCESSES
"""Per-cluster results logged at debug level; the others (failed, waiting, ...) are warnings. Only a
reconcile where every cluster ended so moves the base force-pushes are judged against: a revision whose
deletions wait for approval stays force-pushed until they are approved."""


T = TypeVar("T")


def log() -> Any:
    return logs.get("stackfleet.daemon")


@dataclass(frozen=True)
class Schedule:
    """Job intervals in seconds (``jitter`` spreads polls of many sources apart)."""

    poll: float = 30.0
    jitter: float = 0.0
    reconcile: float = 300.0
    drift: float = 120.0


@dataclass(frozen=True)
class Chore:
    """Upkeep beside the reconcile loop, on its own interval and never under the work lock: store
    retention, a replica's lease heartbeat. ``first`` runs it once before the first poll."""

    name: str
    seconds: float
    run: Callable[[], object]
    first: bool = False
    stage: str = "store"


class Daemon:
    """Runs the fleet's jobs until ``stop``; see the module docstring."""

    def __init__(
        self,
        tracks: Sequence[Track],
        *,
        pipeline: Pipeline,
        journal: Journal,
        drift: DriftScan | None = None,
        schedule: Schedule | None = None,
        chores: Sequence[Chore] = (),
        reviews: PullRequestScan | None = None,
    ) -> None:
        self.tracks = {track.name: track for track in tracks}
        self.pipeline = pipeline
        self.journal = journal
        self.drift = drift
        self.chores = tuple(chores)
        self.schedule = schedule or Schedule()
        self.reviews = reviews
        self.stopping = threading.Event()
        self.outcomes: dict[str, Outcome] = {}
        """The last reconcile outcome per source (for the demo and the logs)."""
        self.trigger = CoalescingTrigger(self.poll_url)
        self._work = threading.Lock()
        self._drift_open = 0
        self._scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"max_instances": 1, "coalesce": True})

    def start(self) -> Daemon:
        """Schedule every job (the first poll at once) and start the scheduler thread."""
        for track in self.tracks.values():
            poll, jitter = track.poll_seconds or self.schedule.poll, track.jitter or self.schedule.jitter
            self._every(poll, self.poll, track, job=f"poll:{track.name}", jitter=jitter)
            self._every(self.schedule.reconcile, self.reconcile, track, job=f"reconcile:{track.name}", delay=True)
        if self.drift is not None:
            self._every(self.schedule.drift, self.scan_drift, job="drift", delay=True)
        for chore in self.chores:
            if chore.first:
                self.do(chore)
            self._every(chore.seconds, self.do, chore, job=chore.name, delay=chore.first)
        quiet_scheduler()
        self._scheduler.start()
        polls = {name: track.poll_seconds or self.schedule.poll for name, track in sorted(self.tracks.items())}
        log().info("started", sources=sorted(self.tracks), poll_seconds=polls, reconcile_seconds=self.schedule.reconcile,
                   drift_seconds=self.schedule.drift if self.drift is not None else None)
        return self

    def stop(self) -> None:
        """Stop taking work, let the step in flight finish (it sees ``stopping`` between steps), then stop."""
        self.stopping.set()
        self.trigger.close()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        log().info("stopped")

    def poll(self, track: Track, *, force: bool = False) -> SourceStatus:
        """Ask Git for a new revision of ``track``; reconcile it right away when there is one."""
        with track.lock:
            if self.stopping.is_set():
                return track.status
            before = track.status
            status = track.source.poll(force=force)
            if status is not before:  # the same status object: still backing off, nothing was tried
                self._note(track, status)
            if track.is_new(status.revision) and status.revision is not None:
                self._reconcile(track, status.revision)
            if not status.stale:
                self.scan_pull_requests(track)
            return status

    def poll_url(self, url: str) -> SourceStatus | None:
        """A forced poll of the source tracking ``url`` (what a webhook push asks for)."""
        for track in self.tracks.values():
            if repo_key(track.url) == repo_key(url):
                return self.poll(track, force=True)
        return None

    def reconcile(self, track: Track) -> None:
        """Reconcile the newest good revision again (the periodic job). Git is asked first: a revision
        newer than the one in hand is reconciled by that poll instead, so a replica that was away never
        re-applies an older revision over what another replica moved the fleet to."""
        before = track.reconciled
        self.poll(track)
        with track.lock:
            revision = track.target()
            if track.reconciled is not before or revision is None or self.stopping.is_set():
                return
            self._reconcile(track, revision)

    def nudge(self) -> None:
        """Run every source's reconcile job now (a replica took clusters over: they are not to wait)."""
        now = datetime.now(UTC)
        for name in self.tracks:
            job = self._scheduler.get_job(f"reconcile:{name}")
            if job is not None:
                job.modify(next_run_time=now)

    def scan_pull_requests(self, track: Track) -> int | None:
        """Plan the new heads of ``track``'s pull requests; a failure is logged and counted, never raised."""
        if self.reviews is None or self.stopping.is_set():
            return None
        with self._work:
            try:
                return self.reviews.scan(track, stop=self.stopping)
            except Exception as exc:  # the next poll tries again
                metrics.count_error(stage_of(exc))
                log().warning("planning pull requests failed", source=track.name, error=describe(exc),
                              stage="plan", exc_info=not isinstance(exc, StackfleetError))
                return None

    def reconcile_soon(self) -> None:
        """Reconcile every source's newest good revision now, in the scheduler's thread (an approval or a
        resume through the API takes effect within seconds; coalesced with a run already queued)."""
        if self.stopping.is_set() or not self._scheduler.running:
            return
        for name, track in self.tracks.items():
            self._scheduler.add_job(self.reconcile, args=[track], id=f"reconcile-now:{name}",
                                    name=f"reconcile-now:{name}", replace_existing=True)

    def exclusively(self, work: Callable[[], T]) -> T:
        """Run ``work`` while no reconcile or drift scan runs (what an operation through the API does)."""
        with self._work:
            return work()

    def scan_drift(self) -> int | None:
        if self.drift is None or self.stopping.is_set():
            return None
        with self._work:
            try:
                found = self.drift.scan(stop=self.stopping)
            except Exception as exc:  # the next scan tries again
                metrics.count_error("drift")
                log().warning("drift scan failed", error=describe(exc), stage="drift",
                              exc_info=not isinstance(exc, StackfleetError))
                return None
        self._log_drift(found)
        return found

    def _log_drift(self, found: int) -> None:
        """Drift is logged when the number of open entries changes, not on every scan that finds the same."""
        last, self._drift_open = self._drift_open, found
        if found == last:
            log().debug("drift scanned", open=found)
        elif found:
            log().warning("drift found", open=found, before=last)
        else:
            log().info("drift cleared", before=last)

    def do(self, chore: Chore) -> None:
        if self.stopping.is_set():
            return
        try:
            done = chore.run()
        except StackfleetError as exc:  # retried on the next interval
            metrics.count_error(chore.stage)
            log().warning(f"{chore.name} failed", error=describe(exc), stage=chore.stage)
            return
        log().debug(chore.name, result=str(done))

    def _reconcile(self, track: Track, revision: Revision) -> None:
        with self._work:
            if self.stopping.is_set():
                return
            outcome = self._run_pipeline(track, revision)
            if outcome is not None:
                self.outcomes[track.name] = outcome

    def _run_pipeline(self, track: Track, revision: Revision) -> Outcome | None:
        bound = log().bind(source=track.name, revision=str(revision))
        started = time.monotonic()
        try:
            forced_from = track.source.forced_from(revision)
            outcome = self.pipeline.reconcile(
                track.tree(revision), revision=str(revision), source=track.name, stop=self.stopping,
                forced_from=str(forced_from) if forced_from else None,
            )
        except (SpecError, RenderError) as exc:
            track.refuse(revision, str(exc))
            metrics.count_error(stage_of(exc))
            self.journal.failed(track.name, str(revision), error=str(exc), invalid=True)
            bound.warning("revision refused; keeping the last good one", error=str(exc),
                          good=str(track.good) if track.good else None, stage="load")
            return None
        except Exception as exc:  # a failed reconcile (or a bug in one) must not stop the daemon
            track.reconciled = revision  # tried: the reconcile job retries it, polls do not
            stage = stage_of(exc)
            metrics.count_error(stage)
            self.journal.failed(track.name, str(revision), error=describe(exc), invalid=False)
            bound.warning("reconcile failed; retried on the reconcile interval", error=describe(exc), stage=stage,
                          exc_info=not isinstance(exc, StackfleetError))
            return None
        self._finish(track, revision, outcome, seconds=time.monotonic() - started)
        return outcome

    def _finish(self, track: Track, revision: Revision, outcome: Outcome, *, seconds: float) -> None:
        metrics.RECONCILE_SECONDS.labels(source=track.name).observe(seconds)
        track.accept(revision, applied=outcome.ok and set(outcome.clusters.values()) <= QUIET_RESULTS)
        if outcome.ok:
            self.journal.applied(track.name, str(revision), held=outcome.held)
            metrics.set_last_applied(track.name, str(revision), at=time.time())
        else:
            metrics.count_error("apply")
            self.journal.failed(track.name, str(revision), error=outcome.summary, invalid=False)
        for cluster, result in sorted(outcome.clusters.items()):
            level = "debug" if result in QUIET_RESULTS else "warning"
            getattr(log(), level)("cluster reconciled", source=track.name, revision=str(revision), cluster=cluster,
                                  result=result.value)
        log().info("reconciled", source=track.name, revision=str(revision), ok=outcome.ok,
                   writes=outcome.writes, summary=outcome.summary, seconds=round(seconds, 3))

    def _note(self, track: Track, status: SourceStatus) -> None:
        if status.stale:
            metrics.count_error("source")
            log().warning("source stale", source=track.name, error=status.error, failures=status.failures,
                        serving=str(track.good) if track.good else None, stage="source")
        elif status.revision is not None and track.is_new(status.revision):
            forced = status.force_pushed_from is not None
            self.journal.seen(track.name, str(status.revision), forced=forced, subject=status.subject,
                              author=status.author)
            log().info("new revision", source=track.name, revision=str(status.revision), force_pushed=forced)

    def _every(self, seconds: float, func: Callable[..., Any], *args: Any, job: str, jitter: float = 0.0,
               delay: bool = False) -> None:
        first = datetime.now(UTC) + (timedelta(seconds=seconds) if delay else timedelta())
        self._scheduler.add_job(func, "interval", args=list(args), id=job, name=job, seconds=seconds,
                                jitter=int(jitter) or None, next_run_time=first)


def quiet_scheduler() -> None:
    """APScheduler logs every job run and its success at INFO ("Running job ...", "executed successfully")
    and skipped single-flight runs at WARNING; the daemon logs what its jobs found instead. Errors of a
    job that escaped it still show (the executor logs them at ERROR)."""
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def describe(exc: Exception) -> str:
    """An error for the journal and the logs: ours as they are, anything else with its type."""
    return str(exc) if isinstance(exc, StackfleetError) else f"{type(exc).__name__}: {exc}"


def stage_of(exc: Exception) -> str:
    """The pipeline stage an error belongs to, for ``stackfleet_errors_total{stage}``."""
    for kind, stage in ((SpecError, "load"), (RenderError, "render"), (ClusterError, "apply"), (StoreError, "store")):
        if isinstance(exc, kind):
            return stage
    return "plan"
