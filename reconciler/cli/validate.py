"""``stackfleet validate``: check a fleet repo and print every problem, or a one-line summary."""

from __future__ import annotations

import json

import click

from reconciler.cli.options import EXIT_ERROR, output_option
from reconciler.errors import ValidationFailed
from reconciler.source import opening
from reconciler.spec import loader


@click.command("validate")
@click.argument("target", required=False, metavar="[PATH|GIT_URL[@REF]]")
@click.option(
    "--fleet", "fleet", default=None, metavar="PATH|GIT_URL[@REF]", help="Fleet repo (same as TARGET)."
)
@output_option("text", "json")
def command(target: str | None, fleet: str | None, output: str) -> None:
    """Validate a fleet repo: exit 0 when valid, 1 with every problem (file:line) when not."""
    where = target or fleet or "."
    tree = opening.open_tree(where)
    try:
        repo = loader.load(tree)
    except ValidationFailed as exc:
        _print_problems(exc, where=where, output=output)
        raise click.exceptions.Exit(EXIT_ERROR) from None
    if output == "json":
        click.echo(
            json.dumps({"valid": True, "revision": repo.revision, "summary": repo.summary()}, indent=2)
        )
    else:
        click.echo(f"{where}: valid: {repo.summary()}")


def _print_problems(exc: ValidationFailed, *, where: str, output: str) -> None:
    if output == "json":
        body = {"valid": False, "problems": [p.to_dict() for p in exc.problems]}
        click.echo(json.dumps(body, indent=2))
        return
    for problem in exc.problems:
        click.echo(f"{problem}  [{problem.rule}]")
    click.echo(f"{where}: invalid: {len(exc.problems)} problem(s)", err=True)
