"""Golden planner cases: tests/golden/plan/<case>/ holds the inputs and the expected plan.

Each case directory is named after the rule it proves and holds:

- ``desired.yaml``: ``bundles`` (DesiredBundle fields in camelCase; objects and ``hooks`` get this
  bundle's ownership marks added, as render does) and optional ``failures``;
- ``live.yaml``: ``clusters`` with ``name``, optional ``status``/``reason``/``served`` and ``objects``;
  a live object's ``_owner: fleet/stack/bundle`` is turned into real ownership marks;
- ``inventory.yaml``: an ``Inventory.to_dict`` document (``fingerprint: desired`` means "the
  fingerprint of the desired object", i.e. what we applied last time is what we want now);
- ``policy.yaml`` (optional): ``pruneBudgetPercent``, ``protectedKinds``, ``pausedClusters``, ``forced``;
- ``expected.json``: the plan, as ``plans.to_json`` writes it.

Regenerate with ``STACKFLEET_UPDATE_GOLDEN=1 python -m pytest tests/core/test_planner_golden.py``
and review the diff: the expected files are the specification.
"""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.core import planner, plans
from reconciler.core.desired import BundleId, BundlePolicy, DesiredBundle, HelmHook, IgnoreRule, RenderFailure
from reconciler.core.inventory import Inventory, fingerprint
from reconciler.core.live import LiveCluster
from reconciler.core.objects import (
    ANNOTATION_OWNER,
    LABEL_BUNDLE,
    LABEL_FLEET,
    LABEL_STACK,
    ObjectKey,
    owner_annotation,
)
from reconciler.core.statuses import Reachability

CASES = Path(__file__).resolve().parent.parent / "golden" / "plan"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
REVISION = "main@sha1:0123456789abcdef0123456789abcdef01234567"


def with_marks(obj: dict[str, Any], *, fleet: str, stack: str, bundle: str) -> dict[str, Any]:
    marked = copy.deepcopy(obj)
    meta = marked.setdefault("metadata", {})
    meta.setdefault("labels", {}).update({LABEL_FLEET: fleet, LABEL_STACK: stack, LABEL_BUNDLE: bundle})
    mark = owner_annotation(fleet=fleet, stack=stack, bundle=bundle, key=ObjectKey.of(marked))
    meta.setdefault("annotations", {})[ANNOTATION_OWNER] = mark
    return marked


def load_policy(data: dict[str, Any]) -> BundlePolicy:
    rules = tuple(
        IgnoreRule(
            pointers=tuple(r["pointers"]),
            **{k: r[k] for k in ("group", "kind", "name", "namespace") if k in r},
        )
        for r in data.get("ignore", ())
    )
    return BundlePolicy(
        prune=data.get("prune", True),
        allow_adoption=data.get("allowAdoption", False),
        allow_empty=data.get("allowEmpty", False),
        ignore=rules,
    )


def load_bundle(data: dict[str, Any]) -> DesiredBundle:
    bid = BundleId(**data["id"])
    fleet = data.get("fleet", "demo")
    return DesiredBundle(
        id=bid,
        dest=data.get("dest", bid.cluster),
        fleet=fleet,
        version=str(data.get("version", "1.0.0")),
        layer=data.get("layer", "addons"),
        layer_index=data.get("layerIndex", 2),
        depends_on=tuple(data.get("dependsOn", ())),
        objects=tuple(
            with_marks(o, fleet=fleet, stack=bid.stack, bundle=bid.bundle) for o in data.get("objects", ())
        ),
        policy=load_policy(data.get("policy", {})),
        hooks=tuple(load_hook(h, fleet=fleet, bundle=bid) for h in data.get("hooks", ())),
        paused=data.get("paused", False),
        content_hash=data.get("contentHash", f"sha256:{bid.bundle}"),
    )


def load_hook(data: dict[str, Any], *, fleet: str, bundle: BundleId) -> HelmHook:
    return HelmHook(
        phase=data["phase"],
        weight=data.get("weight", 0),
        delete_policies=tuple(data.get("deletePolicies", ("before-hook-creation",))),
        object=with_marks(data["object"], fleet=fleet, stack=bundle.stack, bundle=bundle.bundle),
    )


def load_live_object(obj: dict[str, Any]) -> dict[str, Any]:
    owner = obj.pop("_owner", None)
    if owner is None:
        return obj
    fleet, stack, bundle = owner.split("/")
    return with_marks(obj, fleet=fleet, stack=stack, bundle=bundle)


def load_cluster(data: dict[str, Any]) -> LiveCluster:
    status = Reachability(data.get("status", "reachable"))
    if status is not Reachability.REACHABLE:
        return LiveCluster.unreachable(data["name"], reason=data.get("reason", ""), status=status)
    served = frozenset(data["served"]) if data.get("served") is not None else None
    objects = [load_live_object(o) for o in data.get("objects", ())]
    return LiveCluster.reachable(data["name"], objects=objects, served=served)


def load_inventory(data: dict[str, Any], desired: list[DesiredBundle]) -> Inventory:
    applied = {(b.dest, ObjectKey.of(o)): fingerprint(o) for b in desired for o in b.objects}
    for bundle in data.get("bundles", ()):
        for entry in bundle.get("entries", ()):
            if entry.get("fingerprint") == "desired":
                key = ObjectKey(
                    entry.get("group", ""), entry["kind"], entry.get("namespace", ""), entry["name"]
                )
                entry["fingerprint"] = applied[(bundle["dest"], key)]
    return Inventory.from_dict(data)


def read_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) or {} if path.exists() else {}


def run_case(case: Path) -> plans.Plan:
    desired_doc = read_yaml(case / "desired.yaml")
    desired = [load_bundle(b) for b in desired_doc.get("bundles", ())]
    failures = [
        RenderFailure(BundleId(**f["id"]), f.get("dest", f["id"]["cluster"]), f["error"])
        for f in desired_doc.get("failures", ())
    ]
    live = {c.name: c for c in map(load_cluster, read_yaml(case / "live.yaml").get("clusters", ()))}
    policy_doc = read_yaml(case / "policy.yaml")
    policy = planner.PlanPolicy(
        prune_budget_percent=policy_doc.get("pruneBudgetPercent", 30),
        protected_kinds=frozenset(policy_doc.get("protectedKinds", planner.PROTECTED_KINDS)),
        paused_clusters=frozenset(policy_doc.get("pausedClusters", ())),
    )
    return planner.plan(
        desired=desired,
        failures=failures,
        live=live,
        inventory=load_inventory(read_yaml(case / "inventory.yaml"), desired),
        policy=policy,
        revision=REVISION,
        previous_revision_forced=policy_doc.get("forced", False),
        now=NOW,
    )


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_plan_matches_golden(case: str) -> None:
    got = plans.to_json(run_case(CASES / case))
    expected = CASES / case / "expected.json"
    if os.environ.get("STACKFLEET_UPDATE_GOLDEN") == "1":
        expected.write_text(got)
    assert got == expected.read_text()
