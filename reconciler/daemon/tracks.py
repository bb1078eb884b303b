"""One Git source under the daemon's control, and what the daemon has concluded about its revisions."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from reconciler.source.git import CommitTree, Revision
from reconciler.source.sources import GitSource, SourceStatus


@dataclass
class Track:
    """A named source; ``lock`` makes its polls and reconciles single-flight.

    ``good`` is the newest revision that reconciled without a spec or render error: it keeps running
    while Git is down or newer revisions are invalid. ``refused`` holds invalid revisions (by SHA) with
    their error, so they are not retried until a new commit arrives.
    """

    name: str
    source: GitSource
    good: Revision | None = None
    reconciled: Revision | None = None
    refused: dict[str, str] = field(default_factory=dict)
    poll_seconds: float | None = None
    """This source's poll interval (``None``: the daemon's default)."""
    jitter: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def status(self) -> SourceStatus:
        return self.source.status

    @property
    def url(self) -> str:
        return self.source.mirror.url

    def target(self) -> Revision | None:
        """The revision to run: the newest one unless it was refused, else the last good one."""
        latest = self.source.status.revision
        if latest is not None and latest.sha not in self.refused:
            return latest
        return self.good

    def is_new(self, revision: Revision | None) -> bool:
        """Whether ``revision`` still needs a reconcile (not yet reconciled, not refused)."""
        if revision is None or revision.sha in self.refused:
            return False
        return self.reconciled is None or revision.sha != self.reconciled.sha

    def tree(self, revision: Revision) -> CommitTree:
        return self.source.mirror.tree(revision)

    def refuse(self, revision: Revision, error: str) -> None:
        self.refused[revision.sha] = error

    def accept(self, revision: Revision, *, applied: bool = True) -> None:
        """``revision`` reconciled as a valid spec (``applied``: everywhere it should be)."""
        self.good = self.reconciled = revision
        if applied:
            self.source.mark_applied(revision)
