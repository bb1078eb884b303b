"""An ingress controller chart with an admission webhook (tests/data/charts/ingress-webhook): its RBAC hooks
are listed for pre and post events, as the most used ingress chart does, and must be there for the pre Job
and for the post Job."""

from __future__ import annotations

from reconciler.core.plans import Action
from reconciler.engine import waves

CLUSTER = "ingress-1"


def test_a_hook_listed_for_pre_and_post_events_renders_as_a_pre_hook_kept_until_post(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "ingress-webhook"), [CLUSTER])
    [bundle] = bench.plan().render.bundles
    spans = {h.object["kind"]: (h.phase, h.last_phase) for h in bundle.hooks if h.last_phase}
    assert spans == {"ServiceAccount": ("pre", "post"), "Role": ("pre", "post"), "RoleBinding": ("pre", "post")}


def test_the_shared_rbac_is_applied_first_and_deleted_only_after_the_post_job(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "ingress-webhook"), [CLUSTER])
    steps = [c for c in bench.plan().plan.steps if c.action is Action.CREATE]
    first = [w.changes[0].key.kind for w in waves.split(steps)][:4]
    [outcome] = bench.apply().outcomes
    history = [f"{verb} {resource}" for _, verb, resource in bench.running.faults(CLUSTER).history
               if verb in ("patch", "delete")]
    last_job_write = max(i for i, w in enumerate(history) if w == "patch jobs")
    rbac_deletes = [i for i, w in enumerate(history) if w == "delete serviceaccounts"]
    assert (first, outcome.result.value, len(rbac_deletes)) == (
        ["ServiceAccount", "Role", "RoleBinding", "Job"], "succeeded", 1)
    assert rbac_deletes[0] > last_job_write, history


def test_after_the_apply_nothing_is_planned_and_nothing_drifted(bench_factory, charted) -> None:
    bench = bench_factory(charted(CLUSTER, "ingress-webhook"), [CLUSTER])
    bench.apply()
    assert (bench.plan().plan.has_changes, bench.drift().entries) == (False, ())
