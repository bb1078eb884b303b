"""The fleet view as data: clusters x stack/bundle columns, each cell a state, with filters and counts.

Built from one store query (``store.dashboards.bundles()``) and the catalog; rows are the clusters the
bundles were assigned to (a child cluster's Cluster API bundle, applied to the management cluster, is
shown on the child's row). Filters: a label selector (``env=prod,region!=us,ring``) and a state (a
cluster is shown when any of its bundles is in that state).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.core.stagegates import UnitStatus
from reconciler.store.records import BundleRow
from reconciler.web import states
from reconciler.web.catalogs import Catalog
from reconciler.web.states import State


@dataclass(frozen=True)
class Cell:
    state: State
    row: BundleRow | None
    """``None``: assigned but never applied."""
    column: str = ""
    unit: UnitStatus | None = None
    """The rollout unit the bundle belongs to, as the last apply run left it."""
    cluster: str = ""
    """The fleet cluster the bundle is assigned to."""


@dataclass(frozen=True)
class Line:
    cluster: str
    labels: Mapping[str, str]
    state: State
    cells: tuple[Cell | None, ...]
    stacks: Mapping[str, str]
    """Stack -> version assigned to the cluster (from the catalog)."""
    running: Mapping[str, str] = field(default_factory=dict)
    """Stack -> the version its bundles were last applied at, where that is not the assigned one (a
    rollout still holds the new version back): ``platform 1.5.0`` shows as ``1.4.0 → 1.5.0``."""


@dataclass(frozen=True)
class Matrix:
    columns: tuple[str, ...]
    lines: tuple[Line, ...]
    clusters: Mapping[State, int]
    """Clusters per (worst) state, over the whole fleet before filtering."""
    bundles: Mapping[State, int]
    """Cells per state, over the whole fleet before filtering."""
    total: int


Requirement = tuple[str, str, str]
"""(key, operator, value) with operator ``=``, ``!=`` or ``exists``."""


def parse_selector(text: str) -> tuple[Requirement, ...]:
    """``env=prod,region!=us,ring`` -> requirements (blank terms are ignored)."""
    out: list[Requirement] = []
    for term in (t.strip() for t in text.split(",")):
        if "!=" in term:
            key, _, value = term.partition("!=")
            out.append((key.strip(), "!=", value.strip()))
        elif "=" in term:
            key, _, value = term.partition("=")
            out.append((key.strip(), "=", value.strip()))
        elif term:
            out.append((term, "exists", ""))
    return tuple(out)


def matches(labels: Mapping[str, str], selector: Iterable[Requirement]) -> bool:
    for key, op, value in selector:
        if op == "exists" and key not in labels:
            return False
        if op == "=" and labels.get(key) != value:
            return False
        if op == "!=" and labels.get(key) == value:
            return False
    return True


def column_of(row: BundleRow) -> str:
    return f"{row.bundle.stack}/{row.bundle.bundle}"


def build(
    rows: Sequence[BundleRow],
    catalog: Catalog,
    *,
    selector: str = "",
    state: State | None = None,
    units: Iterable[UnitStatus] = (),
) -> Matrix:
    """The matrix (see the module docstring); ``units`` are the rollout units' states from the store."""
    by_cluster: dict[str, list[BundleRow]] = {name: [] for name in catalog.clusters}
    for row in rows:
        by_cluster.setdefault(row.bundle.cluster, []).append(row)
    columns = tuple(dict.fromkeys([*catalog.columns, *(column_of(r) for r in rows)]))
    by_unit = {(u.cluster, u.assignment): u for u in units}
    lines = [_line(name, found, catalog, columns, by_unit) for name, found in sorted(by_cluster.items())]
    wanted = parse_selector(selector)
    shown = [
        line
        for line in lines
        if matches(line.labels, wanted) and (state is None or any(c and c.state is state for c in line.cells))
    ]
    return Matrix(
        columns=columns,
        lines=tuple(shown),
        clusters=_count(line.state for line in lines),
        bundles=_count(c.state for line in lines for c in line.cells if c is not None),
        total=len(lines),
    )


def cell_of(cluster: str, column: str, row: BundleRow | None, catalog: Catalog,
            units: Mapping[tuple[str, str], UnitStatus]) -> Cell | None:
    """One bundle of ``cluster``: its row, its rollout unit, or ``None`` when it is neither applied nor assigned."""
    group = catalog.groups.get((cluster, column))
    unit = units.get((cluster, group)) if group is not None else None
    if row is None and group is None:
        return None
    return Cell(states.of(row, unit), row, column, unit, cluster)


def _line(name: str, rows: list[BundleRow], catalog: Catalog, columns: tuple[str, ...],
          units: Mapping[tuple[str, str], UnitStatus]) -> Line:
    by_column = {column_of(r): r for r in rows}
    cells = tuple(cell_of(name, c, by_column.get(c), catalog, units) for c in columns)
    entry = catalog.clusters.get(name)
    worst = states.worst(c.state for c in cells if c is not None)
    return Line(
        cluster=name,
        labels=catalog.labels_of(name),
        state=State.PAUSED if entry is not None and entry.paused else worst,
        cells=cells,
        stacks=entry.stacks if entry is not None else {},
        running=running_versions(rows, entry.stacks if entry is not None else {}),
    )


def running_versions(rows: Iterable[BundleRow], assigned: Mapping[str, str]) -> dict[str, str]:
    """The other version a stack still runs at, per stack with an applied bundle not at the assigned
    version (the first such bundle's, in row order)."""
    found: dict[str, str] = {}
    for row in rows:
        wanted = assigned.get(row.bundle.stack)
        if row.version and wanted and row.version != wanted:
            found.setdefault(row.bundle.stack, row.version)
    return found


def _count(found: Iterable[State]) -> dict[State, int]:
    counts = Counter(found)
    return {s: counts.get(s, 0) for s in State}
