"""The ranked health enum and the readers every health rule shares: status, conditions, generations.

Pure: an object (a plain mapping as the API server returned it) in, plain values out; nothing raises
on a malformed status, a reader just finds nothing there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from reconciler.core.objects import Obj


class Health(Enum):
    """Ranked: a higher ``rank`` is better."""

    UNKNOWN = ("Unknown", 0)
    DEGRADED = ("Degraded", 1)
    PROGRESSING = ("Progressing", 2)
    HEALTHY = ("Healthy", 3)

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def rank(self) -> int:
        return self.value[1]

    @classmethod
    def of_label(cls, text: str) -> Health:
        """The member a stored label names; text outside the set is ``UNKNOWN`` (as a failed check is)."""
        return next((h for h in cls if h.label == text), cls.UNKNOWN)


@dataclass(frozen=True)
class Status:
    health: Health
    reason: str = ""


HEALTHY = Status(Health.HEALTHY)


def progressing(reason: str) -> Status:
    return Status(Health.PROGRESSING, reason)


def degraded(reason: str) -> Status:
    return Status(Health.DEGRADED, reason)


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def status_of(obj: Obj) -> Mapping[str, Any]:
    return mapping(obj.get("status"))


def spec_of(obj: Obj) -> Mapping[str, Any]:
    return mapping(obj.get("spec"))


def integer(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def generation(obj: Obj) -> int:
    return integer(mapping(obj.get("metadata")).get("generation"))


def by_type(found: Any) -> dict[str, Mapping[str, Any]]:
    """A list of conditions by type (malformed entries left out)."""
    items = found if isinstance(found, list) else []
    return {str(c["type"]): c for c in items if isinstance(c, Mapping) and "type" in c}


def conditions(obj: Obj) -> dict[str, Mapping[str, Any]]:
    """``status.conditions`` by type."""
    return by_type(status_of(obj).get("conditions"))


def is_true(found: Mapping[str, Mapping[str, Any]], kind: str) -> bool | None:
    """``True``/``False`` for a condition of ``kind`` in ``found``, ``None`` when it is absent."""
    condition = found.get(kind)
    return None if condition is None else condition.get("status") == "True"


def observed(obj: Obj) -> bool:
    """``status.observedGeneration`` has caught up with ``metadata.generation``."""
    return integer(status_of(obj).get("observedGeneration")) >= generation(obj)


def says(condition: Mapping[str, Any], fallback: str) -> str:
    """A condition's message (or its reason) for a status reason."""
    return str(condition.get("message") or condition.get("reason") or fallback)


def first_false(found: Mapping[str, Mapping[str, Any]], kinds: Sequence[str], *, obj: Obj) -> Status | None:
    """Progressing for the first of ``kinds`` that is not True, or True for an older generation.

    Conditions of the metav1.Condition shape carry their own ``observedGeneration``: one set for an
    older generation says nothing about the current spec (apimachinery's ``Condition`` contract).
    """
    for kind in kinds:
        condition = found.get(kind)
        if condition is None:
            continue
        if condition.get("status") != "True":
            return progressing(f"{kind}: {says(condition, 'not True')}")
        if integer(condition.get("observedGeneration")) and integer(condition["observedGeneration"]) < generation(obj):
            return progressing(f"{kind} is for generation {condition['observedGeneration']}")
    return None


def first_true(found: Mapping[str, Mapping[str, Any]], kinds: Sequence[str]) -> Status | None:
    """Progressing for the first of ``kinds`` that is True (RollingOut, ScalingUp, ... in progress)."""
    for kind in kinds:
        if is_true(found, kind):
            return progressing(f"{kind}: {says(found[kind], 'in progress')}")
    return None
