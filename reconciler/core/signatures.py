"""Saved plans authenticated with HMAC-SHA256, so an edited plan file is refused before anything runs.

::

    text = signatures.to_json(plan, key=store.keys.plan_key())     # `stackfleet plan --out`
    plan = signatures.from_json(text, key=store.keys.plan_key())   # `stackfleet apply --plan`

The MAC covers the canonical JSON of the whole plan document (every field, sorted keys, no spaces)
and is written as ``"mac": "hmac-sha256:<hex>"`` next to them. ``from_json`` refuses a plan without a
MAC, with a MAC of another key (another state store), or whose content changed by a single byte,
with ``TamperedPlanError``. The key lives in the state store (docs/adr/0011-plan-authentication.md).
A valid MAC says the plan is the one this store's planner wrote; the apply still re-checks every step
against the live marks and the inventory (``core.rechecks``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from reconciler.core import plans
from reconciler.errors import TamperedPlanError

FIELD = "mac"
SCHEME = "hmac-sha256:"


def mac_of(document: Mapping[str, Any], *, key: bytes) -> str:
    """The MAC of a plan document (its ``mac`` field left out)."""
    body = {k: v for k, v in document.items() if k != FIELD}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return SCHEME + hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def to_json(plan: plans.Plan, *, key: bytes) -> str:
    """The plan file: the plan's JSON with its MAC."""
    document = plan.to_dict()
    document[FIELD] = mac_of(document, key=key)
    return json.dumps(document, indent=2) + "\n"


def from_json(text: str, *, key: bytes) -> plans.Plan:
    """The plan in ``text`` once its MAC checks out; ``TamperedPlanError`` otherwise."""
    document = plans.document_of(text)
    given = document.get(FIELD)
    if not isinstance(given, str) or not given:
        raise TamperedPlanError("plan file carries no MAC: write it with `stackfleet plan --out`")
    if not hmac.compare_digest(given.encode(), mac_of(document, key=key).encode()):
        raise TamperedPlanError("plan file's MAC does not match its content: it was edited, or made with "
                                "another state store", revision=str(document.get("revision", "")) or None)
    return plans.from_document(document)
