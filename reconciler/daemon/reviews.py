"""Pull requests in the daemon: find their heads, plan each new head once, post the plan, and at the
merge tell whether the reviewed plan is still what would be applied.

After each poll of a source with ``pull_requests`` set, ``scan`` lists the heads of its open pull
requests (the refs the remote advertises under the pattern, e.g. ``refs/pull/*/head``; or the forge's
list of open PRs into the source's branch), fetches each head it has not planned yet, and plans it with
``engine.pullrequests`` against the last good revision of the branch and the daemon's own state. The
plan is stored (the head's full plan in ``plans``, the PR plan in ``pr_plans``; earlier heads of the
PR are superseded) and, with a forge, posted: the plan comment edited in place and a commit status on
the head. A post that fails is recorded on the plan (error, attempts), counted in
``stackfleet_pr_posts_total{result="failed"}`` and retried at later scans with a growing delay; it never
stops the daemon.

``merged(source, revision)`` gives the open plans whose head the new branch revision contains, or whose
head rendered exactly what the revision renders (a squash or rebase merge); the pipeline applies a reviewed plan only when ``core.prplans.matches`` says the merge's plan is
still it (``settle``), and otherwise re-posts what it applies instead.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler import logs, metrics, settings
from reconciler.core import escapes, plan_views, prplan_views, prplans
from reconciler.core.plans import Plan
from reconciler.core.statuses import PrPlanState
from reconciler.daemon.tracks import Track
from reconciler.engine import pullrequests
from reconciler.engine import reconcile as engine
from reconciler.errors import ForgeError, SpecError, StackfleetError
from reconciler.forges import github, gitlab, publishing
from reconciler.forges.github import GitHub
from reconciler.forges.gitlab import GitLab
from reconciler.forges.posts import CheckState, Forge, Post
from reconciler.source.git import Revision
from reconciler.spec import loader
from reconciler.spec.loader import FleetRepo
from reconciler.store.records import PrPlanRecord
from reconciler.store.stores import Store

MAX_POST_DELAY = timedelta(hours=1)
FIRST_POST_DELAY = timedelta(seconds=30)


def log() -> Any:
    return logs.get("stackfleet.daemon")


@dataclass(frozen=True)
class Head:
    number: int
    sha: str
    ref: str


@dataclass(frozen=True)
class Planner:
    """How ``Reviews`` reaches the engine: the daemon pipeline's session and approved stages."""

    session_for: Callable[[FleetRepo], engine.Session]
    approved: Callable[[], frozenset[str]]


