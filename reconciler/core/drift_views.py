"""Views of a drift ``Report``: terminal text, Markdown, JSON. Pure string building.

- ``text(report, detail=...)``: a headline, one line per drifted object (cluster, bundle, object,
  kind, who changed it, since when), one indented line per changed field, and with ``detail`` the
  unified diff of each object; clusters that could not be read are listed at the end.
- ``markdown(report)``: the same as a table plus one ``<details>`` section per object with its diff.
- ``json(report)``: ``Report.to_dict`` as indented JSON.

Everything comes from the report, whose values are already masked.
"""

from __future__ import annotations

import json as jsonlib

from reconciler.core import drift, escapes
from reconciler.core.drift import Entry, FieldChange, Report


def json(report: Report) -> str:
    return jsonlib.dumps(report.to_dict(), indent=2) + "\n"


def headline(report: Report) -> str:
    counts = drift.counts(report.entries)
    if not report.drifted:
        return f"No drift in {report.checked} object(s) at {report.scanned_at}."
    return (
        f"Drift at {report.scanned_at}: {counts['modified']} modified, {counts['missing']} missing "
        f"of {report.checked} object(s)."
    )


def who(entry: Entry) -> str:
    if entry.kind is drift.Kind.MISSING:
        return "deleted out of band"
    return ", ".join(str(m) for m in entry.managers) or drift.UNKNOWN


def entry_line(entry: Entry) -> str:
    heal = " [self-heal]" if entry.policy is drift.Policy.SELF_HEAL else ""
    return (
        f"{entry.kind.value:<8} {entry.dest} {entry.bundle} {entry.key} "
        f"by {who(entry)} since {entry.first_seen}{heal}"
    )


def field_line(change: FieldChange) -> str:
    return (
        f"{change.path}: {drift.short(change.live)} -> {drift.short(change.applied)} "
        f"(owned by {change.manager})"
    )


def text(report: Report, *, detail: bool = False) -> str:
    """The terminal view (see the module docstring)."""
    lines = [headline(report)]
    for entry in report.entries:
        lines += ["", entry_line(entry), *(f"    {field_line(c)}" for c in entry.fields)]
        if detail and entry.diff:
            lines += [f"    {line}" for line in entry.diff.splitlines()]
    lines += _unreachable(report)
    return "\n".join(lines) + "\n"


def _unreachable(report: Report) -> list[str]:
    if not report.unreachable:
        return []
    return ["", "Not scanned:", *(f"    {name}: {why}" for name, why in sorted(report.unreachable.items()))]


def _md(text_: str) -> str:
    return escapes.markdown(text_)


def markdown(report: Report) -> str:
    """The Markdown view (see the module docstring)."""
    lines = [f"### {_md(headline(report))}", ""]
    if report.entries:
        lines += ["| cluster | bundle | object | drift | changed by | since |", "|---|---|---|---|---|---|"]
        lines += [_md_row(e) for e in report.entries]
        lines.append("")
    for entry in report.entries:
        lines += _md_details(entry)
    if report.unreachable:
        lines += [
            "Not scanned:",
            *(f"- {_md(n)}: {_md(w)}" for n, w in sorted(report.unreachable.items())),
            "",
        ]
    return "\n".join(lines) + "\n"


def _md_row(entry: Entry) -> str:
    cells = [entry.dest, str(entry.bundle), str(entry.key), entry.kind.value, who(entry), entry.first_seen]
    return "| " + " | ".join(_md(c) for c in cells) + " |"


def _md_details(entry: Entry) -> list[str]:
    title = _md(f"{entry.dest} {entry.key}")
    body = [f"<details><summary>{title}</summary>", ""]
    body += [f"- {_md(field_line(c))}" for c in entry.fields]
    if entry.diff:
        body += ["", escapes.fence(entry.diff, info="diff")]
    return [*body, "", "</details>", ""]
