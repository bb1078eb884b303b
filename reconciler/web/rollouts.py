"""The rollout of one assignment as data, for its page and ``/api/v1/assignments/<name>``: its stages in
order, each with its units (cluster, state, why), its mark (ready since, approval) and what it waits for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.core import stagegates
from reconciler.core.stagegates import StageMark, UnitStatus
from reconciler.core.statuses import UnitState
from reconciler.store.records import EventRecord
from reconciler.web.catalogs import Catalog, StageEntry


@dataclass(frozen=True)
class StageView:
    name: str
    qualified: str
    rule: StageEntry
    mark: StageMark
    units: tuple[UnitStatus, ...]

    @property
    def state(self) -> UnitState:
        return stagegates.worst(u.state for u in self.units)

    @property
    def approved(self) -> bool:
        return stagegates.is_approved(self.mark)

    @property
    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for unit in self.units:
            found[unit.state.value] = found.get(unit.state.value, 0) + 1
        return found


@dataclass(frozen=True)
class RolloutView:
    assignment: str
    paused: bool
    stages: tuple[StageView, ...]
    timeline: tuple[EventRecord, ...] = field(default_factory=tuple)


def build(assignment: str, catalog: Catalog, *, units: Iterable[UnitStatus], marks: Mapping[str, StageMark],
          paused: bool, events: Sequence[EventRecord] = ()) -> RolloutView:
    """The rollout of ``assignment``: its written stages in order, then any stage only the units name
    (the implicit last stage)."""
    mine = [u for u in units if u.assignment == assignment]
    written = [f"{assignment}/{s.name}" for s in catalog.stages.get(assignment, ())]
    names = list(dict.fromkeys([*written, *sorted(u.stage for u in mine)]))
    rules = {f"{assignment}/{s.name}": s for s in catalog.stages.get(assignment, ())}
    stages = tuple(
        StageView(q.partition("/")[2], q, rules.get(q, StageEntry(q.partition("/")[2])), marks.get(q, StageMark()),
                  tuple(sorted((u for u in mine if u.stage == q), key=lambda u: u.cluster)))
        for q in names
    )
    timeline = tuple(e for e in events if _about(e, assignment, mine))
    return RolloutView(assignment, paused, stages, timeline)


def _about(event: EventRecord, assignment: str, units: Sequence[UnitStatus]) -> bool:
    return assignment in event.message or (event.reason == "ApplyRun" and bool(units))


def to_json(view: RolloutView) -> dict[str, Any]:
    return {
        "assignment": view.assignment,
        "paused": view.paused,
        "stages": [
            {
                "name": s.name,
                "stage": s.qualified,
                "approval": s.rule.approval,
                "pause": s.rule.pause,
                "soak": s.rule.soak,
                "state": s.state.value,
                "readySince": _time(s.mark.ready_since),
                "approvedBy": s.mark.approved_by if s.approved else "",
                "approvedAt": _time(s.mark.approved_at) if s.approved else None,
                "units": [{"cluster": u.cluster, "state": u.state.value, "reason": u.reason, "until": _time(u.until)}
                          for u in s.units],
            }
            for s in view.stages
        ],
    }


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
