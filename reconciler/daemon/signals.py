"""SIGTERM and SIGINT as a stop event, so the daemon finishes its step in flight before it stops."""

from __future__ import annotations

import signal
import threading
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_event() -> threading.Event:
    """An event set by the first SIGTERM or SIGINT (call from the main thread)."""
    event = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        event.set()

    for signum in STOP_SIGNALS:
        signal.signal(signum, handle)
    return event
