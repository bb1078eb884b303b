"""The CEL-like expression language of health rules (spec.expressions) and the rules (core.healthrules)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core import health, healthrules
from reconciler.core.health import Health
from reconciler.spec import expressions

OBJ: dict[str, Any] = {
    "apiVersion": "db.example.dev/v1", "kind": "Database", "metadata": {"name": "orders", "generation": 3},
    "spec": {"replicas": 2, "engine": "postgres-16"},
    "status": {"phase": "Ready", "observedGeneration": 3, "replicas": 2, "ready": True, "message": "all good",
               "conditions": [{"type": "Synced", "status": "True"}, {"type": "Backup", "status": "False"}]},
}
VARS = {"object": OBJ, "status": OBJ["status"], "spec": OBJ["spec"], "metadata": OBJ["metadata"]}

CASES: dict[str, tuple[str, Any]] = {
    "field-equals": ("status.phase == 'Ready'", True),
    "double-quotes": ('status.phase != "Ready"', False),
    "generation-observed": ("status.observedGeneration == metadata.generation", True),
    "numbers-compare": ("status.replicas >= spec.replicas && spec.replicas > 1", True),
    "or-and-not": ("!(status.ready) || status.phase == 'Ready'", True),
    "missing-field-is-null": ("status.nothing == null", True),
    "missing-field-is-not-equal": ("status.nothing == 'x'", False),
    "missing-field-does-not-order": ("status.nothing > 1", False),
    "has-present": ("has(status.phase)", True),
    "has-missing": ("has(status.nothing.deeper)", False),
    "index": ("status.conditions[0].type", "Synced"),
    "index-out-of-range-is-null": ("status.conditions[5] == null", True),
    "map-index": ("status['phase']", "Ready"),
    "exists": ("status.conditions.exists(c, c.type == 'Synced' && c.status == 'True')", True),
    "all": ("status.conditions.all(c, c.status == 'True')", False),
    "exists-one": ("status.conditions.exists_one(c, c.status == 'True')", True),
    "exists-on-missing-list": ("status.nothing.exists(c, true)", False),
    "in-list": ("status.phase in ['Ready', 'Running']", True),
    "size-function-and-method": ("size(status.conditions) == 2 && status.conditions.size() == 2", True),
    "string-methods": ("spec.engine.startsWith('postgres') && spec.engine.endsWith('16') && "
                       "spec.engine.contains('gres')", True),
    "int-and-string": ("int('2') == spec.replicas && string(status.ready) == 'true'", True),
    "negative-number": ("-1 < status.replicas", True),
    "decimal": ("1.5 < 2", True),
    "concatenation": ("'replicas: ' + string(status.replicas)", "replicas: 2"),
    "arithmetic": ("spec.replicas - 1 + 3", 4),
    "bool-is-not-number": ("status.ready == 1", False),
    "escaped-quote": ("'it\\'s' == \"it's\"", True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_evaluate(case: str) -> None:
    source, expected = CASES[case]
    assert expressions.evaluate(expressions.parse(source), VARS) == expected


PARSE_ERRORS = {
    "dangling-operator": ("status.phase ==", "at column 16: unexpected end of the expression"),
    "unknown-character": ("status.phase = 'Ready'", "at column 14: cannot read \"= 'Ready'\""),
    "unclosed-paren": ("(status.ready", "at column 14: expected ')'"),
    "text-after": ("status.ready status.phase", "at column 14: unexpected text after the expression"),
    "tilde-is-not-an-operator": ("status.phase ~ 'x'", "at column 14: cannot read \"~ 'x'\""),
    "macro-without-variable": ("status.conditions.exists('x', true)", "at column 26: exists() needs a variable name first"),
}


@pytest.mark.parametrize("case", sorted(PARSE_ERRORS))
def test_parse_errors_name_the_column(case: str) -> None:
    source, message = PARSE_ERRORS[case]
    with pytest.raises(expressions.ExpressionError) as raised:
        expressions.parse(source)
    assert str(raised.value) == message


@pytest.mark.parametrize(("source", "message"), [("status.phase < 3", "cannot order str and number"),
                                               ("status.phase + 1", "cannot add str and number")])
def test_mixing_types_cannot_be_evaluated(source: str, message: str) -> None:
    with pytest.raises(expressions.EvaluationError, match=message):
        expressions.evaluate(expressions.parse(source), VARS)


RULES = healthrules.compile_rules([
    ("Database", "db.example.dev", "status.phase == 'Ready' && status.observedGeneration == metadata.generation",
     "status.phase == 'Failed'", "status.message"),
    ("Widget", None, "status.count > 'x'", None, None),
])


def with_status(**status: Any) -> dict[str, Any]:
    return {**OBJ, "status": {**OBJ["status"], **status}}


RULE_CASES = {
    "healthy": (OBJ, Health.HEALTHY, "all good"),
    "degraded": (with_status(phase="Failed", message="disk full"), Health.DEGRADED, "disk full"),
    "progressing": (with_status(phase="Creating", message=None), Health.PROGRESSING,
                    "health rule for Database.db.example.dev: waiting for status.phase == 'Ready' && "
                    "status.observedGeneration == metadata.generation"),
    "stale-generation": (with_status(observedGeneration=2), Health.PROGRESSING, "all good"),
    "no-status-yet": ({**OBJ, "status": None}, Health.PROGRESSING, "health rule for Database.db.example.dev: "
                      "waiting for status.phase == 'Ready' && status.observedGeneration == metadata.generation"),
    "cannot-evaluate": ({"apiVersion": "x.dev/v1", "kind": "Widget", "metadata": {"name": "w"},
                         "status": {"count": 1}}, Health.UNKNOWN,
                        "health rule for Widget: cannot order number and str in '>'"),
    "other-group-uses-built-in-rules": ({**OBJ, "apiVersion": "other.dev/v1"}, Health.HEALTHY, ""),
}


@pytest.mark.parametrize("case", sorted(RULE_CASES))
def test_fleet_health_rules_come_first(case: str) -> None:
    obj, expected, reason = RULE_CASES[case]
    found = health.check(obj, rules=RULES)
    assert (found.health, found.reason) == (expected, reason)
