"""Waiting for a condition with a deadline (the demo's story steps and the daemon's tests)."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(check: Callable[[], bool], *, seconds: float, every: float = 0.05) -> bool:
    """Call ``check`` until it is true or ``seconds`` passed; the last answer."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)
    return True
