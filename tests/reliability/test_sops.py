"""Issue 17 item 8: a SOPS-encrypted Secret (age) in the fleet repo is decrypted at render time in
memory, with the key from a file named by SOPS_AGE_KEY_FILE; its value reaches the cluster and no
other sink (logs, plan, diff, report, store). A wrong key is a clear error on that bundle only."""

from __future__ import annotations

import base64

import yaml
from kubernetes import client as kube

from reconciler import settings
from reconciler.core import plan_views, plans, rollout
from reconciler.engine import fleetrun, reconcile
from reconciler.render import fleet, sops
from tests.reliability.conftest import CANARY, canary_in
from tests.render import sops_files

AREA = "sops"
SECRET = "stacks/apps/1.0.0/secrets/secret.yaml"


def run(rig, keys_file) -> reconcile.ApplyReport:
    """Plan and apply the fleet with the age keys of ``keys_file`` (as the CLI and the daemon load them)."""
    repo = rig.repo()
    session = rig.session(repo)
    text = settings.sops_age_keys(environ={"SOPS_AGE_KEY_FILE": str(keys_file)})
    session.render_options = fleet.Options(age_keys=sops.AgeKeys.parse(text))
    planned = reconcile.plan_fleet(repo, session=session)
    rig.keep("plan file", plans.to_json(planned.plan))
    rig.keep("diff", plan_views.text(planned.plan, detail=True))
    rig.keep("report", plan_views.markdown(planned.plan))
    rig.keep("errors", "\n".join(f.error for f in planned.render.failures))
    options = reconcile.ApplyOptions(approve=True, rollout=fleetrun.Options(pause_limit=1e9, sleep=lambda _: None))
    done = reconcile.apply_plan(planned, session=session, options=options)
    rig.keep("report", repr(done))
    return done


def test_a_sops_secret_is_applied_decrypted_and_a_wrong_key_fails_only_its_bundle(applied, tmp_path, captured_logs):
    owner = sops_files.identity()
    keys_file = tmp_path / "age-keys.txt"
    keys_file.write_text(f"# public key: {owner.to_public()}\n{owner}\n")
    secret = yaml.safe_load(applied.fleet.joinpath(SECRET).read_text())
    secret["data"]["payload"] = base64.b64encode(f"rotated-{CANARY}".encode()).decode()
    applied.write(SECRET, sops_files.to_yaml(sops_files.encrypt(secret, [owner.to_public()])))
    assert not any(canary_in(p.read_bytes()) for p in applied.fleet.rglob("*") if p.is_file())

    done = run(applied, keys_file)
    assert {o.result for o in done.outcomes} == {rollout.Result.SUCCEEDED}
    live = kube.CoreV1Api(applied.running.api_client("c0")).read_namespaced_secret("app-secret", "apps")
    assert base64.b64decode(live.data["payload"]).decode() == f"rotated-{CANARY}"
    assert base64.b64decode(live.data["note"]).decode() == CANARY
    applied.check(area=AREA, logs_text=captured_logs.text())

    stranger = tmp_path / "stranger-keys.txt"
    stranger.write_text(f"{sops_files.identity()}\n")
    applied.edit("stacks/apps/1.0.0/config/cms.yaml", "data: {index: '1'}", "data: {index: 'one'}")
    repo = applied.repo()
    session = applied.session(repo)
    session.render_options = fleet.Options(age_keys=sops.AgeKeys.parse(stranger.read_text()))
    failures = reconcile.plan_fleet(repo, session=session).render.failures
    assert {(f.id.bundle, f.dest) for f in failures} == {("secrets", c) for c in ("c0", "c1", "c2")}
    assert all(SECRET in f.error and "no configured age key matches" in f.error for f in failures)
    second = run(applied, stranger)
    assert {o.result for o in second.outcomes} <= rollout.FAILURES | rollout.SUCCESSES
    core = kube.CoreV1Api(applied.running.api_client("c1"))
    assert core.read_namespaced_config_map("cm-1", "apps").data == {"index": "one"}  # the other bundles went on
    assert base64.b64decode(core.read_namespaced_secret("app-secret", "apps").data["payload"]).decode() == \
        f"rotated-{CANARY}"  # left as it was, not pruned
    applied.check(area=AREA, logs_text=captured_logs.text())
