"""The daemon's journal in the state store: revisions seen, applied, failed or refused, and events."""

from __future__ import annotations

from reconciler.core.statuses import RevisionStatus
from reconciler.store.stores import Store


class StoreJournal:
    """``ports.Journal`` over ``store.revisions`` and ``store.events``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def seen(self, source: str, revision: str, *, forced: bool, subject: str = "", author: str = "") -> None:
        self.store.revisions.record_seen(source, revision, forced=forced, subject=subject, author=author)
        reason = "ForcePushed" if forced else "NewRevision"
        self.store.events.add(reason, f"{source} moved to {revision}", level="warning" if forced else "info")

    def applied(self, source: str, revision: str, *, held: str = "") -> None:
        self.store.revisions.record_seen(source, revision)
        if held:
            self.store.revisions.mark(source, revision, RevisionStatus.PARTLY_APPLIED, error=held)
        else:
            self.store.revisions.mark(source, revision, RevisionStatus.APPLIED)

    def failed(self, source: str, revision: str, *, error: str, invalid: bool) -> None:
        status = RevisionStatus.INVALID if invalid else RevisionStatus.FAILED
        self.store.revisions.record_seen(source, revision)
        self.store.revisions.mark(source, revision, status, error=error)
        reason = "RevisionRefused" if invalid else "ReconcileFailed"
        self.store.events.add(reason, f"{source} {revision}: {error}", level="error")
