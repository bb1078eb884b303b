"""examples/05-pull-request-plans: the CI jobs fetch the daemon's plan of a head through its API, and the
daemon settings load with a forge to post to.

The GitHub Actions step and the GitLab job are run as their runners would: their environment taken from
the YAML (expressions and ``$CI_*`` variables filled in), their command run by ``sh`` against the
daemon's web app on 127.0.0.1 serving a store that holds a pull request's plan.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from reconciler import settings
from reconciler.core import inventory, planner, prplan_views, prplans
from reconciler.core.desired import BundleId, DesiredBundle
from reconciler.core.inventory import Inventory
from reconciler.core.live import LiveCluster
from reconciler.daemon import reviews
from reconciler.forges.github import GitHub
from reconciler.store import stores
from reconciler.web import testing
from reconciler.web.access import Tokens
from reconciler.web.services import Services

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "05-pull-request-plans"
TOKEN = "ci-read-token-31"
SHA = "d" * 40
NOW = datetime(2026, 1, 2, tzinfo=UTC)


def pr_plan() -> prplans.PullRequestPlan:
    def bundle(value: str) -> DesiredBundle:
        obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "hello", "namespace": "hello"},
               "data": {"greeting": value}}
        return DesiredBundle(id=BundleId("dev", "hello", "hello"), dest="dev", fleet="f", version="1.0.0",
                             layer="addons", layer_index=0, depends_on=(), objects=(obj,),
                             content_hash=inventory.fingerprint(obj))

    live = {"dev": LiveCluster.reachable("dev", objects=[])}
    plans = [planner.plan(desired=[b], failures=[], live=live, inventory=Inventory(), policy=planner.PlanPolicy(),
                          revision=r, previous_revision_forced=False, now=NOW)
             for b, r in ((bundle("hi"), "main@sha1:" + "a" * 40), (bundle("hello"), f"refs/pull/7/head@sha1:{SHA}"))]
    return prplans.compose(base=[bundle("hi")], head=[bundle("hello")], base_plan=plans[0], head_plan=plans[1],
                           number=7)


@pytest.fixture(scope="module")
def daemon_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = stores.open_store(tmp_path_factory.mktemp("ci") / "state.db")
    plan = pr_plan()
    store.plans.save("plan-head", planner.plan(desired=[], failures=[], live={}, inventory=Inventory(),
                                               policy=planner.PlanPolicy(), revision=plan.head,
                                               previous_revision_forced=False, now=NOW))
    store.pr_plans.save("pr-1", plan, source="fleet", head_sha=SHA, plan_id="plan-head")
    services = Services(store=store, tokens=Tokens.of(read=[TOKEN], admin=[]), clock=lambda: NOW)
    with testing.running(services) as (server, _):
        yield server.url
    store.close()


def run(command: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(["sh", "-c", command], cwd=EXAMPLE, env={**base, **env, "PLAN_FILE": str(tmp_path / "plan.md")},
                          capture_output=True, text=True, timeout=60)


def github_step() -> tuple[str, dict[str, str]]:
    workflow = yaml.safe_load((EXAMPLE / ".github/workflows/stackfleet-plan.yml").read_text())
    [step] = [s for s in workflow["jobs"]["plan"]["steps"] if "run" in s]
    return step["run"], step["env"]


def github_env(url: str, token: str, number: str) -> dict[str, str]:
    """The step's env as the runner fills its ``${{ ... }}`` expressions."""
    context = {"vars.STACKFLEET_URL": url, "secrets.STACKFLEET_READ_TOKEN": token,
               "github.event.pull_request.number": number, "github.event.pull_request.head.sha": SHA}
    _, env = github_step()
    return {k: re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: context[m.group(1)], str(v)) for k, v in env.items()}


def test_the_github_step_writes_the_daemons_plan_into_the_job_summary(daemon_api: str, tmp_path: Path) -> None:
    command, _ = github_step()
    summary = tmp_path / "summary.md"
    done = run(command, {**github_env(daemon_api, TOKEN, "7"), "GITHUB_STEP_SUMMARY": str(summary)}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert summary.read_text() == prplan_views.markdown(pr_plan())


def test_the_gitlab_job_keeps_the_plan_as_its_artifact(daemon_api: str, tmp_path: Path) -> None:
    job = yaml.safe_load((EXAMPLE / ".gitlab-ci.yml").read_text())["stackfleet-plan"]
    runner = {"CI_MERGE_REQUEST_IID": "7", "CI_COMMIT_SHA": SHA, "STACKFLEET_URL": daemon_api,
              "STACKFLEET_TOKEN": TOKEN}
    variables = {k: re.sub(r"\$(\w+)", lambda m: runner[m.group(1)], str(v)) for k, v in job["variables"].items()}
    done = run(" && ".join(job["script"]), {**runner, **variables}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert job["artifacts"]["paths"] == ["plan.md"] and "hello" in (tmp_path / "plan.md").read_text()


def test_a_refused_token_fails_the_job(daemon_api: str, tmp_path: Path) -> None:
    command, _ = github_step()
    done = run(command, {**github_env(daemon_api, "wrong", "7"), "GITHUB_STEP_SUMMARY": "/dev/null"}, tmp_path)
    assert (done.returncode, "HTTP 401" in done.stderr) == (1, True)


def test_a_head_the_daemon_has_not_planned_fails_after_the_wait(daemon_api: str, tmp_path: Path) -> None:
    command, _ = github_step()
    env = {**github_env(daemon_api, TOKEN, "8"), "GITHUB_STEP_SUMMARY": "/dev/null", "STACKFLEET_WAIT": "0"}
    done = run(command, env, tmp_path)
    assert (done.returncode, "has not planned pull request 8" in done.stderr) == (1, True)


def test_the_daemon_settings_name_a_forge_to_post_to() -> None:
    loaded = settings.load(EXAMPLE / "stackfleet.yaml", environ={})
    [source] = loaded.sources
    assert source.pull_requests is not None and source.pull_requests.discover == "api"
    os.environ["FLEET_FORGE_TOKEN"] = "forge-token-example"
    try:
        forges = reviews.forges_of(loaded.sources)
    finally:
        del os.environ["FLEET_FORGE_TOKEN"]
    forge = forges["fleet"]
    assert isinstance(forge, GitHub) and forge.repository == "acme/fleet"
