"""``/readyz`` for the daemon: every source answered its last poll, or has been stale for no longer than
its own poll interval (``Track.poll_seconds``, else the daemon's default, ``max_stale_seconds``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from reconciler.daemon.tracks import Track
from reconciler.web.services import Readiness


def sources_fresh(
    tracks: Sequence[Track], *, max_stale_seconds: float, clock: Callable[[], float] = time.time
) -> Callable[[], Readiness]:
    """A readiness check: a source is fresh once it has a revision and is not stale past its interval."""

    def check() -> Readiness:
        return Readiness.of({f"source:{t.name}": _judge(t, t.poll_seconds or max_stale_seconds, clock()) for t in tracks})

    return check


def _judge(track: Track, max_stale_seconds: float, now: float) -> str:
    """The source's problem; empty when it is fresh."""
    status = track.status
    if status.revision is None:
        return f"no revision yet: {status.error}" if status.error else "no revision yet"
    if status.stale_since is not None and now - status.stale_since > max_stale_seconds:
        return status.describe()
    return ""
