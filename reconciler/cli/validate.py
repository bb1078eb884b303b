"""``stackfleet validate``: check a fleet repo and print every problem, or a one-line summary.

The repo is loaded (schema, references, rollouts: every problem with ``file:line (field)``) and then
rendered dry, every bundle for every cluster, without reaching a cluster (``--no-render`` skips it):
what ``render`` and ``plan`` would reject, such as an undefined ``${values.*}`` or a chart template
error, fails ``validate`` too, and so does an object a guard rail of ``policy.guards`` refuses (reported
at the ``stack.yaml`` line of the bundle rendering it, rule ``guard:<name>``). A directory that is not
a fleet repo fails.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from reconciler.cli.options import EXIT_ERROR, output_option, path_option
from reconciler.core import guards
from reconciler.core.desired import DesiredBundle, RenderFailure
from reconciler.errors import Problem, ValidationFailed
from reconciler.source import opening
from reconciler.spec import loader

if TYPE_CHECKING:
    from reconciler.render import fleet


@click.command("validate")
@click.argument("target", required=False, metavar="[PATH|GIT_URL[@REF[:DIR]]]")
@click.option(
    "--fleet", "fleet", default=None, metavar="PATH|GIT_URL[@REF[:DIR]]", help="Fleet repo (same as TARGET)."
)
@path_option
@click.option("--render/--no-render", "dry_render", default=True, show_default=True,
              help="Also render every bundle (no cluster is reached), as render and plan would.")
@output_option("text", "json")
def command(target: str | None, fleet: str | None, path: str, dry_render: bool, output: str) -> None:
    """Validate a fleet repo: exit 0 when valid, 1 with every problem (file:line) when not."""
    where = target or fleet or "."
    tree = opening.open_tree(where, path=path)
    try:
        repo = loader.load(tree)
    except ValidationFailed as exc:
        _print_problems(exc, where=where, output=output)
        raise click.exceptions.Exit(EXIT_ERROR) from None
    rendered = _dry_render(repo) if dry_render else None
    failures = rendered.failures if rendered is not None else ()
    if failures:
        _print_failures(failures, where=where, output=output)
        raise click.exceptions.Exit(EXIT_ERROR)
    refused = guards.violations(rendered.bundles, guards.of_spec(repo.fleet.model.spec.policy.guards)) \
        if rendered is not None else []
    if refused:
        _print_problems(ValidationFailed([_guard_problem(repo, b, v) for b, v in refused]), where=where, output=output)
        raise click.exceptions.Exit(EXIT_ERROR)
    if output == "json":
        click.echo(
            json.dumps({"valid": True, "revision": repo.revision, "summary": repo.summary()}, indent=2)
        )
    else:
        click.echo(f"{where}: valid: {repo.summary()}")


def _dry_render(repo: loader.FleetRepo) -> fleet.FleetRender:
    from reconciler.cli import render  # the Helm engine loads only when a fleet is rendered
    from reconciler.render.capabilities import DEFAULT_KUBE_VERSION

    options = render.fleet_options(kube_version=DEFAULT_KUBE_VERSION, api_versions=(), cache_dir=None, plain_http=())
    return render.fleet_render(repo, options=options, clusters=(), bundles=())


def _guard_problem(repo: loader.FleetRepo, bundle: DesiredBundle, found: guards.Violation) -> Problem:
    """A guard violation located at the stack.yaml entry of the bundle that renders the object."""
    located = repo.stacks[bundle.id.stack][bundle.version]
    index = next(i for i, b in enumerate(located.model.spec.bundles) if b.name == bundle.id.bundle)
    return Problem(located.at("spec", "bundles", index), f"cluster {bundle.dest}: {found.message}",
                   rule=f"guard:{found.rule.value}")


def _print_problems(exc: ValidationFailed, *, where: str, output: str) -> None:
    if output == "json":
        body = {"valid": False, "problems": [p.to_dict() for p in exc.problems]}
        click.echo(json.dumps(body, indent=2))
        return
    for problem in exc.problems:
        click.echo(f"{problem}  [{problem.rule}]")
    click.echo(f"{where}: invalid: {len(exc.problems)} problem(s)", err=True)


def _print_failures(failures: tuple[RenderFailure, ...], *, where: str, output: str) -> None:
    if output == "json":
        rows = [{"cluster": f.dest, "stack": f.id.stack, "bundle": f.id.bundle, "rule": "render", "message": f.error}
                for f in failures]
        click.echo(json.dumps({"valid": False, "problems": rows}, indent=2))
        return
    for failure in failures:
        click.echo(f"{failure.dest}: {failure.error}  [render]")
    click.echo(f"{where}: invalid: {len(failures)} bundle(s) do not render", err=True)
