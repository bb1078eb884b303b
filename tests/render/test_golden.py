"""Golden files: the desired objects of every cluster of the reference fleet ``fleet/``.

``tests/golden/render/<cluster>.yaml`` holds exactly what ``stackfleet render --fleet fleet --cluster
<cluster>`` prints. Regenerate after a deliberate change with ``STACKFLEET_UPDATE_GOLDEN=1 python -m
pytest tests/render/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.render import fleet, streams
from reconciler.source.dirtree import DirTree
from reconciler.spec import loader

ROOT = Path(__file__).resolve().parents[2]
FLEET = ROOT / "fleet"
GOLDEN = ROOT / "tests" / "golden" / "render"
UPDATE = os.environ.get("STACKFLEET_UPDATE_GOLDEN") == "1"
CLUSTERS = sorted(p.stem for p in (FLEET / "clusters").glob("*.yaml"))


@pytest.fixture(scope="module")
def rendered() -> fleet.FleetRender:
    return fleet.render(loader.load(DirTree(FLEET)), options=fleet.Options(workers=2))


def test_the_reference_fleet_renders_without_failures(rendered: fleet.FleetRender) -> None:
    assert [f.error for f in rendered.failures] == []


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_desired_objects_match_the_golden_file(rendered: fleet.FleetRender, cluster: str) -> None:
    mine = fleet.FleetRender(
        revision=rendered.revision,
        bundles=tuple(b for b in rendered.bundles if b.dest == cluster),
        failures=(),
    )
    text = streams.to_yaml(mine)
    path = GOLDEN / f"{cluster}.yaml"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_there_is_a_golden_file_for_every_cluster_and_no_other() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.yaml")) == CLUSTERS
