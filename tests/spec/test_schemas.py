"""The generated JSON Schema files: fresh, editor-friendly, and agreeing with the loader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from reconciler.cli.schema import render
from reconciler.spec import schemas

KIND_FILES = {"Fleet": "fleet.schema.json", "Cluster": "cluster.schema.json", "Stack": "stack.schema.json"}


def fleet_documents(root: Path) -> list[tuple[Path, dict]]:
    """Every Fleet, Cluster and Stack document under ``root``."""
    out = []
    for path in sorted(root.rglob("*.y*ml")):
        if "templates" in path.parts:  # Helm templates are not YAML until rendered
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("apiVersion") == "stackfleet.dev/v1alpha1":
                out.append((path, doc))
    return out


@pytest.fixture(scope="module")
def validators(repo_root: Path) -> dict[str, jsonschema.Draft202012Validator]:
    return {
        kind: jsonschema.Draft202012Validator(json.loads((repo_root / "schemas" / name).read_text()))
        for kind, name in KIND_FILES.items()
    }


def test_schema_files_are_up_to_date(repo_root: Path) -> None:
    for name, schema in schemas.generate_all().items():
        committed = (repo_root / "schemas" / name).read_text()
        assert committed == render(schema), f"schemas/{name} is stale: run `stackfleet schema --write`"


def test_schema_files_work_with_editors(repo_root: Path) -> None:
    for name in KIND_FILES.values():
        schema = json.loads((repo_root / "schemas" / name).read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"].endswith(name)
        assert schema["title"]
        bundle = schema.get("$defs", {}).get("Bundle")
        if bundle:
            assert bundle["properties"]["dependsOn"]["description"]


def test_every_document_in_fleet_and_examples_validates(repo_root: Path, validators) -> None:
    docs = fleet_documents(repo_root / "fleet") + fleet_documents(repo_root / "examples")
    assert len(docs) >= 13
    for path, doc in docs:
        errors = [e.message for e in validators[doc["kind"]].iter_errors(doc)]
        assert errors == [], f"{path}: {errors}"


@pytest.mark.parametrize(
    ("kind", "document", "complaint"),
    [
        ("Cluster", {"metadata": {"name": "a", "lables": {}}, "spec": {"connection": {"context": "a"}}}, "lables"),
        ("Stack", {"metadata": {"name": "s"}, "spec": {"version": "1.0.0", "bundles": [
            {"name": "b", "layer": "addons", "dependOn": ["x"], "manifests": {"path": "m"}}]}}, "dependOn"),
        ("Fleet", {"metadata": {"name": "f"}, "spec": {"defaults": {"healthTimeout": "5 minutes"}}}, "5 minutes"),
        ("Cluster", {"metadata": {"name": "Not_A_Name"}, "spec": {"connection": {"context": "a"}}}, "Not_A_Name"),
    ],
)
def test_schema_rejects_what_it_can_see(validators, kind: str, document: dict, complaint: str) -> None:
    doc = {"apiVersion": "stackfleet.dev/v1alpha1", "kind": kind, **document}
    errors = [e.message for e in validators[kind].iter_errors(doc)]
    assert any(complaint in e for e in errors), errors
