"""The daemon plans pull requests: heads found by ref pattern in a real Git repo, planned once each with
the daemon's state on sim clusters, posted to a local server answering like GitHub, and at the merge the
reviewed plan is applied when it still matches (else re-planned and re-posted)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from reconciler import metrics, settings
from reconciler.core.statuses import PrPlanState
from reconciler.daemon.jobs import Daemon
from reconciler.daemon.journals import StoreJournal
from reconciler.daemon.pipelines import EnginePipeline
from reconciler.daemon.reviews import Planner, Reviews
from reconciler.daemon.tracks import Track
from reconciler.forges.github import GitHub
from reconciler.forges.gitlab import GitLab
from reconciler.forges.posts import MARKER
from reconciler.forges.retries import Retry
from reconciler.sim.clusters import Write
from reconciler.source.git import Mirror
from reconciler.source.sources import GitSource
from reconciler.web import testing as web_testing
from reconciler.web.access import Tokens
from reconciler.web.services import Services
from tests.forges.servers import GitHubFake, GitLabFake, serving
from tests.pipeline.conftest import Bench, StartBench, one_cluster_fleet, write_files

TOKEN = "gh-token-77"


def config(value: str, extra: str = "") -> str:
    return f"""
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings, namespace: default}}
data: {{level: {value}}}
{extra}"""


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.dev",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.dev"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


@dataclass
class World:
    repo: Path
    bench: Bench
    fake: GitHubFake
    daemon: Daemon
    track: Track
    reviews: Reviews

    def pull_request(self, number: int, value: str = "", *, files: dict[str, str] | None = None) -> str:
        """Commit ``value`` (or ``files``) on the PR's branch and point ``refs/pull/N/head`` at it, as GitHub does."""
        branch = f"pr-{number}"
        exists = branch in git(self.repo, "branch", "--list", branch)
        git(self.repo, "checkout", "-q", *([branch] if exists else ["-b", branch, "main"]))
        for relative, text in (files or {"stacks/apps/1.0.0/config/objects.yaml": config(value)}).items():
            (self.repo / relative).write_text(text)
        git(self.repo, "commit", "-q", "-am", f"#{number}: {value or ', '.join(files or {})}")
        git(self.repo, "checkout", "-q", "main")
        sha = git(self.repo, "rev-parse", branch)
        git(self.repo, "update-ref", f"refs/pull/{number}/head", sha)
        self.fake.open_pull(number, head=sha)
        return sha

    def edit_live(self, name: str, change: dict[str, str]) -> None:
        """Someone else edits the live ConfigMap (``kubectl edit``)."""
        cluster = self.bench.running.server.clusters["c1"]
        rt = cluster.registry.lookup("", "v1", "configmaps")
        assert rt is not None
        cluster.patch(rt, "default", name, lambda obj: {**obj, "data": {**obj["data"], **change}},
                      Write(manager="kubectl-edit"))

    def live_level(self) -> str:
        cluster = self.bench.running.server.clusters["c1"]
        rt = cluster.registry.lookup("", "v1", "configmaps")
        assert rt is not None
        found = cluster.find(rt, "default", "settings")
        return str(found["data"]["level"]) if found else ""


@pytest.fixture
def world(tmp_path: Path, bench_factory: StartBench) -> Iterator[World]:
    files = one_cluster_fleet("c1", config("info"))
    bench = bench_factory(files, ["c1"])
    repo = write_files(tmp_path / "repo", files)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fleet")
    fake = GitHubFake(tokens={TOKEN: "write"})
    with serving(fake):
        track = Track("fleet", GitSource(Mirror(repo.as_uri(), cache_dir=tmp_path / "mirrors"), ref="main"))
        pipeline = EnginePipeline(store=bench.store, kubeconfig=str(bench.running.kubeconfig),
                                  client_settings=bench.settings)
        forge = GitHub("acme/fleet", token=TOKEN, api_url=fake.url, retry=Retry(attempts=2, sleep=lambda _: None))
        configs = {"fleet": settings.PullRequests(refs="refs/pull/*/head",
                                                  dashboard_url="https://sf.example")}
        reviews = Reviews(bench.store, Planner(pipeline.session_for, lambda: pipeline.approved), configs,
                          forges={"fleet": forge})
        pipeline.reviews = reviews
        daemon = Daemon([track], pipeline=pipeline, journal=StoreJournal(bench.store), reviews=reviews)
        yield World(repo, bench, fake, daemon, track, reviews)
        pipeline.close()


def started(world: World) -> World:
    world.daemon.poll(world.track)
    assert world.live_level() == "info"
    return world


def test_a_pull_request_head_is_planned_once_posted_and_never_applied(world: World) -> None:
    started(world)
    sha = world.pull_request(1, "debug")
    world.daemon.poll(world.track)
    world.daemon.poll(world.track)
    record = world.bench.store.pr_plans.find("fleet", 1, sha)
    assert record is not None and record.state is PrPlanState.POSTED
    [comment] = world.fake.comments[1]
    assert comment["body"].startswith(MARKER) and "settings" in comment["body"]
    assert [s["state"] for s in world.fake.statuses[sha]] == ["success"]
    assert world.fake.statuses[sha][0]["target_url"] == f"https://sf.example/plans/{record.plan_id}"
    plan = world.bench.store.pr_plans.load(record.id)
    assert [(c.action.value, c.key.name) for c in plan.changes] == [("update", "settings")]
    assert world.live_level() == "info"


