"""The per-cluster event log that WATCH requests stream from.

Each write appends ``(resourceVersion, type, resource, object)``; a watcher waits on the log's
condition for events past the resourceVersion it has seen. The log keeps a bounded window; a watch
from a resourceVersion older than the window gets 410 Expired, as from a compacted etcd.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from reconciler.core.objects import Obj

WINDOW = 10_000


@dataclass(frozen=True)
class Event:
    rv: int
    type: str
    resource: tuple[str, str]
    object: Obj


class EventLog:
    """A bounded, ordered log of one cluster's changes with a condition to wait on."""

    def __init__(self, window: int = WINDOW) -> None:
        self._events: deque[Event] = deque(maxlen=window)
        self._cond = threading.Condition()
        self.closed = False

    def append(self, event: Event) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    def oldest(self) -> int:
        with self._cond:
            return self._events[0].rv if self._events else 0

    def since(self, rv: int) -> list[Event]:
        with self._cond:
            return [e for e in self._events if e.rv > rv]

    def wait(self, rv: int, timeout: float) -> list[Event]:
        """Events past ``rv``, waiting up to ``timeout`` seconds for the first one."""
        with self._cond:
            if not (self._events and self._events[-1].rv > rv) and not self.closed:
                self._cond.wait(timeout)
            return [e for e in self._events if e.rv > rv]

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def stream(log: EventLog, *, since: int, match: Callable[[Event], bool], until: Callable[[], bool],
           bookmark_every: float) -> Iterator[Event | int]:
    """Matching events after ``since``; an ``int`` (the current resourceVersion) when a bookmark is due."""
    seen = since
    while not until() and not log.closed:
        events = log.wait(seen, bookmark_every)
        for event in events:
            seen = event.rv
            if match(event):
                yield event
        if not events:
            yield seen
