"""GitLab's REST API (v4) for plan notes and commit statuses (``Forge``).

The plan is a merge-request note (``/projects/:id/merge_requests/:iid/notes``, listed 100 a page,
system notes skipped; edited with ``PUT .../notes/:note_id``) and the head gets a commit status
(``POST /projects/:id/statuses/:sha`` with ``state`` pending/success/failed and ``name``). The project
is its numeric id or its URL-encoded path. Open merge requests: ``GET /projects/:id/merge_requests?state=opened``.
Requests carry ``PRIVATE-TOKEN``. A note body is at most 1 000 000 characters.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from urllib.parse import quote

from reconciler.forges.apis import Api
from reconciler.forges.posts import STATUS_CONTEXT, CheckState, PullRequest
from reconciler.forges.retries import Retry

API_URL = "https://gitlab.com/api/v4"
STATES = {CheckState.PENDING: "pending", CheckState.SUCCESS: "success", CheckState.FAILURE: "failed"}


class GitLab:
    name = "gitlab"
    limit = 1_000_000

    def __init__(self, project: str, *, token: str, api_url: str = API_URL, retry: Retry | None = None,
                 context: str = STATUS_CONTEXT, clock: Callable[[], float] = time.time) -> None:
        self.project = quote(project.strip("/"), safe="")
        self.context = context
        self.api = Api(api_url, forge=self.name, retry=retry, clock=clock,
                       headers={"PRIVATE-TOKEN": token, "User-Agent": "stackfleet"})

    def find_comment(self, number: int, marker: str) -> str | None:
        path = f"/projects/{self.project}/merge_requests/{number}/notes"
        params = {"per_page": 100, "sort": "asc", "order_by": "created_at"}
        for note in self.api.pages(path, params=params, what=f"notes of !{number}"):
            if not note.get("system") and marker in str(note.get("body") or ""):
                return str(note["id"])
        return None

    def create_comment(self, number: int, body: str) -> str:
        done = self.api.call("POST", f"/projects/{self.project}/merge_requests/{number}/notes", json={"body": body},
                             what=f"adding a note to !{number}")
        return str(done.json()["id"])

    def update_comment(self, number: int, comment: str, body: str) -> None:
        self.api.call("PUT", f"/projects/{self.project}/merge_requests/{number}/notes/{comment}",
                      json={"body": body}, what=f"editing the plan note of !{number}")

    def set_status(self, sha: str, state: CheckState, *, description: str, link: str) -> None:
        payload = {"state": STATES[state], "name": self.context, "description": description[:255]}
        if link:
            payload["target_url"] = link
        self.api.call("POST", f"/projects/{self.project}/statuses/{sha}", json=payload,
                      what=f"setting the status of {sha[:12]}")

    def open_pull_requests(self) -> Sequence[PullRequest]:
        path = f"/projects/{self.project}/merge_requests"
        return [PullRequest(int(m["iid"]), str(m["sha"]), str(m["target_branch"]),
                            fork=m.get("source_project_id") != m.get("target_project_id"))
                for m in self.api.pages(path, params={"state": "opened", "per_page": 100},
                                        what="open merge requests")]