def test_a_new_head_supersedes_the_old_plan_and_edits_the_same_comment(world: World) -> None:
    started(world)
    first = world.pull_request(1, "debug")
    world.daemon.poll(world.track)
    second = world.pull_request(1, "trace")
    world.daemon.poll(world.track)
    states = [(r.head_sha, r.state) for r in reversed(world.bench.store.pr_plans.recent())]
    assert states == [(first, PrPlanState.SUPERSEDED), (second, PrPlanState.POSTED)]
    [comment] = world.fake.comments[1]
    assert "trace" in comment["body"] and "debug" not in comment["body"].split("+++ head", 1)[1]


def test_at_the_merge_the_reviewed_plan_is_applied(world: World) -> None:
    started(world)
    sha = world.pull_request(1, "debug")
    world.daemon.poll(world.track)
    git(world.repo, "merge", "-q", "--ff-only", "pr-1")
    world.daemon.poll(world.track)
    record = world.bench.store.pr_plans.find("fleet", 1, sha)
    assert record is not None and (record.state, world.live_level()) == (PrPlanState.APPLIED, "debug")
    assert "merged and applied" in plans_page(world)


def test_secret_values_reach_neither_the_comment_nor_the_store(world: World) -> None:
    started(world)
    canary, canary_b64 = "canary-pr-5Qx9", base64.b64encode(b"canary-pr-5Qx9").decode()
    secret = f"""
---
apiVersion: v1
kind: Secret
metadata: {{name: creds, namespace: default}}
stringData: {{password: {canary}}}
"""
    sha = world.pull_request(2, files={"stacks/apps/1.0.0/config/objects.yaml": config("info") + secret})
    world.daemon.poll(world.track)
    [comment] = world.fake.comments[2]
    record = world.bench.store.pr_plans.find("fleet", 2, sha)
    assert record is not None and "Secret/default/creds" in comment["body"] and "masked sha256:" in comment["body"]
    stored = record.body + world.bench.store.plans.get(record.plan_id).body
    shown = comment["body"] + stored + json.dumps(world.fake.statuses[sha])
    assert (canary in shown, canary_b64 in shown, TOKEN in shown) == (False, False, False)


def test_an_invalid_head_gets_one_failing_status_and_a_comment_naming_the_problem(world: World) -> None:
    started(world)
    sha = world.pull_request(4, files={"fleet.yaml": "apiVersion: stackfleet.dev/v1alpha1\nkind: Fleet\nmetadata: {name: [\n"})
    world.daemon.poll(world.track)
    world.daemon.poll(world.track)
    [comment] = world.fake.comments[4]
    assert "not a valid fleet repo" in comment["body"] and "fleet.yaml:4" in comment["body"]
    assert [s["state"] for s in world.fake.statuses[sha]] == ["failure"]
    assert world.bench.store.pr_plans.find("fleet", 4, sha) is None


def test_a_squash_merge_applies_the_reviewed_plan(world: World) -> None:
    started(world)
    sha = world.pull_request(1, "debug")
    world.daemon.poll(world.track)
    git(world.repo, "merge", "-q", "--squash", "pr-1")
    git(world.repo, "commit", "-q", "-m", "level debug (#1)")
    world.daemon.poll(world.track)
    record = world.bench.store.pr_plans.find("fleet", 1, sha)
    assert record is not None and (record.state, world.live_level()) == (PrPlanState.APPLIED, "debug")


def test_a_merge_that_renders_something_else_is_re_planned_and_re_posted(world: World) -> None:
    started(world)
    sha = world.pull_request(1, "debug")
    world.daemon.poll(world.track)
    other = world.repo / "stacks/apps/1.0.0/config/more.yaml"
    other.write_text(config("x").replace("name: settings", "name: more"))
    git(world.repo, "add", "-A")
    git(world.repo, "commit", "-q", "-m", "another change on main")
    git(world.repo, "merge", "-q", "--no-ff", "-m", "merge #1", "pr-1")
    world.daemon.poll(world.track)
    record = world.bench.store.pr_plans.find("fleet", 1, sha)
    assert record is not None and record.state is PrPlanState.SUPERSEDED
    assert "rendered content differs" in record.note and world.live_level() == "debug"
    [comment] = world.fake.comments[1]
    assert comment["body"].startswith(MARKER) and "re-planned" in comment["body"]


def test_a_live_object_moved_since_the_review_is_re_planned_at_the_merge(world: World) -> None:
    started(world)
    sha = world.pull_request(1, "debug")
    world.daemon.poll(world.track)
    world.edit_live("settings", {"owner": "someone"})
    git(world.repo, "merge", "-q", "--ff-only", "pr-1")
    world.daemon.poll(world.track)
    record = world.bench.store.pr_plans.find("fleet", 1, sha)
    assert record is not None and record.state is PrPlanState.SUPERSEDED
    assert "live objects or the inventory moved" in record.note and world.live_level() == "debug"


