"""``stackfleet apply``: apply a saved plan exactly, or plan and apply after a confirmation.

With ``--plan FILE`` the plan is applied as it is: refused when its MAC does not match (edited, or
made with another state store), as stale if the fleet revision or any live object it recorded moved,
and when a step is not one a fresh plan makes now (say, a delete of an object we do not own). Without it the fleet is planned, the plan shown, and applied after a
confirmation (or ``--yes``). Progress is shown per cluster (a progress bar on a terminal, plain lines
otherwise), then a summary table. Exit 0: every cluster succeeded or had nothing to do; 2: the rollout
stopped short (awaiting approval, a pause, halted, paused clusters); 1: a cluster failed or an error.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler.cli import consoles, targets
from reconciler.cli.options import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    fleet_option,
    kubeconfig_option,
    output_option,
)
from reconciler.cli.plan import (
    cluster_option,
    forced_of,
    plugins_option,
    settings_of,
    state_option,
)
from reconciler.core import rollout, signatures
from reconciler.engine import apply, fleetrun, reconcile, sessions
from reconciler.spec import loader


@click.command("apply")
@click.option("--plan", "plan_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Apply exactly this saved plan (from `stackfleet plan --out`).")
@fleet_option
@kubeconfig_option
@cluster_option
@targets.context_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--approve", is_flag=True, help="Also run steps that need approval (protected kinds, prune budget).")
@click.option("--approve-stage", "stages", multiple=True, metavar="STAGE",
              help="Approve rollout stage STAGE (or ASSIGNMENT/STAGE) for this run (repeatable).")
@click.option("--wait-pauses", type=float, default=0.0, show_default=True, metavar="SECONDS",
              help="Wait out rollout pauses up to this long; a longer pause stops the run there.")
@output_option("text", "json")
@state_option
@plugins_option
def command(plan_file: str | None, fleet: str, path: str, kubeconfig: str | None, clusters: tuple[str, ...],
            contexts: tuple[str, ...], yes: bool, approve: bool, stages: tuple[str, ...], wait_pauses: float,
            output: str, state: str, plugins: tuple[str, ...]) -> None:
    """Apply the fleet (or a saved plan) with server-side apply, rolling out stage by stage."""
    opened, repo = targets.load(fleet, path=path)
    clusters = targets.pick(repo, clusters=clusters, contexts=contexts)
    session = targets.open_session(repo, kubeconfig=kubeconfig, state=state, settings=settings_of(plugins))
    try:
        options = reconcile.ApplyOptions(approve=approve, heal=True, rollout=fleetrun.Options(
            approved=frozenset(stages), pause_limit=wait_pauses))  # a person's apply puts drift back
        result = _run(repo, session, plan_file=plan_file, clusters=clusters, yes=yes, options=options,
                      output=output, forced=forced_of(opened, session))
    finally:
        sessions.close(session)
    if result.report is not None and output == "json":
        click.echo(_summary_json(result.report), nl=False)
    elif result.report is not None and result.changed:
        _print_summary(result.report)
    elif output == "json":
        click.echo(json.dumps({"run": None, "revision": repo.revision, "writes": 0, "applied": False,
                               "reason": result.reason, "clusters": []}, indent=2))
    if result.report is None:
        raise click.exceptions.Exit(EXIT_ERROR)
    raise click.exceptions.Exit(_exit_code(result.report.outcomes) if result.changed else EXIT_OK)


@dataclass(frozen=True)
class Ran:
    """What ``_run`` did: the report (``None`` when nothing was applied) and why not, if so."""

    report: reconcile.ApplyReport | None
    changed: bool = True
    reason: str = ""


def _run(repo: loader.FleetRepo, session: reconcile.Session, *, plan_file: str | None, clusters: tuple[str, ...],
         yes: bool, options: reconcile.ApplyOptions, output: str, forced: bool) -> Ran:
    if plan_file:
        saved = signatures.from_json(Path(plan_file).read_text(encoding="utf-8"), key=session.store.keys.plan_key())
        with _stepping(options, output=output) as stepping:
            return Ran(reconcile.apply_saved(saved, repo, session=session, options=stepping))
    with consoles.planning(consoles.console(sys.stderr), clusters=len(clusters or repo.clusters)) as on_phase:
        planned = reconcile.plan_fleet(repo, session=session, clusters=clusters, forced=forced, on_phase=on_phase)
    if output == "text":
        consoles.print_plan(consoles.console(), planned.plan, detail=False)
    if not planned.plan.has_changes:
        # applied all the same: it takes unchanged objects into the inventory
        return Ran(reconcile.apply_plan(planned, session=session, options=options), changed=False)
    if not yes and not click.confirm("Apply these changes?", default=False, err=True):
        return Ran(None, reason="declined at the confirmation")
    with _stepping(options, output=output) as stepping:
        return Ran(reconcile.apply_plan(planned, session=session, options=stepping))


@contextmanager
def _stepping(options: reconcile.ApplyOptions, *, output: str) -> Iterator[reconcile.ApplyOptions]:
    """``options`` reporting each step to the progress view while the block runs."""
    with _progress(output) as on_step:
        yield dataclasses.replace(options, on_step=on_step)


@contextmanager
def _progress(output: str) -> Iterator[Callable[[apply.StepResult], None]]:
    """Per-cluster progress: a rich bar per cluster on a terminal, plain lines otherwise."""
    err = consoles.console(sys.stderr)
    if output != "text" or not consoles.styled(err):
        yield _line if output == "text" else (lambda _: None)
        return
    from rich.progress import Progress, TaskID

    with Progress(console=err, transient=True) as bars:
        tasks: dict[str, TaskID] = {}

        def advance(result: apply.StepResult) -> None:
            unit = result.change.bundle.cluster
            task = tasks.setdefault(unit, bars.add_task(unit, total=None))
            bars.update(task, advance=1, description=f"{unit}: step {result.change.step} {result.outcome.value}")

        yield advance


def _line(result: apply.StepResult) -> None:
    change = result.change
    tail = f": {result.error}" if result.error else ""
    click.echo(f"[{change.bundle.cluster}] step {change.step} {change.action.value} {change.dest} "
               f"{change.key} -> {result.outcome.value}{tail}", err=True)


def _summary_json(result: reconcile.ApplyReport) -> str:
    rows = [{"cluster": o.cluster, "stage": o.stage, "result": o.result.value, "detail": o.detail,
             "writes": o.unit.writes if o.unit else 0} for o in result.outcomes]
    return json.dumps({"run": result.run_id, "revision": result.revision, "writes": result.writes,
                       "clusters": rows}, indent=2) + "\n"


def _print_summary(result: reconcile.ApplyReport) -> None:
    out = consoles.console()
    out.print(f"\nrun {result.run_id} at {result.revision}: {result.writes} write(s)", markup=False)
    rows = [(o.cluster, o.stage, o.result.value, str(o.unit.writes if o.unit else 0), o.detail[:100])
            for o in result.outcomes]
    consoles.print_table(out, ("cluster", "stage", "result", "writes", "detail"), rows)


def _exit_code(outcomes: Sequence[fleetrun.Outcome]) -> int:
    results = {o.result for o in outcomes}
    if results & rollout.FAILURES:
        return EXIT_ERROR
    return EXIT_OK if results <= rollout.SUCCESSES else EXIT_CHANGES
