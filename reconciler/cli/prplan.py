"""``stackfleet plan --base REF --head REF``: the plan of a pull request, as the daemon would post it.

Both refs are read from the same Git fleet repo (``--fleet URL`` or a local repo directory). Exit codes
as for ``plan``: 0 the pull request changes nothing, 2 it changes something, 1 an error (a bundle failed
to render at the head, a cluster could not be read).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler.cli.options import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, planning_errors
from reconciler.core import prplan_views
from reconciler.engine import pullrequests, sessions
from reconciler.kube.connections import ClientSettings
from reconciler.source import opening
from reconciler.spec import loader
from reconciler.spec.loader import FleetRepo


@dataclass(frozen=True)
class Request:
    fleet: str
    base: str | None
    head: str | None
    kubeconfig: str | None
    state: str
    settings: ClientSettings
    output: str
    detail: bool
    refused: str = ""
    """Options given that do not combine with ``--base``/``--head``."""


def run(request: Request) -> None:
    if not (request.base and request.head):
        raise click.UsageError("--base and --head go together")
    if request.refused:
        raise click.UsageError(f"{request.refused} cannot be combined with --base/--head")
    base, head = load_ref(request.fleet, request.base), load_ref(request.fleet, request.head)
    session = sessions.open_session(head, kubeconfig=request.kubeconfig, state=request.state,
                                    settings=request.settings)
    try:
        reviewed = pullrequests.plan(base, head, session=session)
    finally:
        sessions.close(session)
    click.echo(_view(reviewed, output=request.output, detail=request.detail), nl=False)
    raise click.exceptions.Exit(_exit_code(reviewed))


def load_ref(fleet: str, ref: str) -> FleetRepo:
    """The fleet repo at ``ref`` of the Git repo ``fleet`` (a URL, or a local repo directory)."""
    url, given = opening.split_ref(fleet) if not os.path.isdir(fleet) else (Path(fleet).resolve().as_uri(), None)
    if given:
        raise click.BadParameter("give the refs with --base/--head, not in the URL", param_hint="--fleet")
    return loader.load(opening.open_fleet(f"{url}@{ref}").tree)


def _view(reviewed: pullrequests.Reviewed, *, output: str, detail: bool) -> str:
    if output == "json":
        return prplan_views.json(reviewed.pr)
    if output == "markdown":
        return prplan_views.markdown(reviewed.pr)
    return prplan_views.text(reviewed.pr, detail=detail)


def _exit_code(reviewed: pullrequests.Reviewed) -> int:
    found = planning_errors(reviewed.head)
    for error in found:
        click.echo(f"error: {error}", err=True)
    if found:
        return EXIT_ERROR
    return EXIT_CHANGES if reviewed.pr.has_changes else EXIT_OK
