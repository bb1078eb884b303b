"""Faults a test can inject into one simulated cluster, and the requests it has counted.

Everything is plain attributes on ``Faults``, set directly from a test::

    faults.latency = 0.2                 # seconds added to every request
    faults.error_rate = 0.1              # share of requests answered 500
    faults.unavailable_rate = 0.1        # share answered 503
    faults.throttle(3, retry_after=1)    # the next 3 requests get 429 with Retry-After
    faults.reset_next(2)                 # the next 2 connections are reset mid-request
    faults.down = True                   # every connection is reset until set back to False
    faults.deny_delete("ConfigMap", "default", "keep-me")   # as an admission webhook would
    faults.forbidden = True              # every request gets 403 (credentials' RBAC revoked)
    faults.down_after_writes(2)          # two more writes succeed, then the cluster goes down
    faults.unavailable_groups.add("metrics.k8s.io")  # that group's aggregated API server is down
    faults.stale_groups.add("example.dev")           # aggregated discovery marks the group Stale

To revoke credentials outright, give the cluster a new token (``cluster.token = "..."``): requests
with the old one get 401. ``requests`` counts (verb, resource) of every request that reached the
cluster, refused ones included; ``history`` keeps (monotonic time, verb, resource) of the
latest requests, for peak-rate figures.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from reconciler.sim import statuses

WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})


class ConnectionReset(Exception):
    """Raised to make the server drop the connection without an answer."""


@dataclass
class Faults:
    latency: float = 0.0
    error_rate: float = 0.0
    unavailable_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after: int = 1
    reset_rate: float = 0.0
    down: bool = False
    forbidden: bool = False
    denied_deletes: dict[tuple[str, str, str], str] = field(default_factory=dict)
    unavailable_groups: set[str] = field(default_factory=set)
    """API groups whose (aggregated) API server is down. As kube-aggregator does for an APIService
    that is not Available, every request under ``/apis/<group>`` answers 503 ServiceUnavailable, and
    aggregated discovery keeps listing the group's last known resources with ``freshness: Stale``
    (KEP-3352, apidiscovery.k8s.io/v2)."""
    stale_groups: set[str] = field(default_factory=set)
    """API groups aggregated discovery lists with ``freshness: Stale`` (their last refresh failed)
    while their resources still answer."""
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    history: deque[tuple[float, str, str]] = field(default_factory=lambda: deque(maxlen=100_000))
    seed: int = 0
    _throttle_next: int = 0
    _reset_next: int = 0
    _writes_left: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def throttle(self, count: int, *, retry_after: int = 1) -> None:
        """Answer the next ``count`` requests with 429 and ``Retry-After: retry_after``."""
        with self._lock:
            self._throttle_next, self.retry_after = count, retry_after

    def reset_next(self, count: int) -> None:
        with self._lock:
            self._reset_next = count

    def down_after_writes(self, count: int) -> None:
        """Let ``count`` more writes through, then take the cluster down (a network cut mid-apply)."""
        with self._lock:
            self._writes_left = count
            self.down = count <= 0

    def deny_delete(self, kind: str, namespace: str, name: str, *, message: str = "deletion is not allowed") -> None:
        self.denied_deletes[(kind, namespace, name)] = message

    def clear(self) -> None:
        """Back to a healthy cluster (counters are kept)."""
        with self._lock:
            self.latency = self.error_rate = self.unavailable_rate = self.throttle_rate = self.reset_rate = 0.0
            self.down, self.forbidden, self._throttle_next, self._reset_next = False, False, 0, 0
            self._writes_left = None
            self.denied_deletes.clear()
            self.unavailable_groups.clear()
            self.stale_groups.clear()

    def count(self, verb: str, resource: str) -> None:
        with self._lock:
            self.requests[(verb, resource)] += 1
            self.history.append((time.monotonic(), verb, resource))
            if self._writes_left is not None and verb in WRITES:
                self._writes_left -= 1
                self.down = self._writes_left <= 0

    def total(self, verb: str | None = None, resource: str | None = None) -> int:
        """Requests counted so far, optionally only those of one verb and/or resource."""
        with self._lock:
            return sum(n for (v, r), n in self.requests.items()
                       if verb in (None, v) and resource in (None, r))

    def check_connection(self) -> None:
        """Raise ``ConnectionReset`` when this request's connection should be dropped."""
        with self._lock:
            if self.down:
                raise ConnectionReset()
            if self._reset_next > 0 or self._rng.random() < self.reset_rate:
                self._reset_next = max(0, self._reset_next - 1)
                raise ConnectionReset()

    def check_request(self) -> None:
        """Raise the injected 429/500/503 for this request, if one is due."""
        if self.forbidden:
            raise statuses.forbidden("forbidden: the credentials of this request are not allowed to do this")
        with self._lock:
            if self._throttle_next > 0 or self._rng.random() < self.throttle_rate:
                self._throttle_next = max(0, self._throttle_next - 1)
                raise statuses.too_many_requests(self.retry_after)
            roll = self._rng.random()
        if roll < self.error_rate:
            raise statuses.internal_error()
        if roll < self.error_rate + self.unavailable_rate:
            raise statuses.service_unavailable()

    def check_group(self, group: str) -> None:
        """Raise 503 for a request under ``/apis/<group>`` while that group's API server is down."""
        if group and group in self.unavailable_groups:
            raise statuses.service_unavailable(f"the server is currently unable to handle the request ({group})")

    def stale(self) -> frozenset[str]:
        """Groups aggregated discovery lists as Stale: the unavailable ones and the ones marked so."""
        return frozenset(self.unavailable_groups | self.stale_groups)

    def check_delete(self, kind: str, namespace: str, name: str) -> None:
        message = self.denied_deletes.get((kind, namespace, name))
        if message is not None:
            raise statuses.ApiError(
                403, "Forbidden", f'admission webhook "deny.sim.stackfleet.dev" denied the request: {message}'
            )