def test_a_failing_forge_is_recorded_counted_and_retried_later(world: World) -> None:
    started(world)
    world.fake.fail("POST", r"/repos/acme/fleet/issues/1/comments", 502, times=2)
    before = metrics.PR_POSTS.labels(source="fleet", forge="github", result="failed")._value.get()
    sha = world.pull_request(1, "debug")
    world.daemon.poll(world.track)
    record = world.bench.store.pr_plans.find("fleet", 1, sha)
    assert record is not None and (record.state, record.post_attempts) == (PrPlanState.PLANNED, 1)
    assert "HTTP 502" in record.post_error and TOKEN not in record.post_error
    after = metrics.PR_POSTS.labels(source="fleet", forge="github", result="failed")._value.get()
    assert after - before == 1
    assert "failed (1 attempt(s))" in plans_page(world)
    world.daemon.poll(world.track)  # too soon: the retry waits
    assert world.fake.comments[1] == []
    world.reviews.clock = lambda: datetime.now(record.updated_at.tzinfo) + timedelta(minutes=5)
    world.daemon.poll(world.track)
    record = world.bench.store.pr_plans.find("fleet", 1, sha)
    assert record is not None and record.state is PrPlanState.POSTED and len(world.fake.comments[1]) == 1


def plans_page(world: World) -> str:
    services = Services(store=world.bench.store, tokens=Tokens.of(read=["r"], admin=[]),
                        clock=lambda: datetime.now().astimezone())
    with web_testing.running(services) as (_, client):
        return client.get("/plans", headers={"Authorization": "Bearer r"}).text


def test_the_dashboard_and_the_api_list_pull_request_plans(world: World) -> None:
    started(world)
    sha = world.pull_request(1, "debug")
    world.daemon.poll(world.track)
    services = Services(store=world.bench.store, tokens=Tokens.of(read=["r"], admin=[]),
                        clock=lambda: datetime.now().astimezone())
    with web_testing.running(services) as (_, client):
        auth = {"Authorization": "Bearer r"}
        page = client.get("/plans", headers=auth)
        listed = client.get("/api/v1/pull-requests", headers=auth).json()["pullRequests"]
        markdown = client.get("/api/v1/pull-requests/1/plan", params={"sha": sha, "format": "markdown"},
                              headers=auth)
        missing = client.get("/api/v1/pull-requests/2/plan", headers=auth)
    assert page.status_code == 200 and "fleet #1" in page.text and "posted" in page.text
    assert [(p["number"], p["state"]) for p in listed] == [(1, "posted")]
    assert markdown.headers["content-type"].startswith("text/markdown") and "settings" in markdown.text
    assert missing.status_code == 404


def test_gitlab_merge_requests_listed_through_the_api_are_planned_and_noted(tmp_path: Path,
                                                                          bench_factory: StartBench) -> None:
    files = one_cluster_fleet("c1", config("info"))
    bench = bench_factory(files, ["c1"])
    repo = write_files(tmp_path / "repo", files)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fleet")
    git(repo, "checkout", "-q", "-b", "mr-3")
    (repo / "stacks/apps/1.0.0/config/objects.yaml").write_text(config("warn"))
    git(repo, "commit", "-q", "-am", "warn")
    git(repo, "checkout", "-q", "main")
    sha = git(repo, "rev-parse", "mr-3")
    git(repo, "update-ref", "refs/merge-requests/3/head", sha)
    git(repo, "update-ref", "refs/merge-requests/2/head", sha)  # closed: the API does not list it
    fake = GitLabFake(tokens={TOKEN: "write"})
    fake.open_merge_request(3, head=sha)
    fake.open_merge_request(4, head=sha, fork=99)  # from a fork: not planned unless forks: true
    with serving(fake):
        track = Track("fleet", GitSource(Mirror(repo.as_uri(), cache_dir=tmp_path / "mirrors"), ref="main"))
        pipeline = EnginePipeline(store=bench.store, kubeconfig=str(bench.running.kubeconfig),
                                  client_settings=bench.settings)
        forge = GitLab("acme/fleet", token=TOKEN, api_url=f"{fake.url}/api/v4", retry=Retry(sleep=lambda _: None))
        forge_settings = {"kind": "gitlab", "repository": "acme/fleet", "token": {"env": "UNUSED"}}
        configs = {"fleet": settings.PullRequests(discover="api", forge=forge_settings)}
        reviews = Reviews(bench.store, Planner(pipeline.session_for, lambda: pipeline.approved), configs,
                          forges={"fleet": forge})
        daemon = Daemon([track], pipeline=pipeline, journal=StoreJournal(bench.store), reviews=reviews)
        daemon.poll(track)
        pipeline.close()
    assert [(r.number, r.state) for r in bench.store.pr_plans.recent()] == [(3, PrPlanState.POSTED)]
    notes = [n for n in fake.notes[3] if not n["system"]]
    assert len(notes) == 1 and notes[0]["body"].startswith(MARKER) and "warn" in notes[0]["body"]
    assert [s["state"] for s in fake.statuses[sha]] == ["success"]
