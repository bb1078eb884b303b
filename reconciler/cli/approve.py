"""``stackfleet approve ASSIGNMENT/STAGE --server URL``: approve a rollout stage on the running daemon."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import click

from reconciler.cli import remote
from reconciler.cli.options import output_option


@click.command("approve")
@click.argument("stage", metavar="ASSIGNMENT/STAGE")
@remote.server_options
@output_option("text", "json")
def command(stage: str, server: str, token_file: Path | None, output: str) -> None:
    """Approve a rollout stage (for example platform-stable/prod-rest); the daemon applies it at once."""
    assignment, _, name = stage.partition("/")
    if not assignment or not name:
        raise click.BadParameter("give the stage as ASSIGNMENT/STAGE", param_hint="STAGE")
    path = f"/api/v1/assignments/{quote(assignment, safe='')}/stages/{quote(name, safe='')}/approve"
    found = remote.post(server, path, token=remote.token_of(token_file))
    remote.echo(found, output=output, line=f"approved {stage} as {found.get('approvedBy', '?')}")
