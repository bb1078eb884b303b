"""What ``stackfleet approve|pause|resume|heal`` share: they talk to a running daemon's ``/api/v1``
(``--server URL``) with a token from ``STACKFLEET_TOKEN`` or ``--token-file``, never to its database.

The token is sent as ``Authorization: Bearer`` and never printed. A refusal (401, 403, 404, 503)
comes out as a ``DaemonError`` with the daemon's own words, and the exit code 1.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx

from reconciler.errors import ConfigError, DaemonError

F = TypeVar("F", bound=Callable[..., Any])
TOKEN_ENV = "STACKFLEET_TOKEN"
SERVER_ENV = "STACKFLEET_SERVER"


def server_options(func: F) -> F:
    """``--server URL`` (or ``STACKFLEET_SERVER``) and ``--token-file PATH`` (else ``STACKFLEET_TOKEN``)."""
    func = click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help=f"File holding the access token (default: the {TOKEN_ENV} environment variable).")(func)
    return click.option("--server", envvar=SERVER_ENV, required=True, metavar="URL",
                        help=f"The running daemon's dashboard URL (or {SERVER_ENV}).")(func)


def token_of(token_file: Path | None, env: Mapping[str, str] = os.environ) -> str:
    if token_file is not None:
        try:
            token = token_file.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the token file: {exc.strerror}", file=str(token_file)) from None
    else:
        token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(f"no access token: set {TOKEN_ENV} or pass --token-file")
    return token


def post(server: str, path: str, *, token: str, data: Mapping[str, str] | None = None) -> dict[str, Any]:
    """POST ``path`` on the daemon; its JSON answer, or a ``DaemonError`` saying why not."""
    url = server.rstrip("/") + path
    try:
        answer = httpx.post(url, data=dict(data or {}), headers={"Authorization": f"Bearer {token}"}, timeout=120)
    except httpx.HTTPError as exc:
        raise DaemonError(f"cannot reach the daemon: {type(exc).__name__}", server=server, path=path) from None
    if answer.status_code >= 400:
        raise DaemonError(f"the daemon answered {answer.status_code}: {_said(answer)}", server=server, path=path)
    found: dict[str, Any] = answer.json()
    return found


def _said(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("error", answer.text))
    except (ValueError, AttributeError):
        return answer.text[:200]


def echo(found: Mapping[str, Any], *, output: str, line: str) -> None:
    click.echo(json.dumps(found, indent=2, sort_keys=True) if output == "json" else line)
