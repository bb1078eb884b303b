"""Views of a Plan: terminal text, Markdown for pull requests, JSON. Pure string building.

- ``text(plan, detail=...)``: a summary table per cluster and bundle, the Kubernetes
  version changes ("Kubernetes v1.30.6 → v1.31.2 on prod-eu-1", ``core.upgrades``), the numbered steps
  (with what they wait for and why they need approval), what was held back and why, and with
  ``detail`` the unified diff of every step. Plain text: colour and terminal tables are the CLI's
  (``cli.consoles``), from the same pieces: ``summary_table``, ``headline``, ``step_line``,
  ``held_line``, ``version_lines`` and ``diff_lines`` (each diff line with its ``DiffLine`` kind).
- ``markdown(plan, limit=...)``: summary first, then one ``<details>`` section per cluster; once the
  text would pass ``limit`` characters, the remaining clusters are cut and a note says which.
- ``json(plan)``: the plan artifact itself (``plans.to_json``).

Every view is built from the Plan value, whose diffs and objects are already masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from reconciler.core import escapes, plans
from reconciler.core.plans import Action, Change, Plan

COLUMNS = tuple(a for a in Action if a is not Action.REFUSED)
"""The table's action columns; ``refused`` joins them only in a plan that refuses something."""
HELD = (Action.REFUSED, Action.CONFLICT, Action.SKIPPED)
MARKDOWN_LIMIT = 60_000


def json(plan: Plan) -> str:
    return plans.to_json(plan)


def table_rows(plan: Plan) -> list[tuple[str, str, dict[str, int]]]:
    """``(cluster, bundle, counts per action)`` for every cluster and bundle the plan touches."""
    rows: dict[tuple[str, str], dict[str, int]] = {}
    for change in plan.changes:
        counts = rows.setdefault((change.dest, str(change.bundle)), {})
        counts[change.action.value] = counts.get(change.action.value, 0) + 1
    return [(cluster, bundle, counts) for (cluster, bundle), counts in sorted(rows.items())]


@dataclass(frozen=True)
class SummaryTable:
    """The bundles with something other than ``unchanged`` as rows, and a line counting the rest.

    A fleet of thousands of clusters mostly has nothing to do: listing every unchanged bundle would
    bury the few changes (and a pull-request comment would hit its size cap on the table alone).
    """

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    unchanged: str | None
    """``"N bundle(s) unchanged on M cluster(s)."``, or ``None`` when every bundle has changes."""


def summary_table(plan: Plan) -> SummaryTable:
    changed: list[tuple[str, str, dict[str, int]]] = []
    quiet: list[tuple[str, str, dict[str, int]]] = []
    for row in table_rows(plan):
        (changed if any(k != Action.UNCHANGED.value for k in row[2]) else quiet).append(row)
    tail = f"{len(quiet)} bundle(s) unchanged on {len({cluster for cluster, _, _ in quiet})} cluster(s)."
    columns = (*COLUMNS, Action.REFUSED) if any(c.action is Action.REFUSED for c in plan.changes) else COLUMNS
    header = ("cluster", "bundle", *(a.value for a in columns))
    body = tuple((c, b, *(str(n.get(a.value, 0)) for a in columns)) for c, b, n in changed)
    return SummaryTable(header, body, tail if quiet or not changed else None)


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as plain text columns, two spaces apart, no trailing blanks."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def _table(plan: Plan, *, separator: str) -> list[str]:
    table = summary_table(plan)
    tail = [table.unchanged] if table.unchanged else []
    if not table.rows:
        return tail
    if separator == "|":
        lines = [_md_row(table.header), _md_row(["---"] * len(table.header))]
        return [*lines, *(_md_row(row) for row in table.rows), *(["", *tail] if tail else [])]
    return [*aligned([table.header, *table.rows]), *tail]


def markdown_table(plan: Plan) -> list[str]:
    """The summary table of ``markdown`` (for views that embed a plan's changes)."""
    return _table(plan, separator="|")


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_md_escape(c) for c in cells) + " |"


def _md_escape(value: str) -> str:
    return escapes.markdown(value)


def headline(plan: Plan) -> str:
    actions = plan.summary().actions
    counts = ", ".join(
        f"{actions.get(a.value, 0)} to {a.value}"
        for a in (Action.CREATE, Action.UPDATE, Action.ADOPT, Action.DELETE)
    )
    held = ", ".join(
        f"{actions[a.value]} {a.value}" for a in HELD if actions.get(a.value)
    )
    approvals = plan.summary().needs_approval
    extra = f"; {held}" if held else ""
    extra += f"; {approvals} need approval" if approvals else ""
    extra += "; force-pushed: the revision does not descend from the last applied one" if plan.forced else ""
    return (
        f"Plan at {plan.revision}: {counts}{extra}."
        if plan.has_changes
        else f"Plan at {plan.revision}: no changes{extra}."
    )


