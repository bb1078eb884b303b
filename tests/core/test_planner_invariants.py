"""Invariants every golden plan must hold, whatever the case is about."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.statuses import Reachability

CASES = Path(__file__).resolve().parent.parent / "golden" / "plan"
PLANS = {p.parent.name: json.loads(p.read_text()) for p in sorted(CASES.glob("*/expected.json"))}


def changes(case: str) -> list[dict[str, Any]]:
    return list(PLANS[case]["changes"])


@pytest.mark.parametrize("case", sorted(PLANS))
def test_steps_wait_only_for_earlier_steps(case: str) -> None:
    late = [
        (c["step"], c["after"])
        for c in changes(case)
        if c["step"] is not None and any(a >= c["step"] for a in c["after"])
    ]
    assert late == []


@pytest.mark.parametrize("case", sorted(PLANS))
def test_steps_are_numbered_one_to_n(case: str) -> None:
    steps = [c["step"] for c in changes(case) if c["step"] is not None]
    assert steps == list(range(1, len(steps) + 1))


@pytest.mark.parametrize("case", sorted(PLANS))
def test_deletes_come_after_every_apply_of_their_cluster(case: str) -> None:
    steps = [c for c in changes(case) if c["step"] is not None]
    last_apply = {c["dest"]: c["step"] for c in steps if c["action"] != "delete"}
    early = [
        c["step"] for c in steps if c["action"] == "delete" and c["step"] < last_apply.get(c["dest"], 0)
    ]
    assert early == []


@pytest.mark.parametrize("case", sorted(PLANS))
def test_only_actionable_changes_are_steps(case: str) -> None:
    wrong = [
        c["action"]
        for c in changes(case)
        if (c["step"] is None) == (c["action"] in {"create", "update", "adopt", "delete"})
    ]
    assert wrong == []


@pytest.mark.parametrize("case", sorted(PLANS))
def test_no_step_on_a_cluster_that_could_not_be_read(case: str) -> None:
    unread = {c["name"] for c in PLANS[case]["clusters"] if c["status"] != Reachability.REACHABLE.value}
    touched = [c["key"]["name"] for c in changes(case) if c["step"] is not None and c["dest"] in unread]
    assert touched == []