@dataclass
class Reviews:
    store: Store
    planner: Planner
    configs: Mapping[str, settings.PullRequests]
    """Per source name, its ``pull_requests`` settings."""
    forges: Mapping[str, Forge] = field(default_factory=dict)
    tracks: dict[str, Track] = field(default_factory=dict)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    refused: set[tuple[str, str]] = field(default_factory=set)
    """(source, head SHA) of heads whose fleet repo is invalid: reported once, not planned again."""

    def scan(self, track: Track, *, stop: threading.Event) -> int:
        """Plan the new heads of ``track``'s open pull requests (and retry failed posts); how many were planned."""
        self.tracks[track.name] = track
        base = track.good
        if base is None or track.name not in self.configs:
            return 0
        planned = 0
        for head in self.discover(track):
            if stop.is_set():
                break
            try:
                planned += self._review(track, head, base)
            except StackfleetError as exc:  # one pull request's failure never stops the others
                metrics.count_error("plan")
                log().warning("planning a pull request failed; retried at the next poll", source=track.name,
                              pull_request=head.number, error=str(exc))
        return planned

    def _review(self, track: Track, head: Head, base: Revision) -> int:
        if (track.name, head.sha) in self.refused:
            return 0
        record = self.store.pr_plans.find(track.name, head.number, head.sha)
        if record is None:
            if self._open(track, head, base):
                self._plan(track, head, base)
                return 1
        elif record.state is PrPlanState.PLANNED and self._post_due(record):
            self.post(record)
        return 0

    def discover(self, track: Track) -> list[Head]:
        config = self.configs[track.name]
        pattern = config.ref_pattern
        forge = self.forges.get(track.name)
        if config.discover == "api" and forge is not None:
            wanted = track.source.ref.removeprefix("refs/heads/")
            return [Head(p.number, p.head_sha, pattern.replace("*", str(p.number)))
                    for p in forge.open_pull_requests() if p.base_ref == wanted and (config.forks or not p.fork)]
        matcher = re.compile(re.escape(pattern).replace(r"\*", r"([0-9]+)") + "$")
        heads = []
        for name, sha in sorted(track.source.mirror.list_refs().items()):
            found = matcher.match(name)
            if found:
                heads.append(Head(int(found.group(1)), sha, name))
        return sorted(heads, key=lambda h: h.number)

    def merged(self, source: str, revision: str, *, content_hash: str = "") -> list[PrPlanRecord]:
        """The open plans of ``source`` merged by the branch's ``revision``: their head is in its history, or
        (a squash or rebase merge, whose commits are new) the revision renders exactly what their head did."""
        track = self.tracks.get(source)
        if track is None:
            return []
        sha = Revision.parse(revision).sha
        mirror = track.source.mirror
        return [r for r in self.store.pr_plans.open(source)
                if (mirror.has_commit(r.head_sha) and mirror.descends(sha, from_sha=r.head_sha))
                or (content_hash and r.content_hash == content_hash)]

    def settle(self, source: str, revision: str, fresh: Plan) -> Plan:
        """The plan to apply for ``revision``: a merged PR's reviewed plan when it still is ``fresh``, else ``fresh``.

        Reviewed plans that no longer match are superseded, and the plan applied instead is posted on their PR.
        """
        chosen = fresh
        for record in self.merged(source, revision, content_hash=prplans.content_hash(fresh)):
            reviewed = self.store.plans.load(record.plan_id)
            why = prplans.matches(reviewed, fresh)
            if why:
                note = f"merged at {revision}, but {why}: re-planned, applied through the normal rollout"
                self.store.pr_plans.set_state(record.id, PrPlanState.SUPERSEDED, note=note)
                self._post_replan(record, fresh, note)
                log().info("reviewed plan superseded at merge", source=source, pull_request=record.number,
                           reason=why)
            else:
                chosen = Plan(revision=fresh.revision, created_at=fresh.created_at, changes=reviewed.changes,
                              bundles=reviewed.bundles, clusters=fresh.clusters, forced=fresh.forced)
                self.store.pr_plans.set_state(record.id, PrPlanState.APPLIED,
                                              note=f"merged at {revision}; the reviewed plan was applied")
        return chosen

    def post(self, record: PrPlanRecord) -> bool:
        """Post ``record``'s plan on its PR; False (recorded, counted, logged) when the forge failed."""
        forge = self.forges.get(record.source)
        if forge is None:
            return False
        plan = self.store.pr_plans.load(record.id)
        link = self._link(record)
        body = prplan_views.markdown(plan, limit=min(prplan_views.MARKDOWN_LIMIT, forge.limit - 100), link=link)
        state = CheckState.FAILURE if any(b.error for b in plan.bundles) else CheckState.SUCCESS
        return self._publish(record, forge, Post(record.number, record.head_sha, body, state,
                                                 prplan_views.headline(plan), link))

    # ---- steps ---------------------------------------------------------------------------------

    def _open(self, track: Track, head: Head, base: Revision) -> bool:
        """Fetch the head; False when the branch already contains it (a merged PR whose ref the remote keeps)."""
        mirror = track.source.mirror
        if not mirror.has_commit(head.sha):
            mirror.fetch([f"+{head.ref}:{head.ref}"])
        return not mirror.descends(base.sha, from_sha=head.sha)

    def _plan(self, track: Track, head: Head, base: Revision) -> None:
        mirror = track.source.mirror
        revision = Revision(ref=head.ref, sha=head.sha)
        base_repo = loader.load(track.tree(base))
        try:
            head_repo = loader.load(mirror.tree(revision))
        except SpecError as exc:
            self.refused.add((track.name, head.sha))
            self._refuse(track.name, head, base, str(exc))
            return
        reviewed = pullrequests.plan(base_repo, head_repo, session=self.planner.session_for(head_repo),
                                     number=head.number, approved=self.planner.approved())
        plan_id = f"plan-{uuid.uuid4().hex[:12]}"
        self.store.plans.save(plan_id, reviewed.head.plan, pr_number=head.number, pr_branch=head.ref)
        record = self.store.pr_plans.save(f"pr-{uuid.uuid4().hex[:12]}", reviewed.pr, source=track.name,
                                          head_sha=head.sha, plan_id=plan_id)
        metrics.PR_PLANS.labels(source=track.name).inc()
        log().info("pull request planned", source=track.name, pull_request=head.number, head=str(revision),
                   changes=reviewed.pr.has_changes)
        self.post(record)

    def _refuse(self, source: str, head: Head, base: Revision, error: str) -> None:
        """An invalid head: no plan, a failing status and a comment naming the problem."""
        log().warning("pull request head is invalid", source=source, pull_request=head.number, error=error)
        forge = self.forges.get(source)
        if forge is None:
            return
        empty = prplans.PullRequestPlan(base=str(base), head=str(Revision(head.ref, head.sha)), number=head.number)
        body = prplan_views.markdown(empty) + "\n**The head is not a valid fleet repo:**\n\n" + escapes.fence(error)
        try:
            publishing.publish(forge, Post(head.number, head.sha, body, CheckState.FAILURE,
                                           "the fleet repo at this head is invalid"))
        except ForgeError as exc:
            self._count_post(source, forge, ok=False)
            log().warning("posting to the forge failed", source=source, pull_request=head.number, error=str(exc))

    def _post_replan(self, record: PrPlanRecord, fresh: Plan, note: str) -> None:
        forge = self.forges.get(record.source)
        if forge is None:
            return
        body = f"**{escapes.markdown(note)}**\n\n" + plan_views.markdown(fresh, limit=min(plan_views.MARKDOWN_LIMIT, forge.limit - 2000))
        self._publish(record, forge, Post(record.number, record.head_sha, body, CheckState.SUCCESS,
                                          "merged: re-planned at the merge", self._link(record)))

    def _publish(self, record: PrPlanRecord, forge: Forge, post: Post) -> bool:
        try:
            publishing.publish(forge, post)
        except ForgeError as exc:
            self.store.pr_plans.post_failed(record.id, str(exc))
            self._count_post(record.source, forge, ok=False)
            log().warning("posting to the forge failed; retried later", source=record.source,
                          pull_request=record.number, error=str(exc))
            return False
        if record.state is PrPlanState.PLANNED:
            self.store.pr_plans.posted(record.id)
        self._count_post(record.source, forge, ok=True)
        return True

    def _post_due(self, record: PrPlanRecord) -> bool:
        """Whether a failed post may be tried again: a delay doubling per attempt, up to an hour."""
        if record.source not in self.forges:
            return False
        delay = min(FIRST_POST_DELAY * (2 ** max(record.post_attempts - 1, 0)), MAX_POST_DELAY)
        return record.post_attempts == 0 or self.clock() >= record.updated_at + delay

    def _link(self, record: PrPlanRecord) -> str:
        base = self.configs[record.source].dashboard_url.rstrip("/")
        return f"{base}/plans/{record.plan_id}" if base else ""

    def _count_post(self, source: str, forge: Forge, *, ok: bool) -> None:
        metrics.PR_POSTS.labels(source=source, forge=forge.name, result="ok" if ok else "failed").inc()


def forges_of(sources: Sequence[settings.Source]) -> dict[str, Forge]:
    """A forge client per source that names one (its token read now and registered for redaction)."""
    found: dict[str, Forge] = {}
    for source in sources:
        config = source.pull_requests.forge if source.pull_requests else None
        if config is None:
            continue
        token = settings.reveal(config.token)
        logs.register_secret(token)
        if config.kind == "github":
            found[source.name] = GitHub(config.repository, token=token, api_url=config.api_url or github.API_URL)
        else:
            found[source.name] = GitLab(config.repository, token=token, api_url=config.api_url or gitlab.API_URL)
    return found
