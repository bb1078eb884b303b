"""What the web app is built from: the store, the tokens, the clock and the daemon's callables.

``Services`` is handed to ``apps.create_app``; the daemon builds it from its settings, tests build it
directly. Nothing here reads the environment or the clock on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from reconciler.core.desired import BundleId
from reconciler.source.webhooks import WebhookReceiver
from reconciler.store.stores import Store
from reconciler.web.access import Tokens
from reconciler.web.catalogs import Catalog
from reconciler.web.oidc import Logins

OK = "ok"
"""What ``/readyz`` says of a check that found nothing wrong."""


@dataclass(frozen=True)
class Readiness:
    """``ready`` is what ``/readyz`` answers; ``checks`` says why (name -> "ok" or the problem)."""

    ready: bool
    checks: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, problems: Mapping[str, str]) -> Readiness:
        """Ready when no check found a problem (``""``); each check reads ``OK`` or its problem."""
        return cls(ready=not any(problems.values()), checks={name: p or OK for name, p in problems.items()})


class Operator(Protocol):
    """What the running daemon does for the operations of the API and the dashboard."""

    def reconcile_soon(self) -> None:
        """Reconcile every source's newest good revision now (in the background)."""

    def heal(self, objects: Sequence[tuple[str, BundleId, str]], *, by: str) -> int:
        """Re-apply these drifted objects ((destination, bundle, object key)) that ``by`` asked to heal;
        the objects written."""


@dataclass(frozen=True)
class Services:
    store: Store
    tokens: Tokens
    clock: Callable[[], datetime]
    catalog: Callable[[], Catalog] = Catalog
    """The fleet repo's clusters, labels and stack versions at the last good revision."""
    readiness: Callable[[], Readiness] | None = None
    """Extra readiness (sources fresh); the store is always checked."""
    webhooks: WebhookReceiver | None = None
    metrics: Callable[[], bytes] | None = None
    """The Prometheus text exposition (``reconciler.metrics``)."""
    sources: tuple[str, ...] = ()
    """Source names whose revisions the revisions page lists."""
    refresh_seconds: int = 15
    secure_cookies: bool = False
    """Mark the session cookie ``Secure`` (when served over HTTPS, e.g. behind a TLS proxy)."""
    logins: Logins | None = None
    """OIDC login for the dashboard (``web.oidc``), when configured."""
    operator: Operator | None = None
    """The daemon's hands for operations (``web.operations``); ``None`` when the app runs on its own."""
