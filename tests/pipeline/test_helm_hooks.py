"""Helm hooks run as ordered steps of their bundle: pre hooks (by weight) before the bundle's objects,
post hooks after them, each in a wave of its own, with Helm's delete policies."""

from __future__ import annotations

from click.testing import CliRunner

from reconciler.cli import apply as apply_cli
from reconciler.core.plans import Action
from reconciler.engine import waves

BUNDLE = "{name: web, layer: addons, namespace: default, helm: {chart: charts/web, releaseName: web}}"
CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"


def hook(name: str, event: str, *, weight: int, policy: str) -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n"
            f"    helm.sh/hook: {event}\n    helm.sh/hook-weight: '{weight}'\n"
            f"    helm.sh/hook-delete-policy: {policy}\ndata: {{x: '1'}}\n")


JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: pre-late
  annotations: {helm.sh/hook: pre-install, helm.sh/hook-weight: "5", helm.sh/hook-delete-policy: hook-succeeded}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: busybox, command: ["true"]}]
"""
TEMPLATES = {
    "app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {x: '1'}\n",
    "pre-late.yaml": JOB,
    "pre-early.yaml": hook("pre-early", "pre-install", weight=-5, policy="hook-succeeded"),
    "post.yaml": hook("post", "post-install", weight=0, policy="before-hook-creation"),
}


def fleet_files(small_fleet) -> dict[str, str]:
    files = small_fleet("hooked-1", "", bundle=BUNDLE)
    files.pop("stacks/apps/1.0.0/config/objects.yaml")
    files["stacks/apps/1.0.0/charts/web/Chart.yaml"] = CHART
    files.update({f"stacks/apps/1.0.0/charts/web/templates/{n}": t for n, t in TEMPLATES.items()})
    return files


def test_hooks_are_steps_in_their_own_waves_around_the_bundle(bench_factory, small_fleet) -> None:
    bench = bench_factory(fleet_files(small_fleet), ["hooked-1"])
    steps = [c for c in bench.plan().plan.steps if c.action is Action.CREATE]
    cut = [[c.key.name for c in w.changes] for w in waves.split(steps)]
    assert cut == [["pre-early"], ["pre-late"], ["app"], ["post"]]


def writes(bench) -> list[str]:
    """The sim's write requests in order (dry-runs included), as ``verb resource``."""
    history = bench.running.faults("hooked-1").history
    return [f"{verb} {resource}" for _, verb, resource in history if verb in ("patch", "delete")]


def test_an_apply_waits_for_the_job_hook_and_honours_delete_policies(bench_factory, small_fleet) -> None:
    bench = bench_factory(fleet_files(small_fleet), ["hooked-1"])
    [outcome] = bench.apply().outcomes
    assert (outcome.result.value, writes(bench)) == ("succeeded", [
        "patch configmaps", "patch configmaps",  # pre-early: dry-run, apply
        "patch jobs", "patch jobs",  # pre-late, waited for until complete
        "delete configmaps", "delete jobs",  # the pre phase is over: both deleted (hook-succeeded), as Helm does
        "patch configmaps", "patch configmaps",  # app
        "patch configmaps", "patch configmaps",  # post (kept: before-hook-creation)
    ])


def test_hooks_run_again_on_a_change_replacing_their_previous_objects(bench_factory, small_fleet) -> None:
    bench = bench_factory(fleet_files(small_fleet), ["hooked-1"])
    bench.apply()
    app = bench.fleet / "stacks/apps/1.0.0/charts/web/templates/app.yaml"
    app.write_text(app.read_text().replace("x: '1'", "x: '2'"))
    before = bench.running.faults("hooked-1").total("delete")
    report = bench.apply()
    deletes = bench.running.faults("hooked-1").total("delete") - before
    assert report.outcomes[0].result.value == "succeeded" and deletes == 3  # both pre hooks done again, post replaced


def test_a_kept_hook_object_is_neither_pruned_nor_rerun_while_nothing_changes(bench_factory, small_fleet) -> None:
    bench = bench_factory(fleet_files(small_fleet), ["hooked-1"])
    bench.apply()
    plan = bench.plan().plan
    assert not plan.has_changes and not plan.steps


def test_stackfleet_apply_runs_the_chart_with_its_hooks(bench_factory, small_fleet, tmp_path) -> None:
    bench = bench_factory(fleet_files(small_fleet), ["hooked-1"])
    args = ["--fleet", str(bench.fleet), "--kubeconfig", str(bench.running.kubeconfig),
            "--state", str(tmp_path / "cli.db"), "--yes"]
    done = CliRunner().invoke(apply_cli.command, args, catch_exceptions=False)
    assert (done.exit_code, writes(bench).count("delete jobs")) == (0, 1), done.output


def test_a_job_hook_that_never_completes_fails_the_bundle_and_is_deleted_as_hook_failed(bench_factory,
                                                                                       small_fleet) -> None:
    files = fleet_files(small_fleet)
    files["stacks/apps/1.0.0/stack.yaml"] = files["stacks/apps/1.0.0/stack.yaml"].replace(
        "releaseName: web}", "releaseName: web}, healthTimeout: 1s")
    templates = "stacks/apps/1.0.0/charts/web/templates"
    files[f"{templates}/pre-late.yaml"] = JOB.replace("hook-delete-policy: hook-succeeded", "hook-delete-policy: hook-failed")
    bench = bench_factory(files, ["hooked-1"])
    bench.running.controllers.stop()  # nothing runs the Job: it never completes
    [outcome] = bench.apply().outcomes
    assert (outcome.result.value, writes(bench)[-1], "app" in [s.change.key.name for s in outcome.unit.steps
                                                               if s.outcome.value == "applied"]) == (
        "failed", "delete jobs", False)
