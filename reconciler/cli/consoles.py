"""Terminal output of the CLI through rich: consoles, tables, plan views, progress.

The core returns rows and plain lines (``core.plan_views``); this edge decides how they look. A console
writes colour and rich tables only to a terminal, never with ``NO_COLOR`` set (rich reads it, as
no-color.org asks) and never with ``TERM=dumb``; redirected to a file or a pipe the output is the plain
text of ``core.plan_views``, with no ANSI codes, so logs and scripts read the same text every time.
Long work shows progress on a terminal only: the phases of a fleet plan (``planning``), apply steps.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from reconciler.core import plan_views, plans
from reconciler.core.statuses import PlanPhase

DIFF_STYLES = {
    plan_views.DiffLine.HEADER: "bold",
    plan_views.DiffLine.HUNK: "cyan",
    plan_views.DiffLine.ADDED: "green",
    plan_views.DiffLine.REMOVED: "red",
    plan_views.DiffLine.CONTEXT: "",
}


def console(stream: TextIO | None = None) -> Console:
    """A console on ``stream`` (default stdout); off a terminal, lines are never wrapped or cut."""
    target = stream or sys.stdout
    made = Console(file=target, highlight=False, soft_wrap=True)
    if not made.is_terminal:
        made = Console(file=target, highlight=False, soft_wrap=True, width=100_000, color_system=None)
    return made


def styled(out: Console) -> bool:
    """Whether ``out`` gets rich tables and styles (a terminal), or the plain text views."""
    return out.is_terminal and not out.is_dumb_terminal


def print_table(out: Console, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table: rich's on a terminal, plain aligned columns (``plan_views.aligned``) otherwise."""
    if not styled(out):
        for line in plan_views.aligned([header, *rows]):
            out.print(line, markup=False)
        return
    table = Table(*header, box=None, header_style="bold", pad_edge=False)
    for row in rows:
        table.add_row(*row)
    out.print(table)


def print_plan(out: Console, plan: plans.Plan, *, detail: bool) -> None:
    """The plan's text view: ``plan_views.text`` as it is off a terminal, styled with a rich table on one."""
    if not styled(out):
        out.print(plan_views.text(plan, detail=detail), end="", markup=False)
        return
    out.print(Text(plan_views.headline(plan), style="bold"))
    out.print()
    table = plan_views.summary_table(plan)
    if table.rows:
        print_table(out, table.header, table.rows)
    if table.unchanged:
        out.print(table.unchanged, markup=False)
    _section(out, "Kubernetes versions:", [f"  {line}" for line in plan_views.version_lines(plan)])
    _section(out, "Steps:", [plan_views.step_line(c) for c in plan.steps])
    _section(out, "Held back:", [plan_views.held_line(c) for c in plan_views.held_changes(plan)])
    if detail:
        for change in plan.steps:
            out.print()
            out.print(Text(plan_views.step_line(change).strip(), style="bold"))
            for kind, line in plan_views.diff_lines(change.diff):
                out.print(Text(line, style=DIFF_STYLES[kind]))


def _section(out: Console, title: str, lines: list[str]) -> None:
    if not lines:
        return
    out.print()
    out.print(Text(title, style="bold"))
    for line in lines:
        out.print(line, markup=False)


PHASES = {
    PlanPhase.RENDER: "rendering the fleet",
    PlanPhase.OBSERVE: "reading the clusters",
    PlanPhase.PLAN: "planning",
}


@contextmanager
def planning(out: Console, *, clusters: int) -> Iterator[Callable[[PlanPhase], None]]:
    """A progress bar over the phases of a fleet plan, on a terminal only; yields ``plan_fleet``'s ``on_phase``."""
    if not styled(out):
        yield lambda _: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=out,
                  transient=True) as bar:
        task = bar.add_task(f"{clusters} cluster(s)", total=len(PHASES))
        started: list[PlanPhase] = []

        def on_phase(phase: PlanPhase) -> None:
            bar.update(task, completed=len(started), description=f"{clusters} cluster(s): {PHASES[phase]}")
            started.append(phase)

        yield on_phase
