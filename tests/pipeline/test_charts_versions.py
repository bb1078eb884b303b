"""A stack version bump writes only the objects that changed: the version is kept in the bundle's
inventory and the plan's bundle records, not on every object."""

from __future__ import annotations

from reconciler.core.plans import Action
from reconciler.sim.clusters import Write

CLUSTER = "bump-1"
CONFIG = "".join(
    f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}}}\ndata: {{n: '{i}'}}\n---\n" for i in range(5)
)


def bumped(files: dict[str, str]) -> dict[str, str]:
    """Version 1.1.0 of the stack next to 1.0.0: the same but cm-0's value; the cluster moved to it."""
    out = dict(files)
    for path, text in files.items():
        if path.startswith("stacks/apps/1.0.0/"):
            out[path.replace("1.0.0", "1.1.0")] = text.replace("1.0.0", "1.1.0").replace("n: '0'", "n: 'zero'")
    out[f"clusters/{CLUSTER}.yaml"] = files[f"clusters/{CLUSTER}.yaml"].replace("1.0.0", "1.1.0")
    return out


def test_a_version_bump_updates_only_what_changed_and_the_inventory_keeps_the_version(bench_factory,
                                                                                      small_fleet) -> None:
    files = small_fleet(CLUSTER, CONFIG)
    bench = bench_factory(files, [CLUSTER])
    bench.apply()
    for path, text in bumped(files).items():
        (bench.fleet / path).parent.mkdir(parents=True, exist_ok=True)
        (bench.fleet / path).write_text(text.lstrip())
    plan = bench.plan().plan
    updates = [c.key.name for c in plan.steps if c.action is Action.UPDATE]
    assert (updates, [b.version for b in plan.bundles]) == (["cm-0"], ["1.1.0"])
    bench.apply()
    [inventory] = bench.store.inventories.load_all()
    assert (inventory.version, bench.plan().plan.has_changes) == ("1.1.0", False)


def test_the_annotation_of_earlier_releases_causes_no_change(bench_factory, small_fleet) -> None:
    bench = bench_factory(small_fleet(CLUSTER, CONFIG), [CLUSTER])
    bench.apply()
    [desired] = [o for b in bench.plan().render.bundles for o in b.objects if o["metadata"]["name"] == "cm-1"]
    desired["metadata"]["annotations"]["stackfleet.dev/stack-version"] = "0.9.0"  # as an earlier release applied it
    cluster = bench.running.cluster(CLUSTER)
    configmaps = cluster.registry.lookup("", "v1", "configmaps")
    cluster.apply(configmaps, "default", "cm-1", desired, force=False, how=Write(manager="stackfleet"))
    assert (bench.plan().plan.has_changes, bench.drift().entries) == (False, ())
