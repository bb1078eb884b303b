"""``stackfleet plan``: what applying the fleet would change, per cluster and bundle.

Exit codes (like ``terraform plan -detailed-exitcode``): 0 nothing to do, 2 there are changes, 1 an
error (a bundle failed to render, a cluster could not be read, or the command failed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import yaml

from reconciler.cli import consoles, prplan, targets
from reconciler.cli.options import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    F,
    fleet_option,
    kubeconfig_option,
    output_option,
    planning_errors,
)
from reconciler.core import plan_views, plans, signatures
from reconciler.engine import reconcile, serverdryruns, sessions
from reconciler.kube.connections import ClientSettings
from reconciler.source import opening


def state_option(func: F) -> F:
    """``--state PATH``: the state store (inventory, runs)."""
    return click.option("--state", default=sessions.DEFAULT_STATE, show_default=True, envvar="STACKFLEET_STATE",
                        metavar="PATH", help="State store: a SQLite file path or database URL.")(func)


def plugins_option(func: F) -> F:
    """``--allow-plugin NAME``: kubeconfig exec/auth-provider plugins the operator trusts."""
    return click.option("--allow-plugin", "plugins", multiple=True, metavar="NAME",
                        help="Allow this kubeconfig exec command (exactly as the kubeconfig names it: a bare "
                             "name or a full path) or auth-provider (repeatable).")(func)


def settings_of(plugins: tuple[str, ...]) -> ClientSettings:
    return ClientSettings(allowed_plugins=frozenset(plugins))


def forced_of(opened: opening.Opened, session: reconcile.Session) -> bool:
    """Whether the fleet's commit does not descend from the store's last applied revision (a force-push)."""
    last = session.store.runs.last_succeeded()
    return opened.forced_from(last.revision if last else None)


def cluster_option(func: F) -> F:
    """``--cluster C``: only some fleet clusters."""
    return click.option("--cluster", "clusters", multiple=True, metavar="C",
                        help="Only fleet cluster C (repeatable); its management-cluster bundles included.")(func)


@click.command("plan")
@fleet_option
@kubeconfig_option
@cluster_option
@targets.context_option
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the plan artifact (JSON, authenticated with the state store's key) here.")
@output_option("text", "markdown", "json", "yaml")
@click.option("--detail", is_flag=True, help="Show the diff of every step.")
@click.option("--server-dry-run", is_flag=True, help="Confirm every change with a server-side dry-run.")
@click.option("--base", default=None, metavar="REF", help="With --head: plan a pull request from this base ref.")
@click.option("--head", default=None, metavar="REF", help="With --base: the pull request's head ref.")
@state_option
@plugins_option
def command(fleet: str, path: str, kubeconfig: str | None, clusters: tuple[str, ...], contexts: tuple[str, ...],
            out: str | None, output: str, detail: bool, server_dry_run: bool, base: str | None, head: str | None,
            state: str, plugins: tuple[str, ...]) -> None:
    """Plan the fleet: render, observe the clusters, diff. Exit 0 nothing to do, 2 changes, 1 error.

    With ``--base REF --head REF`` (a Git fleet repo): the pull request's plan, what the head changes
    against the base apart from what is already so, computed with the state in ``--state``.
    """
    if base or head:
        refused = _pr_refused(clusters=clusters + contexts, out=out, server_dry_run=server_dry_run, path=path)
        prplan.run(prplan.Request(fleet=fleet, base=base, head=head, kubeconfig=kubeconfig, state=state,
                                  settings=settings_of(plugins), output=output, detail=detail, refused=refused))
        return
    opened, repo = targets.load(fleet, path=path)
    clusters = targets.pick(repo, clusters=clusters, contexts=contexts)
    session = targets.open_session(repo, kubeconfig=kubeconfig, state=state, settings=settings_of(plugins))
    try:
        with consoles.planning(consoles.console(sys.stderr), clusters=len(clusters or repo.clusters)) as on_phase:
            planned = reconcile.plan_fleet(repo, session=session, clusters=clusters,
                                           forced=forced_of(opened, session), on_phase=on_phase)
        confirmed = serverdryruns.Confirmed(planned)
        if server_dry_run:
            confirmed = serverdryruns.confirm(confirmed.planned, session=session)
        if out:
            signed = signatures.to_json(confirmed.planned.plan, key=session.store.keys.plan_key())
            Path(out).write_text(signed, encoding="utf-8")
    finally:
        sessions.close(session)
    if output == "text":
        consoles.print_plan(consoles.console(), confirmed.planned.plan, detail=detail)
    else:
        click.echo(_view(confirmed.planned.plan, output=output), nl=False)
    raise click.exceptions.Exit(_exit_code(confirmed.planned, errors=confirmed.errors))


def _pr_refused(*, clusters: tuple[str, ...], out: str | None, server_dry_run: bool, path: str) -> str:
    """Options that do not combine with ``--base``/``--head`` (empty when none was given)."""
    given = [name for name, on in (("--cluster/--context", clusters), ("--out", out), ("--server-dry-run", server_dry_run),
                                   ("--path", path)) if on]
    return ", ".join(given)


def _view(plan: plans.Plan, *, output: str) -> str:
    """The plan as a document: JSON (the artifact), YAML (the same document) or Markdown."""
    if output == "yaml":
        return yaml.safe_dump(json.loads(plan_views.json(plan)), sort_keys=False, allow_unicode=True)
    return plan_views.markdown(plan) if output == "markdown" else plan_views.json(plan)


def _exit_code(planned: reconcile.Planned, *, errors: tuple[str, ...]) -> int:
    found = [*planning_errors(planned), *(f"server dry-run: {error}" for error in errors)]
    for error in found:
        click.echo(f"error: {error}", err=True)
    if found:
        return EXIT_ERROR
    return EXIT_CHANGES if planned.plan.has_changes else EXIT_OK
