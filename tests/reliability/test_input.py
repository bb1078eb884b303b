"""RELIABILITY.md, area input: every bad input is refused with an error naming where it is, before any write.

A case edits the applied fleet, then plans and applies. A loader error stops everything (nothing is
planned); a render error fails only its bundle, whose live objects stay as they are. Either way the
error is a typed stackfleet error (or a render failure built from one) naming the file, and no
cluster sees a write. The bomb inputs are also loaded in a subprocess that reports its peak RSS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reconciler.errors import StackfleetError

AREA = "input"
STACK = "stacks/apps/1.0.0/stack.yaml"
CONFIG = "stacks/apps/1.0.0/config"
HELM = "  - {name: chart, layer: addons, helm: {chart: %s, valuesFiles: [%s]}}\n"


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    """Files written into the fleet (relative path -> text)."""
    links: dict[str, str] = field(default_factory=dict)
    """Symlinks made in the fleet (relative path -> target; ``OUTSIDE`` is a file outside the repo)."""
    stack_edit: tuple[str, str] | None = None
    more_stack_edit: tuple[str, str] | None = None
    fleet_edit: tuple[str, str] | None = None
    names: tuple[str, ...] = ()
    """What the error must name (the file, and the line or field where it is known)."""


def alias_bomb(levels: int = 12) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, "
              f"*a{i - 1}, *a{i - 1}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


BOMBS = {
    "alias bomb": {f"{CONFIG}/bomb.yaml": alias_bomb()},
    "5 MiB file": {f"{CONFIG}/big.yaml": "# " + "x" * (5 * 1024 * 1024) + "\n"},
    "10^5 documents": {f"{CONFIG}/many.yaml": "---\n{}\n" * 100_000},
}

CASES = [
    Case("dotdot bundle path", stack_edit=("{path: config}", "{path: ../../../clusters}"), names=(STACK, "..")),
    Case("absolute bundle path", stack_edit=("{path: config}", "{path: /etc}"), names=(STACK, "relative")),
    Case("dotdot chart path", stack_edit=("  - {name: secrets,", HELM % ("../../../../outside", "v.yaml") + "  - {name: secrets,"),
         names=(STACK, "path '../../../../outside' must not contain '..'")),
    Case("dotdot values file", files={"stacks/apps/1.0.0/charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n"},
         stack_edit=("  - {name: secrets,", HELM % ("charts/app", "../../../../etc/passwd") + "  - {name: secrets,"),
         names=(STACK, "path '../../../../etc/passwd' must not contain '..'")),
    Case("symlink out of the repo", links={f"{CONFIG}/evil.yaml": "OUTSIDE"}, names=(f"{CONFIG}/evil.yaml",)),
    Case("symlink loop", links={f"{CONFIG}/loop.yaml": "loop.yaml"}, names=(f"{CONFIG}/loop.yaml",)),
    *(Case(name, files=files, names=(next(iter(files)),)) for name, files in BOMBS.items()),
    Case("malformed YAML", files={f"{CONFIG}/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [x\n"},
         names=(f"{CONFIG}/bad.yaml",)),
    Case("duplicate keys", files={f"{CONFIG}/dup.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {a: '1'}\n"
                                  "data: {a: '2'}\n"}, names=(f"{CONFIG}/dup.yaml:5", "duplicate key")),
    Case("non-UTF-8", files={f"{CONFIG}/latin.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n"},
         names=(f"{CONFIG}/latin.yaml",)),
    Case("missing apiVersion", files={f"{CONFIG}/noapi.yaml": "kind: ConfigMap\nmetadata: {name: n}\n"},
         names=(f"{CONFIG}/noapi.yaml", "apiVersion")),
    Case("missing kind", files={f"{CONFIG}/nokind.yaml": "apiVersion: v1\nmetadata: {name: n}\n"},
         names=(f"{CONFIG}/nokind.yaml", "kind")),
    Case("missing name", files={f"{CONFIG}/noname.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"},
         names=(f"{CONFIG}/noname.yaml", "metadata.name")),
    Case("dependency cycle", stack_edit=("{name: config, manifests: {path: config}, ",
                                         "{name: config, dependsOn: [secrets], manifests: {path: config}, "),
         more_stack_edit=("{name: secrets, manifests: {path: secrets}, ",
                          "{name: secrets, dependsOn: [config], manifests: {path: secrets}, "),
         names=(STACK, "cycle", "config", "secrets")),
    Case("invalid duration", stack_edit=("{name: config, manifests: {path: config}, ",
                                         "{name: config, healthTimeout: 5 minutes, manifests: {path: config}, "),
         names=(STACK, "healthTimeout")),
    Case("invalid selector", fleet_edit=("matchLabels: {role: worker}", "matchExpressions: [{key: role, operator: Sometimes}]"),
         names=("fleet.yaml", "operator")),
    Case("invalid semver range", fleet_edit=("version: 1.0.0}", "version: '~~1'}"), names=("fleet.yaml", "~~1")),
]


def prepare(rig, case: Case, outside: Path) -> None:
    for relative, content in case.files.items():
        path = rig.fleet / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    for relative, target in case.links.items():
        os.symlink(outside if target == "OUTSIDE" else target, rig.fleet / relative)
    for edit in (case.stack_edit, case.more_stack_edit):
        if edit:
            rig.edit(STACK, *edit)
    if case.fleet_edit:
        rig.edit("fleet.yaml", *case.fleet_edit)


def attempt(rig) -> str:
    """Plan and apply; the error text (a loader error, or the render failures of the plan)."""
    try:
        planned = rig.plan()
    except StackfleetError as exc:
        rig.error(exc, names=[])
        return str(exc)
    failures = [f.error for f in planned.render.failures]
    rig.apply(planned)
    for text in failures:
        rig.keep("errors", text)
    return "\n".join(failures)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_input_is_refused_naming_where_it_is_and_nothing_is_written(applied, case, figures, tmp_path,
                                                                           captured_logs):
    outside = tmp_path / "outside.yaml"
    outside.write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: stolen}}\ndata: {{k: {applied.canary}}}\n")
    prepare(applied, case, outside)
    writes = applied.writes()
    said = attempt(applied)
    missing = [n for n in case.names if n not in said]
    figures.bad_input(rejected=bool(said) and not missing)
    assert said and not missing, f"{case.name}: does not name {missing}: {said!r}"
    assert applied.writes() == writes  # no partial apply: not even a dry run
    applied.check(area=AREA, logs_text=captured_logs.text())


PEAK_RSS = """
import json, sys
from reconciler.render import fleet
from reconciler.source import opening
from reconciler.spec import loader

