"""Apply runs and steps: written step by step; a crash leaves exactly the steps written."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from reconciler.core.desired import BundleId
from reconciler.core.objects import ObjectKey
from reconciler.core.statuses import Outcome, RunStatus
from reconciler.store import stores

BUNDLE = BundleId(cluster="eu-1", stack="platform", bundle="ingress")


def key(name: str) -> ObjectKey:
    return ObjectKey(group="", kind="ConfigMap", namespace="ingress", name=name)


CRASHING_WRITER = textwrap.dedent(
    """
    import os, sys
    from reconciler.core.desired import BundleId
    from reconciler.core.objects import ObjectKey
    from reconciler.store import stores
    from reconciler.core.statuses import Outcome

    store = stores.open_store(sys.argv[1])
    bundle = BundleId(cluster="eu-1", stack="platform", bundle="ingress")
    store.runs.start("run-1", revision="main@sha1:aaa")
    for i in range(3):
        cm = ObjectKey(group="", kind="ConfigMap", namespace="ingress", name=f"cm-{i}")
        store.runs.record_step("run-1", cluster="eu-1", bundle=bundle, key=cm, action="create",
                               outcome=Outcome.APPLIED)
    cm = ObjectKey(group="", kind="ConfigMap", namespace="ingress", name="cm-3")
    store.runs.begin_step("run-1", cluster="eu-1", bundle=bundle, key=cm, action="create")
    os._exit(3)  # no close, no commit of anything further, no atexit
    """
)


def crash_after_some_steps(database: str) -> int:
    done = subprocess.run([sys.executable, "-c", CRASHING_WRITER, database], timeout=60, check=False)
    return done.returncode


def test_a_crash_mid_run_leaves_exactly_the_steps_written(database: str) -> None:
    assert crash_after_some_steps(database) == 3
    store = stores.open_store(database)
    found = [(s.object_key, s.outcome) for s in store.runs.steps("run-1")]
    store.close()
    expected = [(f"ConfigMap/ingress/cm-{i}", Outcome.APPLIED) for i in range(3)]
    assert found == [*expected, ("ConfigMap/ingress/cm-3", Outcome.STARTED)]


def test_a_crashed_run_is_listed_as_unfinished(database: str) -> None:
    crash_after_some_steps(database)
    store = stores.open_store(database)
    unfinished = [r.id for r in store.runs.unfinished()]
    store.close()
    assert unfinished == ["run-1"]


def test_a_started_step_is_finished_in_place(store: stores.Store) -> None:
    store.runs.start("r", revision="rev")
    step_id = store.runs.begin_step("r", cluster="eu-1", bundle=BUNDLE, key=key("a"), action="update")
    store.runs.finish_step(step_id, Outcome.FAILED, error="admission webhook denied")
    (step,) = store.runs.steps("r")
    assert (step.outcome, step.error) == (Outcome.FAILED, "admission webhook denied")


def test_finishing_a_run_records_its_status_and_time(store: stores.Store) -> None:
    store.runs.start("r", revision="rev", plan_id="p-1")
    finished = store.runs.finish("r", RunStatus.SUCCEEDED)
    assert (finished.status, finished.plan_id, finished.finished_at is not None) == (
        RunStatus.SUCCEEDED,
        "p-1",
        True,
    )
