"""``stackfleet apply`` from empty, again with nothing to do, and with a stale saved plan."""

from __future__ import annotations

import json
import subprocess
import sys


def test_apply_from_empty_converges_and_a_second_apply_writes_nothing(bare):
    done = bare.stackfleet("apply", "--yes", "--approve", "--approve-stage", "prod-rest", "-o", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    assert {row["result"] for row in summary["clusters"]} == {"succeeded"}
    assert summary["writes"] > 100
    before = bare.writes()
    again = bare.stackfleet("apply", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "no changes" in again.stdout
    assert bare.writes() == before
    assert bare.stackfleet("plan").returncode == 0


def test_without_yes_nothing_is_applied_when_the_answer_is_no(bare):
    done = bare.stackfleet("apply")
    assert done.returncode == 1
    assert bare.writes() == 0


def test_a_saved_plan_is_refused_once_a_live_object_moved(bare, tmp_path):
    first = bare.stackfleet("apply", "--yes", "--approve", "--approve-stage", "prod-rest")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "[mgmt] step 1 " in first.stderr  # progress, one plain line per step when not on a terminal
    assert "succeeded" in first.stdout.split("write(s)")[1]
    bare.commit_on_branch("more-replicas", "clusters/stage-eu-1.yaml", append="    hello:\n      replicas: 4\n")
    saved = tmp_path / "plan.json"
    planned = bare.stackfleet("plan", "--out", str(saved), ref="more-replicas")
    assert planned.returncode == 2, planned.stdout + planned.stderr
    plan = json.loads(saved.read_text())
    step = next(c for c in plan["changes"] if c["step"] is not None)
    bare.running.server.kubeconfig(bare.running.kubeconfig)  # add the contexts of the provisioned children
    client = bare.running.dynamic_client(step["dest"])
    api = client.resources.get(api_version="apps/v1" if step["key"]["group"] == "apps" else "v1", kind=step["key"]["kind"])
    api.patch(name=step["key"]["name"], namespace=step["key"]["namespace"] or None,
              body={"metadata": {"labels": {"touched": "yes"}}}, content_type="application/merge-patch+json")
    refused = bare.stackfleet("apply", "--plan", str(saved), "--yes", ref="more-replicas")
    assert refused.returncode == 1
    assert "live object changed since the plan was made" in refused.stderr


def test_the_command_modules_import_on_their_own():
    # apply imports plan; neither may import cli.main, which imports every command module
    done = subprocess.run([sys.executable, "-c", "import reconciler.cli.apply"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