def step_line(change: Change) -> str:
    after = f" (after {', '.join(map(str, change.after))})" if change.after else ""
    approval = f" [needs approval: {change.approval}]" if change.approval else ""
    drift = " [drift]" if change.drift else ""
    return f"{change.step:>4}. {change.action.value:<7} {change.dest} {change.bundle} {change.key}{after}{drift}{approval}"


def held_line(change: Change) -> str:
    return f"      {change.action.value:<9} {change.dest} {change.bundle} {change.key}: {change.reason}"


def version_lines(plan: Plan) -> list[str]:
    """One line per Kubernetes version change: "Kubernetes v1.30.6 → v1.31.2 on prod-eu-1 (step 12)"."""
    return [f"{c.kubernetes} (step {c.step})" + (" [needs approval]" if c.kubernetes.approval else "")
            for c in plan.steps if c.kubernetes is not None]


def text(plan: Plan, *, detail: bool = False) -> str:
    """The plain terminal view (see the module docstring)."""
    lines = [headline(plan), "", *_table(plan, separator=" ")]
    if version_lines(plan):
        lines += ["", "Kubernetes versions:", *(f"  {line}" for line in version_lines(plan))]
    if plan.steps:
        lines += ["", "Steps:", *(step_line(c) for c in plan.steps)]
    held = held_changes(plan)
    if held:
        lines += ["", "Held back:", *(held_line(c) for c in held)]
    if detail:
        for change in plan.steps:
            lines += ["", step_line(change).strip(), *change.diff.splitlines()]
    return "\n".join(lines) + "\n"


def held_changes(plan: Plan) -> list[Change]:
    return [c for c in plan.changes if c.action in HELD]


class DiffLine(StrEnum):
    """What a line of a unified diff is, for views that style them."""

    HEADER = "header"
    HUNK = "hunk"
    ADDED = "added"
    REMOVED = "removed"
    CONTEXT = "context"


def diff_lines(diff_text: str) -> list[tuple[DiffLine, str]]:
    return [(_diff_kind(line), line) for line in diff_text.splitlines()]


def _diff_kind(line: str) -> DiffLine:
    if line.startswith(("+++", "---")):
        return DiffLine.HEADER
    if line.startswith("@@"):
        return DiffLine.HUNK
    return {"+": DiffLine.ADDED, "-": DiffLine.REMOVED}.get(line[:1], DiffLine.CONTEXT)


def markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> str:
    """The pull-request view (see the module docstring)."""
    head = [f"### {_md_escape(headline(plan))}", "", *_table(plan, separator="|"), ""]
    head += [f"- {_md_escape(line)}" for line in version_lines(plan)] + ([""] if version_lines(plan) else [])
    out, used = list(head), sum(len(line) + 1 for line in head)
    by_cluster: dict[str, list[Change]] = {}
    for change in plan.changes:
        if change.action is not Action.UNCHANGED:
            by_cluster.setdefault(change.dest, []).append(change)
    clusters = sorted(by_cluster)
    for index, cluster in enumerate(clusters):
        section = _cluster_section(cluster, by_cluster[cluster])
        if used + len(section) > limit:
            return "\n".join([*out, _cut_note(clusters[index:], limit)]) + "\n"
        out.append(section)
        used += len(section) + 1
    return "\n".join(out) + "\n"


def _cluster_section(cluster: str, changes: Sequence[Change]) -> str:
    body = [f"<details><summary>{_md_escape(cluster)}: {len(changes)} change(s)</summary>", ""]
    for change in changes:
        body += _markdown_change(change)
    return "\n".join([*body, "</details>", ""])


def _markdown_change(change: Change) -> list[str]:
    line = step_line(change).strip() if change.step is not None else held_line(change).strip()
    lines = [f"- {_md_escape(line)}"]
    if change.diff:
        lines += ["", escapes.fence(change.diff, info="diff"), ""]
    return lines


def _cut_note(cut: Iterable[str], limit: int) -> str:
    names = list(cut)
    shown = ", ".join(_md_escape(n) for n in names[:20]) + (", ..." if len(names) > 20 else "")
    return f"_Output capped at {limit} characters: details of {len(names)} cluster(s) cut ({shown}). Run `stackfleet plan -o json` for the full plan._"
