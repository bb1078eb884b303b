"""``stackfleet heal CLUSTER [--bundle STACK/BUNDLE] [--object KEY] --server URL``: re-apply drifted
objects on the running daemon, whatever their bundle's ``selfHeal`` says."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import click

from reconciler.cli import remote
from reconciler.cli.options import output_option


@click.command("heal")
@click.argument("cluster")
@click.option("--bundle", default=None, metavar="STACK/BUNDLE", help="Only this bundle's drifted objects.")
@click.option("--object", "key", default=None, metavar="KEY", help="Only this object (as the drift report names it).")
@remote.server_options
@output_option("text", "json")
def command(cluster: str, bundle: str | None, key: str | None, server: str, token_file: Path | None,
            output: str) -> None:
    """Put a cluster's drifted objects back as the fleet repo says."""
    fields = {k: v for k, v in (("bundle", bundle), ("object", key)) if v}
    found = remote.post(server, f"/api/v1/clusters/{quote(cluster, safe='')}/heal", token=remote.token_of(token_file),
                        data=fields)
    remote.echo(found, output=output, line=f"healed {found.get('healed', 0)} object(s) on {cluster}")
