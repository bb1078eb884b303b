"""When to retry a request to a cluster, and how long to wait first.

429 answers wait what ``Retry-After`` says (capped); 5xx answers and connection errors back off
exponentially with full jitter; every request has a bounded number of attempts. 401/403 and other 4xx
are never retried (no retry storm against revoked credentials).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    """Attempts per request, the first included."""
    base: float = 0.1
    """Seconds of the first backoff step (doubled each attempt)."""
    cap: float = 5.0
    """Longest single wait, Retry-After included."""
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int, *, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after is not None:
            return min(self.cap, max(0.0, retry_after)) + self.rng.uniform(0, self.base)
        return self.rng.uniform(0, min(self.cap, self.base * (2 ** (attempt - 1))))

    def should_retry(self, attempt: int, *, status: int | None) -> bool:
        """``status`` is None for a connection error."""
        return attempt < self.attempts and (status is None or status in RETRIED_STATUSES)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (the delta-seconds form; dates are ignored)."""
    try:
        return float(value) if value else None
    except ValueError:
        return None
