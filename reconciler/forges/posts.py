"""What a publisher posts, the port a forge client implements, and fitting a body to a forge's limit.

A plan comment carries ``MARKER`` (an HTML comment: invisible when rendered) on its first line; the
publisher finds its own comment by it and edits that one, so a pull request has one plan comment
however often it is re-planned. ``fit`` cuts a body longer than the forge accepts at a line boundary,
closes a code fence left open, and says what was cut and where the full plan is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

MARKER = "<!-- stackfleet:pr-plan -->"
STATUS_CONTEXT = "stackfleet/plan"
_FENCE = re.compile(r"^(`{3,})")


class CheckState(StrEnum):
    """The commit status of a head: planned fine, planning failed (render error, unreadable cluster)."""

    PENDING = "pending"
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True)
class PullRequest:
    """An open pull (merge) request as the forge lists it."""

    number: int
    head_sha: str
    base_ref: str
    fork: bool = False
    """The head lives in another repository (a fork): its author may not be trusted with the plan."""


@dataclass(frozen=True)
class Post:
    number: int
    head_sha: str
    body: str
    state: CheckState
    description: str
    link: str = ""
    """The full plan on the dashboard (the status's target and the cut note's link)."""


@dataclass(frozen=True)
class Posted:
    comment: str
    """The forge's id of the plan comment."""
    created: bool
    """False when an existing plan comment was edited in place."""
    cut: bool


class Forge(Protocol):
    """A forge's REST API as the publisher uses it; every method raises ``ForgeError`` on failure."""

    name: str
    limit: int
    """The longest comment body the forge accepts, in characters."""

    def find_comment(self, number: int, marker: str) -> str | None: ...

    def create_comment(self, number: int, body: str) -> str: ...

    def update_comment(self, number: int, comment: str, body: str) -> None: ...

    def set_status(self, sha: str, state: CheckState, *, description: str, link: str) -> None: ...

    def open_pull_requests(self) -> Sequence[PullRequest]: ...


def fit(body: str, *, limit: int, link: str = "") -> tuple[str, bool]:
    """``body`` within ``limit`` characters (cut at a line, fences closed, with a note); and whether it was cut."""
    if len(body) <= limit:
        return body, False
    where = f" The full plan is on the dashboard: {link}" if link.startswith(("https://", "http://")) else ""
    note = f"\n\n_Cut at the forge's limit of {limit} characters: {{cut}} more line(s) not shown.{where}_\n"
    room = limit - len(note) - 40
    lines = body.splitlines()
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > room:
            break
        kept.append(line)
        used += len(line) + 1
    closer = _open_fence(kept)
    shown = "\n".join([*kept, *([closer] if closer else [])])
    return shown + note.format(cut=len(lines) - len(kept)), True


def _open_fence(lines: Sequence[str]) -> str:
    """The fence to close with when ``lines`` end inside a code block, else ""."""
    fence = ""
    for line in lines:
        found = _FENCE.match(line)
        if found and not fence:
            fence = found.group(1)
        elif fence and line.strip() == fence:
            fence = ""
    return fence
