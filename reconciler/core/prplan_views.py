"""Views of a ``PullRequestPlan``: Markdown for the forge, terminal text, JSON. Pure string building.

Both views put the four parts of the plan in the same order: the bundles the pull request changes
(rows grouped by stack, bundle and versions, so a change to a thousand clusters is one row), the
approvals the merge will need, what merging does to those objects on the live clusters (a table, then
per cluster the steps with the rendered diff and, when the live object differs from the base render,
the diff against live), and apart, short, what is already so on base.

``markdown(plan, limit=..., link=...)`` stays under ``limit`` characters: the per-cluster details are
cut first (a note names what was cut and links to the full plan on the dashboard), lists are capped
at a few dozen lines with a count of the rest. Every value goes through ``core.escapes``.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterable, Sequence

from reconciler.core import escapes, plan_views
from reconciler.core.plans import ACTIONABLE, Action, Change, Plan
from reconciler.core.prplans import BundleDiff, PullRequestPlan

MARKDOWN_LIMIT = 60_000
"""GitHub refuses an issue comment over 65 536 characters; GitLab's notes allow 1 000 000."""
LIST_CAP = 30
NAMES_CAP = 8


def json(plan: PullRequestPlan) -> str:
    return jsonlib.dumps(plan.to_dict(), indent=2) + "\n"


def headline(plan: PullRequestPlan) -> str:
    who = f"Pull request #{plan.number}" if plan.number is not None else "Pull request"
    if not plan.bundles:
        return f"{who}: no change to the desired state."
    counts = _counts(plan.changes)
    acts = ", ".join(f"{counts.get(a, 0)} to {a.value}" for a in (Action.CREATE, Action.UPDATE, Action.DELETE))
    adopt = f", {counts[Action.ADOPT]} to adopt" if counts.get(Action.ADOPT) else ""
    held = f"; {len(plan.approvals)} approval(s) needed" if plan.approvals else ""
    return (f"{who} changes {len(plan.bundles)} bundle(s) on {len(plan.clusters)} cluster(s): "
            f"{acts}{adopt}{held}.")


def bundle_rows(plan: PullRequestPlan) -> list[tuple[str, str, str, list[str]]]:
    """``(stack/bundle, versions, object edits, clusters)``, one row per bundle that changed alike."""
    rows: dict[tuple[str, str, str], list[str]] = {}
    for bundle in plan.bundles:
        rows.setdefault((f"{bundle.bundle.stack}/{bundle.bundle.bundle}", _versions(bundle), _edits(bundle)),
                        []).append(bundle.dest)
    return [(name, versions, edits, sorted(set(dests))) for (name, versions, edits), dests in sorted(rows.items())]


def approval_lines(plan: PullRequestPlan) -> list[str]:
    return [f"{a.cluster} {a.bundle}{' ' + str(a.key) if a.key else ''}: {a.reason}" for a in plan.approvals]


def on_base_lines(plan: PullRequestPlan) -> list[str]:
    return [_base_line(c) for c in plan.on_base]


def markdown(plan: PullRequestPlan, *, limit: int = MARKDOWN_LIMIT, link: str = "") -> str:
    """The pull-request comment (see the module docstring)."""
    head = [f"### {escapes.markdown(headline(plan))}", "",
            f"Base {_code(plan.base)}, head {_code(plan.head)}.", ""]
    if plan.bundles:
        head += ["**Bundles the pull request changes** (rendered, head against base)", "",
                 "| bundle | version | objects | clusters |", "| --- | --- | --- | --- |"]
        rows = bundle_rows(plan)
        head += [_md_row([n, v, e, _names(d)]) for n, v, e, d in rows[:LIST_CAP]] + _more(rows, "row")
        head.append("")
    if plan.approvals:
        head += ["**Approvals the merge will need**", "", *_md_list(approval_lines(plan)), ""]
    if plan.changes:
        scoped = Plan(revision=plan.head, created_at=plan.created_at, changes=plan.changes)
        head += ["**On the live clusters** (what merging does to these objects)", "",
                 *_capped_table(plan_views.markdown_table(scoped)), ""]
    tail = _md_on_base(plan)
    return _capped(head, _md_details(plan), tail, limit=limit, link=link)


def text(plan: PullRequestPlan, *, detail: bool = False) -> str:
    lines = [headline(plan), f"Base {plan.base}, head {plan.head}."]
    if plan.bundles:
        lines += ["", "Bundles the pull request changes:"]
        lines += [f"  {n} {v}: {e} on {', '.join(d)}" for n, v, e, d in bundle_rows(plan)]
    if plan.approvals:
        lines += ["", "Approvals the merge will need:", *(f"  {line}" for line in approval_lines(plan))]
    steps = [c for c in plan.changes if c.action is not Action.UNCHANGED]
    if steps:
        lines += ["", "On the live clusters:", *(_change_line(c) for c in steps)]
    if detail:
        for change in steps:
            lines += ["", _change_line(change).strip()]
            lines += [line for title, shown in _diffs(plan, change) for line in ([title] if title else []) + [shown]]
    if plan.on_base:
        lines += ["", "Already so on base (not this pull request's change):",
                  *(f"  {line}" for line in on_base_lines(plan))]
    return "\n".join(lines) + "\n"


