"""Retrying forge requests: exponential backoff with full jitter, the forge's own delay when it gives one.

A ``ForgeError`` that is not retryable (401, 403, 404, 422) is raised at once; 5xx, network errors and
rate limits are retried up to ``attempts`` times, sleeping ``retry_after`` when the forge said how long
(``Retry-After``, a rate-limit reset), else a random delay up to ``base * 2**n`` capped at ``cap``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from reconciler.errors import ForgeError

T = TypeVar("T")


@dataclass(frozen=True)
class Retry:
    attempts: int = 4
    base: float = 1.0
    cap: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    rand: Callable[[], float] = field(default=random.random, repr=False)

    def call(self, work: Callable[[], T]) -> T:
        """``work()``, retried per the module docstring."""
        for attempt in range(1, self.attempts + 1):
            try:
                return work()
            except ForgeError as exc:
                if not exc.retryable or attempt == self.attempts:
                    raise
                self.sleep(self.delay(attempt, exc.retry_after))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.cap)
        return float(self.rand() * min(self.cap, self.base * 2.0 ** (attempt - 1)))