def peak_kib():
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmHWM:")).split()[1])

out = {}
for name, root in json.loads(sys.argv[1]).items():
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak RSS to the current RSS
    rendered = fleet.render(loader.load(opening.open_tree(root)))
    out[name] = {"kib": peak_kib(), "failures": [f.error[:200] for f in rendered.failures]}
print(json.dumps(out))
"""


def test_bomb_inputs_are_refused_within_bounded_memory(rig, figures, tmp_path):
    from shutil import copytree

    roots = {"clean fleet": str(rig.fleet)}
    for name, files in BOMBS.items():
        root = tmp_path / name.replace(" ", "-").replace("^", "")
        copytree(rig.fleet, root)
        for relative, text in files.items():
            (root / relative).write_text(text)
        roots[name] = str(root)
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, json.dumps(roots)], capture_output=True, text=True,
                          timeout=60, check=True)
    measured = json.loads(done.stdout)
    assert measured["clean fleet"]["failures"] == []
    for name in BOMBS:
        assert len(measured[name]["failures"]) == 3, measured[name]  # the config bundle on every cluster
        figures.peak_rss_kib[name] = measured[name]["kib"]
    figures.peak_rss_kib["clean fleet (baseline)"] = measured["clean fleet"]["kib"]
    assert max(m["kib"] for m in measured.values()) < 4 * measured["clean fleet"]["kib"]


PROBING_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: probe\nversion: 0.1.0\n",
    "templates/cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata: {name: probe}
data:
  lookup: {{ lookup "v1" "ConfigMap" "theirs" "bystander" | toJson | quote }}
  secret: {{ lookup "v1" "Secret" "theirs" "live-canary" | toJson | quote }}
  host: {{ getHostByName "localhost" | quote }}
  outside: {{ .Files.Get "../../../../../outside.yaml" | quote }}
""",
}


def test_a_chart_that_looks_up_the_cluster_the_network_or_files_outside_it_gets_nothing(applied, tmp_path,
                                                                                        captured_logs):
    from reconciler.render import fleet

    (tmp_path / "outside.yaml").write_text(f"stolen: {applied.canary}\n")
    for name, text in PROBING_CHART.items():
        applied.write(f"stacks/apps/1.0.0/charts/probe/{name}", text)
    applied.edit(STACK, "  - {name: secrets,", "  - {name: probe, layer: addons, namespace: apps, "
                 "helm: {chart: charts/probe}}\n  - {name: secrets,")
    asked = sum(applied.running.faults(c).total() for c in applied.running.names)
    rendered = fleet.render(applied.repo())
    assert sum(applied.running.faults(c).total() for c in applied.running.names) == asked  # no cluster request
    [probe] = [o for b in rendered.bundles if b.dest == "c0" for o in b.objects if o["metadata"]["name"] == "probe"]
    assert probe["data"] == {"lookup": "{}", "secret": "{}", "host": "", "outside": ""}
    applied.converge()
    applied.check(area=AREA, logs_text=captured_logs.text())
