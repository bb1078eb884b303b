"""Apply conflicts, reported the way kube-apiserver reports them in a 409 response."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.sim.ssa import fieldpaths
from reconciler.sim.ssa.fieldpaths import FieldSet
from reconciler.sim.ssa.ownership import UPDATE, Entry, Owner


@dataclass(frozen=True)
class ConflictCause:
    """One field an apply would change that another owner holds."""

    manager: str
    operation: str
    api_version: str | None
    field: str
    path_elements: tuple[str, ...]

    @property
    def owner_text(self) -> str:
        """The owner as kube-apiserver names it: ``"kubectl-edit" using apps/v1`` for Update owners."""
        quoted = f'"{self.manager}"'
        return f"{quoted} using {self.api_version}" if self.operation == UPDATE else quoted

    @property
    def message(self) -> str:
        """The ``message`` of the status cause."""
        return f"conflict with {self.owner_text}"


class ApplyConflict(Exception):
    """An apply without force would change fields other owners hold; nothing was changed."""

    def __init__(self, causes: list[ConflictCause]) -> None:
        self.causes = causes
        super().__init__(_message(causes))


def causes_of(conflicts: Mapping[Owner, FieldSet], entries: Mapping[Owner, Entry]) -> list[ConflictCause]:
    """One cause per conflicting (owner, path), ordered by owner then path."""
    causes: list[ConflictCause] = []
    for owner in sorted(conflicts):
        version = entries[owner].api_version if owner.operation == UPDATE else None
        for path in sorted(conflicts[owner]):
            causes.append(
                ConflictCause(
                    manager=owner.manager,
                    operation=owner.operation,
                    api_version=version,
                    field=fieldpaths.to_string(path),
                    path_elements=path,
                )
            )
    return causes


def _message(causes: list[ConflictCause]) -> str:
    if len(causes) == 1:
        only = causes[0]
        return f"Apply failed with 1 conflict: conflict with {only.owner_text}: {only.field}"
    lines: list[str] = []
    for owner_text in sorted({cause.owner_text for cause in causes}):
        lines.append(f"conflicts with {owner_text}")
        lines.extend(f"- {cause.field}" for cause in causes if cause.owner_text == owner_text)
    return f"Apply failed with {len(causes)} conflicts: " + "\n".join(lines)
