"""Structured logging: JSON lines by default, readable console lines on a terminal, never a secret.

``configure()`` routes structlog and the standard ``logging`` module (uvicorn, APScheduler, ...)
through one handler. Every event passes ``redact`` last before rendering, so secret-looking values
(keys like token/password/secret/authorization/kubeconfig, ``Bearer ...``, URL userinfo, and every
value registered with ``register_secret``) are masked in messages, fields and tracebacks alike.

Lines about a cluster, bundle or object carry them as fields::

    log = logs.about_object(logs.get(), cluster="eu-1", bundle=bundle_id, key=object_key)
    log.info("applied", action="update")
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from reconciler import redactions
from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey

Format = Literal["auto", "json", "console"]
HANDLER_NAME = "stackfleet"


class Redact:
    """A structlog processor masking secrets in every field of an event (see ``redactions``)."""

    def __init__(self, redactor: redactions.Redactor) -> None:
        self.redactor = redactor

    def __call__(self, logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
        scrubbed: dict[str, Any] = self.redactor.data({k: _plain(v) for k, v in event.items()})
        return scrubbed


def _plain(value: Any) -> Any:
    """Values as JSON-like data, so the redactor sees inside them (objects become their text)."""
    if value is None or isinstance(value, bool | int | float | str | dict | list | tuple):
        return value
    return str(value)


def configure(
    *,
    level: str = "info",
    stream: TextIO | None = None,
    output: Format = "auto",
    redactor: redactions.Redactor | None = None,
) -> None:
    """Send every log line (structlog and stdlib) to ``stream`` (stderr), rendered and redacted."""
    out = stream or sys.stderr
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        processors=_final(console=_wants_console(output, out), colors=wants_color(out),
                          redactor=redactor or redactions.DEFAULT),
    )
    handler = logging.StreamHandler(out)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != HANDLER_NAME] + [handler]
    root.setLevel(level.upper())
    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _final(*, console: bool, colors: bool, redactor: redactions.Redactor) -> list[Processor]:
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=colors) if console else structlog.processors.JSONRenderer()
    )
    return [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info,
        Redact(redactor),
        renderer,
    ]


def _wants_console(output: Format, stream: TextIO) -> bool:
    if output != "auto":
        return output == "console"
    return _is_terminal(stream)


def wants_color(stream: TextIO) -> bool:
    """Colour only on a terminal and never with ``NO_COLOR`` set to anything non-empty (no-color.org)."""
    return _is_terminal(stream) and not os.environ.get("NO_COLOR")


def _is_terminal(stream: TextIO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def register_secret(value: str) -> None:
    """Mask ``value`` (and its base64 form) in every log line and store row from now on."""
    redactions.DEFAULT.register(value)


def get(name: str = "stackfleet", **fields: Any) -> Any:
    """A bound logger, with ``fields`` on every line."""
    return structlog.get_logger(name).bind(**fields)


def about_cluster(logger: Any, cluster: str) -> Any:
    return logger.bind(cluster=cluster)


def about_bundle(logger: Any, *, cluster: str, bundle: BundleId) -> Any:
    return logger.bind(cluster=cluster, bundle=str(bundle))


def about_object(logger: Any, *, cluster: str, bundle: BundleId, key: ObjectKey) -> Any:
    return logger.bind(cluster=cluster, bundle=str(bundle), object=str(key))


@contextmanager
def scope(**fields: Any) -> Iterator[None]:
    """Put ``fields`` on every line logged in this context (thread or task), e.g. a job's cluster."""
    with structlog.contextvars.bound_contextvars(**fields):
        yield


def bound_fields(logger: Any) -> MutableMapping[str, Any]:
    """The fields bound to ``logger`` (for tests and debugging)."""
    return dict(structlog.get_context(logger))
