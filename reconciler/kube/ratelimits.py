"""A per-cluster client-side rate limit: a token bucket with a steady rate (QPS) and a burst.

Each cluster's client owns one bucket, so a slow or busy cluster only ever waits on its own tokens and
never starves the others. Time and sleep are injected, so tests run without waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass
class TokenBucket:
    """``qps`` tokens per second, at most ``burst`` saved up; ``take()`` blocks until one is free."""

    qps: float = 50.0
    burst: int = 100
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    _tokens: float | None = field(default=None, init=False)
    _stamp: float = field(default=0.0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def take(self) -> float:
        """Take one token, sleeping as long as needed; returns the seconds waited."""
        with self._lock:
            wait = self._reserve()
        if wait > 0:
            self.sleep(wait)
        return wait

    def _reserve(self) -> float:
        now = self.clock()
        saved = float(self.burst) if self._tokens is None else self._tokens + (now - self._stamp) * self.qps
        tokens = min(float(self.burst), saved) - 1.0
        self._tokens, self._stamp = tokens, now
        return 0.0 if tokens >= 0 or self.qps <= 0 else -tokens / self.qps


def unlimited() -> TokenBucket:
    """A bucket that never makes anyone wait (for benchmarks measuring the server side)."""
    return TokenBucket(qps=1e12, burst=1 << 30)
