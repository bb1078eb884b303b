"""``stackfleet drift``: compare live objects with what stackfleet last applied, and report the drift.

It reads the applied objects from the state store (``stackfleet apply`` and the daemon record them),
observes the clusters once, records the result in the store (first-seen times are kept), prints it,
and with ``--heal`` re-applies the drifted objects of bundles that have ``selfHeal: true``.

Exit codes: 0 no drift, 2 drift found, 1 an error (including a cluster that could not be read).
"""

from __future__ import annotations

from datetime import UTC, datetime

import click

from reconciler.cli import targets
from reconciler.cli.options import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    fleet_option,
    kubeconfig_option,
    output_option,
)
from reconciler.cli.plan import cluster_option, state_option
from reconciler.core import drift_views, targeting
from reconciler.core.drift import Report
from reconciler.engine import drift, reconcile, sessions


@click.command("drift")
@fleet_option
@kubeconfig_option
@cluster_option
@targets.context_option
@output_option("text", "markdown", "json")
@click.option("--detail", is_flag=True, help="Show the diff of every drifted object (text output).")
@click.option("--heal", is_flag=True, help="Re-apply the drifted objects of selfHeal bundles.")
@state_option
def command(fleet: str, path: str, kubeconfig: str | None, clusters: tuple[str, ...], contexts: tuple[str, ...],
            output: str, detail: bool, heal: bool, state: str) -> None:
    """Report drift from the last applied state. Exit 0 none, 2 drift, 1 error."""
    _, repo = targets.load(fleet, path=path)
    clusters = targets.pick(repo, clusters=clusters, contexts=contexts)
    session = targets.open_session(repo, kubeconfig=kubeconfig, state=state)
    try:
        built = targeting.build(repo)
        report = drift.scan(session.store, connections=session.connections, fleet_name=repo.name,
                            policies=drift.policies_of(built), now=datetime.now(UTC), clusters=clusters,
                            health_rules=reconcile.health_rules(repo))
        healed = drift.heal(report, repo=repo, session=session, targets=built) if heal else None
    finally:
        sessions.close(session)
    click.echo(_view(report, output=output, detail=detail), nl=False)
    if healed is not None:
        click.echo(f"self-heal: run {healed.run_id} made {healed.writes} write(s)", err=True)
    raise click.exceptions.Exit(_exit_code(report))


def _view(report: Report, *, output: str, detail: bool) -> str:
    if output == "json":
        return drift_views.json(report)
    if output == "markdown":
        return drift_views.markdown(report)
    return drift_views.text(report, detail=detail)


def _exit_code(report: Report) -> int:
    if not report.checked and not report.unreachable:
        click.echo("note: nothing is recorded as applied in this state store yet (run stackfleet apply)", err=True)
    for name, why in sorted(report.unreachable.items()):
        click.echo(f"error: cluster {name} could not be scanned: {why}", err=True)
    if report.unreachable:
        return EXIT_ERROR
    return EXIT_CHANGES if report.drifted else EXIT_OK
