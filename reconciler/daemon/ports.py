"""What the daemon drives, as small ports: the reconcile pipeline, the drift scan and a journal.

The daemon owns *when* work happens; these own *what* happens. ``pipelines.py`` adapts the engine
and the store to them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from reconciler.core.rollout import Result
from reconciler.daemon.tracks import Track
from reconciler.spec.trees import FileTree


@dataclass(frozen=True)
class Outcome:
    """What one reconcile of a revision did, in a line for the logs and the demo."""

    revision: str
    summary: str
    ok: bool = True
    writes: int = 0
    clusters: Mapping[str, Result] = field(default_factory=dict)
    """Fleet cluster -> how its rollout ended (succeeded, unchanged, waiting, failed, ...)."""
    changed: tuple[str, ...] = ()
    """Fleet clusters where something was written."""
    held: str = ""
    """What the rollout holds back, for a person (``waiting for approval of platform-stable/prod-rest``)."""


class Pipeline(Protocol):
    """Reconciles the fleet to the files of ``tree`` (load, render, observe, plan, apply, record).

    Raises ``SpecError`` or ``RenderError`` when the revision itself is invalid (the daemon then keeps
    the last good revision) and other ``StackfleetError``s for failures worth retrying later. It should
    return early, between steps, once ``stop`` is set. ``forced_from`` names the last applied revision
    when ``revision`` does not descend from it (a force-push): deletions then wait for approval.
    """

    def reconcile(self, tree: FileTree, *, revision: str, source: str, stop: threading.Event,
                  forced_from: str | None = None) -> Outcome: ...


class DriftScan(Protocol):
    """Compares live objects with the last applied state; returns the number of open drift entries."""

    def scan(self, *, stop: threading.Event) -> int: ...


class Journal(Protocol):
    """Where the daemon records the revisions it sees and what became of them (the state store)."""

    def seen(self, source: str, revision: str, *, forced: bool, subject: str = "", author: str = "") -> None: ...

    def applied(self, source: str, revision: str, *, held: str = "") -> None:
        """The revision applied; ``held`` says what its rollout still holds back (partly applied)."""

    def failed(self, source: str, revision: str, *, error: str, invalid: bool) -> None: ...


class PullRequestScan(Protocol):
    """Plans the new heads of a source's open pull requests (after each poll); returns how many it planned."""

    def scan(self, track: Track, *, stop: threading.Event) -> int: ...
