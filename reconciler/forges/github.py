"""GitHub's REST API for plan comments and commit statuses (``Forge``).

The plan is an issue comment on the pull request (``/repos/{owner}/{repo}/issues/{number}/comments``,
listed 100 a page; edited with ``PATCH /repos/{owner}/{repo}/issues/comments/{id}``) and the head gets
a commit status (``POST /repos/{owner}/{repo}/statuses/{sha}``, context ``stackfleet/plan``, a
description of at most 140 characters). Open pull requests: ``GET /repos/{owner}/{repo}/pulls?state=open``.
Requests carry ``Authorization: Bearer``, ``Accept: application/vnd.github+json`` and the API version
header. An issue comment body is at most 65 536 characters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from reconciler.forges.apis import Api
from reconciler.forges.posts import STATUS_CONTEXT, CheckState, PullRequest
from reconciler.forges.retries import Retry

API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
DESCRIPTION_LIMIT = 140


class GitHub:
    name = "github"
    limit = 65_536

    def __init__(self, repository: str, *, token: str, api_url: str = API_URL, retry: Retry | None = None,
                 context: str = STATUS_CONTEXT, clock: Callable[[], float] = time.time) -> None:
        self.repository = repository.strip("/")
        self.context = context
        self.api = Api(api_url, forge=self.name, retry=retry, clock=clock, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION, "User-Agent": "stackfleet",
        })

    def find_comment(self, number: int, marker: str) -> str | None:
        path = f"/repos/{self.repository}/issues/{number}/comments"
        for comment in self.api.pages(path, params={"per_page": 100}, what=f"comments of #{number}"):
            if marker in str(comment.get("body") or ""):
                return str(comment["id"])
        return None

    def create_comment(self, number: int, body: str) -> str:
        done = self.api.call("POST", f"/repos/{self.repository}/issues/{number}/comments", json={"body": body},
                             what=f"commenting on #{number}")
        return str(done.json()["id"])

    def update_comment(self, number: int, comment: str, body: str) -> None:
        self.api.call("PATCH", f"/repos/{self.repository}/issues/comments/{comment}", json={"body": body},
                      what=f"editing the plan comment of #{number}")

    def set_status(self, sha: str, state: CheckState, *, description: str, link: str) -> None:
        payload = {"state": state.value, "context": self.context, "description": description[:DESCRIPTION_LIMIT]}
        if link:
            payload["target_url"] = link
        self.api.call("POST", f"/repos/{self.repository}/statuses/{sha}", json=payload,
                      what=f"setting the status of {sha[:12]}")

    def open_pull_requests(self) -> Sequence[PullRequest]:
        path = f"/repos/{self.repository}/pulls"
        return [PullRequest(int(p["number"]), str(p["head"]["sha"]), str(p["base"]["ref"]), fork=_fork(p))
                for p in self.api.pages(path, params={"state": "open", "per_page": 100}, what="open pull requests")]


def _fork(pull: dict[str, Any]) -> bool:
    """Whether the head's repository is another than the base's (``head.repo`` is null once a fork is deleted)."""
    head, base = (pull.get("head") or {}).get("repo"), (pull.get("base") or {}).get("repo")
    if not isinstance(head, dict) or not isinstance(base, dict):
        return head is None and base is not None
    return head.get("full_name") != base.get("full_name")
