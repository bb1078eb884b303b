"""Every Fleet, Cluster and Stack document of ``fleet/`` and ``examples/`` names its JSON Schema with the
``yaml-language-server`` modeline docs/format.md shows, at a path that exists, of the schema for its kind,
and the document is valid against it (so an editor pointed there agrees with ``stackfleet validate``).

The modeline is the file's last line: a comment near the top or the bottom is read by the language
server, and at the bottom it leaves the ``file:line`` of every problem where it was.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_OF = {"Fleet": "fleet.schema.json", "Cluster": "cluster.schema.json", "Stack": "stack.schema.json"}
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def documents() -> list[Path]:
    found = []
    for base in (ROOT / "fleet", *sorted(p for p in (ROOT / "examples").iterdir() if p.is_dir())):
        found += [base / "fleet.yaml"] if (base / "fleet.yaml").is_file() else []
        found += sorted((base / "clusters").glob("*.yaml"))
        found += sorted((base / "stacks").glob("*/*/stack.yaml"))
    return found


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_document_names_the_schema_of_its_kind_and_is_valid_against_it(path: Path):
    last = path.read_text().splitlines()[-1]
    named = MODELINE.match(last)
    assert named is not None, f"{path}: last line {last!r}"
    schema = (path.parent / named.group(1)).resolve()
    document = yaml.safe_load(path.read_text())
    assert schema == ROOT / "schemas" / SCHEMA_OF[document["kind"]]
    jsonschema.validate(document, json.loads(schema.read_text()))


def test_every_example_and_the_reference_fleet_are_covered():
    assert len(documents()) >= 20
