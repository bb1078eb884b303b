"""Jinja filters for the templates: times (absolute and relative), short revisions, state labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from reconciler.core import escapes
from reconciler.web import states


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "—"


def ago(value: datetime | None, now: datetime) -> str:
    """``3m ago``, ``2h ago``, ``5d ago`` (``—`` when unknown)."""
    if value is None:
        return "—"
    seconds = int((now - value).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def short_revision(revision: str) -> str:
    """``main@sha1:0123456789ab...`` -> ``main@0123456789ab``."""
    ref, _, sha = revision.partition("@sha1:")
    return f"{ref}@{sha[:12]}" if sha else revision


def state_label(value: Any) -> str:
    state = value if isinstance(value, states.State) else states.parse(str(value))
    return states.LABELS.get(state, str(value)) if state is not None else str(value)


def visible(value: Any) -> Any:
    """Every value a template prints, with bidi overrides, zero-width and control characters shown as
    ``<U+hhhh>`` (``escapes.visible``); the environment's ``finalize``, so no template can forget it."""
    if isinstance(value, Markup):
        return Markup(escapes.visible(str(value), shown_as="&lt;U+{:04X}&gt;"))
    if isinstance(value, str):
        return escapes.visible(value)
    return value


def install(env: Environment) -> None:
    env.filters.update(when=when, ago=ago, short_revision=short_revision, state_label=state_label)