def _capped(head: list[str], sections: Sequence[tuple[str, str]], tail: list[str], *, limit: int,
            link: str) -> str:
    used = sum(len(line) + 1 for line in [*head, *tail]) + 600  # room for the cut note
    out = list(head)
    for index, (_, section) in enumerate(sections):
        if used + len(section) + 1 > limit:
            out.append(_cut_note([c for c, _ in sections[index:]], limit=limit, link=link))
            break
        out.append(section)
        used += len(section) + 1
    return "\n".join([*out, *tail]) + "\n"


def _md_details(plan: PullRequestPlan) -> list[tuple[str, str]]:
    by_cluster: dict[str, list[Change]] = {}
    for change in plan.changes:
        if change.action is not Action.UNCHANGED:
            by_cluster.setdefault(change.dest, []).append(change)
    sections = []
    for cluster in sorted(by_cluster):
        changes = by_cluster[cluster]
        body = [f"<details><summary>{escapes.markdown(cluster)}: {len(changes)} change(s)</summary>", ""]
        for change in changes:
            body += [f"- {escapes.markdown(_change_line(change).strip())}", ""]
            for title, shown in _diffs(plan, change):
                body += [escapes.markdown(title), ""] if title else []
                body.append(escapes.fence(shown, info="diff"))
            body.append("")
        sections.append((cluster, "\n".join([*body, "</details>", ""])))
    return sections


def _diffs(plan: PullRequestPlan, change: Change) -> list[tuple[str, str]]:
    """``(title, diff)``: the rendered diff of the object, then the live diff when the live object is not the base render."""
    rendered = next((o.diff for b in plan.bundles if (b.dest, b.bundle) == (change.dest, change.bundle)
                     for o in b.objects if o.key == change.key), "")
    found = [("", rendered)] if rendered else []
    if change.diff and _body(change.diff) != _body(rendered):
        found.append(("Against the live object:", change.diff))
    return found


def _body(diff_text: str) -> list[str]:
    """A unified diff without its two file-name lines."""
    return diff_text.splitlines()[2:]


def _md_on_base(plan: PullRequestPlan) -> list[str]:
    if not plan.on_base:
        return []
    counts = _counts(plan.on_base)
    drift = sum(1 for c in plan.on_base if c.drift)
    summary = ", ".join(f"{n} {a.value}" for a, n in counts.items())
    lines = ["**Already so on base** (not this pull request's change: drift, held or pending changes)", "",
             escapes.markdown(f"{summary}{f'; {drift} drift' if drift else ''}."), ""]
    return [*lines, *_md_list(on_base_lines(plan)), ""]


def _capped_table(lines: Sequence[str]) -> list[str]:
    """A Markdown table of at most ``LIST_CAP`` rows (header and separator kept), then what followed it."""
    rows = [line for line in lines if line.startswith("|")]
    rest = [line for line in lines if not line.startswith("|")]
    return [*rows[: LIST_CAP + 2], *_more(rows[2:], "row"), *rest]


def _md_list(lines: Sequence[str]) -> list[str]:
    return [f"- {escapes.markdown(line)}" for line in lines[:LIST_CAP]] + _more(lines, "line")


def _more(items: Sequence[object], what: str) -> list[str]:
    return [f"- _and {len(items) - LIST_CAP} more {what}(s)_"] if len(items) > LIST_CAP else []


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(escapes.markdown(c) for c in cells) + " |"


def _cut_note(cut: Sequence[str], *, limit: int, link: str) -> str:
    where = f" The full plan: {_link('dashboard', link)}." if link else " Run `stackfleet plan -o json` for it."
    return (f"_Comment capped at {limit} characters: the details of {len(cut)} cluster(s) were cut "
            f"({escapes.markdown(_names(list(cut)))})._{where}\n")


def _link(label: str, url: str) -> str:
    """A link to ``url`` (the dashboard's, from the daemon settings), only for ``http(s)://``; else text."""
    if not url.lower().startswith(("https://", "http://")):
        return escapes.markdown(f"{label} ({url})")
    target = "".join(f"%{ord(ch):02X}" if ch in "()<>[]`\"'\\" or ch.isspace() or escapes.is_hidden(ch) else ch
                     for ch in url)
    return f"[{escapes.markdown(label)}]({target})"


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:NAMES_CAP])
    return f"{shown} and {len(names) - NAMES_CAP} more" if len(names) > NAMES_CAP else shown


def _code(value: str) -> str:
    return f"<code>{escapes.markdown(value)}</code>"


def _versions(bundle: BundleDiff) -> str:
    if bundle.base_version == bundle.head_version:
        return bundle.head_version
    return f"{bundle.base_version or '(none)'} -> {bundle.head_version or '(removed)'}"


def _edits(bundle: BundleDiff) -> str:
    if bundle.error:
        return f"render failed: {bundle.error}"
    counts: dict[str, int] = {}
    for obj in bundle.objects:
        counts[obj.edit.value] = counts.get(obj.edit.value, 0) + 1
    return ", ".join(f"{n} {edit}" for edit, n in sorted(counts.items())) or "content only"


def _counts(changes: Iterable[Change]) -> dict[Action, int]:
    counts: dict[Action, int] = {}
    for change in changes:
        counts[change.action] = counts.get(change.action, 0) + 1
    return {a: counts[a] for a in Action if counts.get(a)}


def _change_line(change: Change) -> str:
    return plan_views.step_line(change) if change.action in ACTIONABLE else plan_views.held_line(change)


def _base_line(change: Change) -> str:
    drift = " (drift)" if change.drift else ""
    why = f": {change.reason or change.approval}" if change.reason or change.approval else ""
    return f"{change.action.value} {change.dest} {change.bundle} {change.key}{drift}{why}"
