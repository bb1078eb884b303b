"""A fleet's own health rules for any kind (what Argo CD users write Lua health checks for). Pure.

A rule names a kind (and optionally its API group) and gives expressions over the object
(``spec.expressions``: ``status``, ``spec``, ``metadata`` and ``object``)::

    health:
      - kind: Database
        group: db.example.dev
        healthy: "status.phase == 'Ready' && status.observedGeneration == metadata.generation"
        degraded: "status.phase == 'Failed'"
        message: "status.message"

``degraded`` true makes the object Degraded, else ``healthy`` true makes it Healthy, else it is
Progressing; ``message`` (an expression too) gives the reason. An expression that cannot be
evaluated on the object makes it Unknown, naming the rule. The first rule that names the object's
kind decides, before the built-in rules (``core.health``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.core.conditions import Health, Status
from reconciler.core.objects import Obj, ObjectKey
from reconciler.spec import expressions


@dataclass(frozen=True)
class HealthRule:
    kind: str
    group: str | None
    """``None``: any group; ``""``: the core group."""
    healthy: expressions.Expression
    degraded: expressions.Expression | None = None
    message: expressions.Expression | None = None

    def covers(self, key: ObjectKey) -> bool:
        return key.kind == self.kind and (self.group is None or key.group == self.group)

    def __call__(self, obj: Obj) -> Status | None:
        if not self.covers(ObjectKey.of(obj)):
            return None
        variables = {"object": obj, "status": obj.get("status"), "spec": obj.get("spec"),
                     "metadata": obj.get("metadata")}
        try:
            reason = str(expressions.evaluate(self.message, variables) or "") if self.message else ""
            if self.degraded is not None and expressions.truthy(self.degraded, variables):
                return Status(Health.DEGRADED, reason or f"{self.name}: {self.degraded.source}")
            if expressions.truthy(self.healthy, variables):
                return Status(Health.HEALTHY, reason)
        except expressions.EvaluationError as exc:
            return Status(Health.UNKNOWN, f"{self.name}: {exc}")
        return Status(Health.PROGRESSING, reason or f"{self.name}: waiting for {self.healthy.source}")

    @property
    def name(self) -> str:
        return f"health rule for {self.kind}" + (f".{self.group}" if self.group else "")


def compile_rules(specs: Iterable[tuple[str, str | None, str, str | None, str | None]]) -> tuple[HealthRule, ...]:
    """Rules from ``(kind, group, healthy, degraded, message)`` (validated by the spec loader already)."""
    return tuple(
        HealthRule(kind, group, expressions.parse(healthy),
                   expressions.parse(degraded) if degraded else None,
                   expressions.parse(message) if message else None)
        for kind, group, healthy, degraded, message in specs
    )
