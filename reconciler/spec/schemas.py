"""JSON Schema of the fleet repo format, generated from the models (``stackfleet schema --write``)."""

from __future__ import annotations

from typing import Any

from reconciler.spec.models import KINDS

SCHEMA_BASE = "https://stackfleet.dev/schemas/v1alpha1"

_TITLES = {
    "Fleet": "stackfleet Fleet (fleet.yaml): layers, management cluster, defaults, policy, assignments",
    "Cluster": "stackfleet Cluster (clusters/<name>.yaml): labels, connection, stacks, values",
    "Stack": "stackfleet Stack (stacks/<stack>/<version>/stack.yaml): one version of a set of bundles",
}


def file_name(kind: str) -> str:
    return f"{kind.lower()}.schema.json"


def generate(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of documents of ``kind``."""
    schema = KINDS[kind].model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}/{file_name(kind)}",
        **schema,
        "title": _TITLES[kind],
    }


def generate_all() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every kind."""
    return {file_name(kind): generate(kind) for kind in KINDS}
