"""``stackfleet pause|resume (--cluster NAME | --assignment NAME) --server URL``: hold or release a
cluster or an assignment on the running daemon."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import click

from reconciler.cli import remote
from reconciler.cli.options import output_option


def _target(cluster: str | None, assignment: str | None) -> str:
    if (cluster is None) == (assignment is None):
        raise click.UsageError("name exactly one of --cluster and --assignment")
    if cluster is not None:
        return f"/api/v1/clusters/{quote(cluster, safe='')}"
    return f"/api/v1/assignments/{quote(assignment or '', safe='')}"


def _hold(verb: str) -> click.Command:
    @click.command(verb)
    @click.option("--cluster", default=None, help="The cluster to hold or release.")
    @click.option("--assignment", default=None, help="The assignment to hold or release (every stage of it).")
    @remote.server_options
    @output_option("text", "json")
    def hold(cluster: str | None, assignment: str | None, server: str, token_file: Path | None, output: str) -> None:
        found = remote.post(server, f"{_target(cluster, assignment)}/{verb}", token=remote.token_of(token_file))
        remote.echo(found, output=output, line=f"{verb}d {cluster or assignment}")

    hold.help = f"{verb.capitalize()} a cluster or an assignment on the running daemon."
    return hold


pause = _hold("pause")
resume = _hold("resume")
