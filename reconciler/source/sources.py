"""A tracked Git source: what the daemon polls.

``GitSource.poll`` asks the remote whether the tracked ref moved (one ref listing), fetches only
when it did, verifies the head's signature when a verifier is configured, and then either accepts the
new revision or keeps serving the last good one. A failure makes the source *stale*: its status says
since when and why, and the next attempt waits for an exponential backoff. Moving to a commit that
does not descend from the last applied one (or, before anything was applied, the last good one) is a
force-push, reported in the status so the planner can ask for approval before pruning from it.

Time comes from an injected clock; this module does no Git work itself (``reconciler.source.git``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from reconciler.errors import SourceError, VerificationError
from reconciler.source.git import CommitTree, FetchStats, Mirror, Revision


class Verifier(Protocol):
    """Checks a commit signature; returns who signed, raises ``VerificationError`` otherwise."""

    def verify(self, *, signature: bytes | None, payload: bytes, revision: str) -> str: ...


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff between failed attempts: ``initial * factor**(n-1)``, capped at ``maximum``."""

    initial: float = 5.0
    factor: float = 2.0
    maximum: float = 300.0

    def delay(self, failures: int) -> float:
        return min(self.maximum, self.initial * self.factor ** max(0, failures - 1))


@dataclass(frozen=True)
class SourceStatus:
    """A snapshot of a source, for the dashboard, the API and the reconcile loop."""

    url: str
    ref: str
    revision: Revision | None = None
    checked_at: float | None = None
    stale_since: float | None = None
    error: str | None = None
    failures: int = 0
    retry_at: float | None = None
    force_pushed_from: Revision | None = None
    signer: str | None = None
    last_fetch: FetchStats = field(default_factory=FetchStats)
    subject: str = ""
    """The revision's commit subject and author's name (for the revisions page)."""
    author: str = ""

    @property
    def stale(self) -> bool:
        return self.stale_since is not None

    def describe(self) -> str:
        serving = str(self.revision) if self.revision else "no revision yet"
        if not self.stale:
            return f"{self.url} {serving}"
        return f"{self.url} {serving}; source stale since {_iso(self.stale_since)}: {self.error}"


class GitSource:
    """The tracked ``ref`` of one mirrored remote."""

    def __init__(
        self,
        mirror: Mirror,
        *,
        ref: str,
        verifier: Verifier | None = None,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mirror = mirror
        self.ref = ref
        self.verifier = verifier
        self.backoff = backoff or Backoff()
        self.clock = clock
        self._status = SourceStatus(url=mirror.display_url, ref=ref)
        self._applied: Revision | None = None

    @property
    def status(self) -> SourceStatus:
        return self._status

    def poll(self, *, force: bool = False) -> SourceStatus:
        """Look for a new revision unless a backoff is pending (``force`` skips the wait, e.g. a webhook)."""
        now = self.clock()
        if not force and self._status.retry_at is not None and now < self._status.retry_at:
            return self._status
        try:
            revision = self.mirror.resolve(self.ref)
            signer = self._verify(revision)
        except SourceError as exc:
            self._status = self._failed(exc, now=now)
        else:
            self._status = self._accepted(revision, signer=signer, now=now)
        return self._status

    def tree(self) -> CommitTree:
        """The files of the last good revision."""
        if self._status.revision is None:
            raise SourceError(f"no good revision of {self._status.url} yet: {self._status.error}")
        return self.mirror.tree(self._status.revision)

    def resolve(self, ref: str) -> Revision:
        """Any other ref on demand (a PR or merge-request head, a branch) without touching the status."""
        return self.mirror.resolve(ref)

    def mark_applied(self, revision: Revision) -> None:
        """Record what was applied: force-pushes are judged against it from now on."""
        self._applied = revision

    def forced_from(self, revision: Revision) -> Revision | None:
        """The last applied revision when ``revision`` does not descend from it (a force-push), else None."""
        return _moved_back(self.mirror, revision, base=self._applied)

    def _verify(self, revision: Revision) -> str | None:
        if self.verifier is None:
            return None
        if revision == self._status.revision:
            return self._status.signer  # verified when it was accepted
        signed = self.mirror.signature(revision.sha)
        signature, payload = signed if signed else (None, b"")
        return self.verifier.verify(signature=signature, payload=payload, revision=str(revision))

    def _accepted(self, revision: Revision, *, signer: str | None, now: float) -> SourceStatus:
        subject, author = self.mirror.describe(revision.sha)
        return SourceStatus(
            url=self._status.url,
            ref=self.ref,
            revision=revision,
            checked_at=now,
            force_pushed_from=_moved_back(self.mirror, revision, base=self._applied or self._status.revision),
            signer=signer,
            last_fetch=self.mirror.last_stats,
            subject=subject,
            author=author,
        )

    def _failed(self, exc: SourceError, *, now: float) -> SourceStatus:
        failures = self._status.failures + 1
        reason = "verification failed" if isinstance(exc, VerificationError) else type(exc).__name__
        return replace(
            self._status,
            checked_at=now,
            stale_since=self._status.stale_since or now,
            error=f"{reason}: {exc}",
            failures=failures,
            retry_at=now + self.backoff.delay(failures),
        )


def _moved_back(mirror: Mirror, revision: Revision, *, base: Revision | None) -> Revision | None:
    """``base`` when ``revision`` does not descend from it."""
    if base is None or mirror.descends(revision.sha, from_sha=base.sha):
        return None
    return base


def _iso(moment: float | None) -> str:
    if moment is None:
        return "-"
    return datetime.fromtimestamp(moment, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
