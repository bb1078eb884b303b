"""``stackfleet schema``: print or write the JSON Schema files of the fleet repo format."""

from __future__ import annotations

import json
from pathlib import Path

import click

from reconciler.cli.options import EXIT_ERROR
from reconciler.spec import schemas


def render(schema: dict[str, object]) -> str:
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


@click.command("schema")
@click.option("--write", is_flag=True, help="Write the files into --dir instead of printing them.")
@click.option("--check", is_flag=True, help="Exit 1 if the files in --dir are missing or stale.")
@click.option("--dir", "directory", default="schemas", show_default=True, type=click.Path(file_okay=False))
def command(write: bool, check: bool, directory: str) -> None:
    """JSON Schema files for Fleet, Cluster and Stack documents, generated from the models."""
    generated = {name: render(s) for name, s in schemas.generate_all().items()}
    root = Path(directory)
    if check:
        stale = [
            n for n, text in generated.items() if not (root / n).is_file() or (root / n).read_text() != text
        ]
        if stale:
            click.echo(f"stale or missing: {', '.join(stale)} (run: stackfleet schema --write)", err=True)
            raise click.exceptions.Exit(EXIT_ERROR)
        click.echo(f"{len(generated)} schema files up to date in {root}/")
        return
    if write:
        root.mkdir(parents=True, exist_ok=True)
        for name, text in generated.items():
            (root / name).write_text(text)
        click.echo(f"wrote {len(generated)} schema files to {root}/")
        return
    click.echo(json.dumps(schemas.generate_all(), indent=2))
