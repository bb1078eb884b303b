"""The GitHub and GitLab clients against local servers that answer like the real APIs (tests/forges/servers.py).

Each case runs for both forges: the plan comment is created once and edited in place afterwards (found by
its marker, however many pages of other comments come first), the head gets a commit status, and the
error answers (401, 403, 404, 422/400, 5xx, rate limits) end as the documented ``ForgeError``s after the
retries they deserve (counted in requests, never timed).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from reconciler.errors import ForgeAuthError, ForgeError, ForgeRateLimited
from reconciler.forges import publishing
from reconciler.forges.github import GitHub
from reconciler.forges.gitlab import GitLab
from reconciler.forges.posts import MARKER, CheckState, Post
from reconciler.forges.retries import Retry
from tests.forges.servers import Forge, GitHubFake, GitLabFake, serving

TOKEN = "tok-s3cret-value"
HEAD = "c" * 40
NOW = 1_800_000_000.0


@dataclass
class Scene:
    fake: Forge
    kind: str
    sleeps: list[float] = field(default_factory=list)

    def client(self, token: str = TOKEN, attempts: int = 4) -> GitHub | GitLab:
        retry = Retry(attempts=attempts, base=1.0, cap=60.0, sleep=self.sleeps.append, rand=lambda: 1.0)
        if self.kind == "github":
            return GitHub("acme/fleet", token=token, api_url=self.fake.url, retry=retry, clock=lambda: NOW)
        return GitLab("acme/fleet", token=token, api_url=f"{self.fake.url}/api/v4", retry=retry, clock=lambda: NOW)

    def comments(self, number: int = 7) -> list[dict]:
        fake = self.fake
        found = fake.comments[number] if isinstance(fake, GitHubFake) else fake.notes[number]
        return [c for c in found if not c.get("system")]

    def statuses(self) -> list[dict]:
        fake = self.fake
        assert isinstance(fake, GitHubFake | GitLabFake)
        return fake.statuses.get(HEAD, [])

    def count(self, method: str, fragment: str) -> int:
        return sum(1 for r in self.fake.requests if r.method == method and fragment in r.path)


@pytest.fixture(params=["github", "gitlab"])
def scene(request: pytest.FixtureRequest) -> Iterator[Scene]:
    fake: Forge
    if request.param == "github":
        fake = GitHubFake(tokens={TOKEN: "write", "read-only": "read"})
        fake.open_pull(7, head=HEAD)
    else:
        fake = GitLabFake(tokens={TOKEN: "write", "read-only": "read"})
        fake.open_merge_request(7, head=HEAD)
    with serving(fake):
        yield Scene(fake, request.param)


def post(body: str = "### plan", state: CheckState = CheckState.SUCCESS) -> Post:
    return Post(7, HEAD, body, state, "2 to update; 1 approval needed", link="https://sf.example/prs/7")


def comments_path(scene: Scene) -> str:
    return "/issues/7/comments" if scene.kind == "github" else "/merge_requests/7/notes"


def test_the_first_post_creates_the_comment_and_the_status(scene: Scene) -> None:
    done = publishing.publish(scene.client(), post())
    assert done.created and [c["body"] for c in scene.comments()] == [f"{MARKER}\n### plan"]
    state = scene.statuses()[0]["state"]
    assert (state, scene.statuses()[0].get("target_url")) == ("success", "https://sf.example/prs/7")


def test_a_new_plan_edits_the_comment_in_place(scene: Scene) -> None:
    first = publishing.publish(scene.client(), post("### first"))
    again = publishing.publish(scene.client(), post("### second"))
    assert (again.created, again.comment) == (False, first.comment)
    assert [c["body"] for c in scene.comments()] == [f"{MARKER}\n### second"]


def test_the_comment_is_found_past_pages_of_other_comments(scene: Scene) -> None:
    found = scene.fake.comments[7] if isinstance(scene.fake, GitHubFake) else scene.fake.notes[7]
    found += [{"id": i, "body": f"review comment {i}", "system": False} for i in range(230)]
    publishing.publish(scene.client(), post("### first"))
    publishing.publish(scene.client(), post("### second"))
    ours = [c for c in scene.comments() if MARKER in c["body"]]
    assert [c["body"] for c in ours] == [f"{MARKER}\n### second"]
    assert scene.count("GET", comments_path(scene)) == 3 + 3  # 231 comments, 100 a page, looked up twice


def test_failing_status_is_posted_as_the_forge_spells_it(scene: Scene) -> None:
    publishing.publish(scene.client(), post(state=CheckState.FAILURE))
    assert scene.statuses()[0]["state"] == ("failure" if scene.kind == "github" else "failed")


def test_the_auth_header_is_the_forges(scene: Scene) -> None:
    publishing.publish(scene.client(), post())
    headers = scene.fake.requests[0].headers
    if scene.kind == "github":
        assert (headers["authorization"], headers["accept"]) == (f"Bearer {TOKEN}", "application/vnd.github+json")
    else:
        assert headers["private-token"] == TOKEN and "authorization" not in headers


def test_a_bad_token_is_an_auth_error_not_retried(scene: Scene) -> None:
    with pytest.raises(ForgeAuthError, match="HTTP 401") as caught:
        publishing.publish(scene.client(token="wrong"), post())
    assert (len(scene.fake.requests), TOKEN in str(caught.value), "wrong" in str(caught.value)) == (1, False, False)


def test_a_read_only_token_is_refused_on_the_write(scene: Scene) -> None:
    with pytest.raises(ForgeAuthError, match="HTTP 403"):
        publishing.publish(scene.client(token="read-only"), post())
    assert scene.comments() == []


def test_an_unknown_pull_request_is_a_404_not_retried(scene: Scene) -> None:
    with pytest.raises(ForgeError, match="HTTP 404") as caught:
        publishing.publish(scene.client(), Post(99, HEAD, "x", CheckState.SUCCESS, "d"))
    assert (caught.value.retryable, len(scene.fake.requests)) == (False, 1)


def test_a_refused_payload_is_not_retried(scene: Scene) -> None:
    code = 422 if scene.kind == "github" else 400
    scene.fake.fail("POST", r".*/statuses/.*", code, body={"message": "Validation Failed"})
    with pytest.raises(ForgeError, match=f"HTTP {code} Validation Failed"):
        publishing.publish(scene.client(), post())
    assert scene.count("POST", "/statuses/") == 1


def test_server_errors_are_retried_with_backoff(scene: Scene) -> None:
    scene.fake.fail("POST", r".*" + comments_path(scene), 502, times=2)
    publishing.publish(scene.client(), post())
    assert (scene.count("POST", comments_path(scene)), scene.sleeps) == (3, [1.0, 2.0])
    assert len(scene.comments()) == 1


def test_server_errors_past_the_attempts_raise_a_retryable_error(scene: Scene) -> None:
    scene.fake.fail("GET", r".*" + comments_path(scene), 503, times=10)
    with pytest.raises(ForgeError, match="HTTP 503") as caught:
        publishing.publish(scene.client(attempts=3), post())
    assert (caught.value.retryable, scene.count("GET", comments_path(scene))) == (True, 3)


def test_429_waits_the_retry_after_it_was_given(scene: Scene) -> None:
    scene.fake.fail("GET", r".*" + comments_path(scene), 429, headers={"Retry-After": "7"})
    publishing.publish(scene.client(), post())
    assert scene.sleeps == [7.0] and len(scene.comments()) == 1


def test_a_spent_rate_limit_waits_until_its_reset(scene: Scene) -> None:
    if scene.kind == "github":  # primary rate limit: 403 with the remaining count at 0
        code, headers = 403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 30)}
    else:
        code, headers = 429, {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(NOW) + 30)}
    scene.fake.fail("POST", r".*/statuses/.*", code, headers=headers, body={"message": "API rate limit exceeded"})
    publishing.publish(scene.client(), post())
    assert scene.sleeps == [30.0] and len(scene.statuses()) == 1


def test_a_rate_limit_that_stays_spent_is_a_rate_limit_error(scene: Scene) -> None:
    scene.fake.fail("POST", r".*/statuses/.*", 429, headers={"Retry-After": "1"}, times=10)
    with pytest.raises(ForgeRateLimited):
        publishing.publish(scene.client(attempts=2), post())


def test_a_plan_over_the_limit_is_cut_with_a_note_and_accepted(scene: Scene) -> None:
    client = scene.client()
    fence = "```diff\n" + "\n".join(f"+line {i} " + "x" * 60 for i in range(10_000)) + "\n```"
    done = publishing.publish(client, post(f"### plan\n\n{fence}\n"))
    body = scene.comments()[0]["body"]
    if scene.kind == "github":
        assert done.cut and len(body) <= client.limit and "https://sf.example/prs/7" in body
        assert body.count("```") == 2 and "Cut at the forge's limit" in body
    else:
        assert not done.cut and body.endswith("```\n")


def test_a_pull_request_from_a_fork_is_marked(scene: Scene) -> None:
    fake = scene.fake
    if isinstance(fake, GitHubFake):
        fake.open_pull(8, head=HEAD, fork="stranger/fleet")
    elif isinstance(fake, GitLabFake):
        fake.open_merge_request(8, head=HEAD, fork=99)
    assert [(p.number, p.fork) for p in scene.client().open_pull_requests()] == [(7, False), (8, True)]


def test_open_pull_requests_are_listed_across_pages(scene: Scene) -> None:
    fake = scene.fake
    for number in range(8, 160):
        if isinstance(fake, GitHubFake):
            fake.open_pull(number, head=f"{number:040x}")
        elif isinstance(fake, GitLabFake):
            fake.open_merge_request(number, head=f"{number:040x}")
    found = scene.client().open_pull_requests()
    assert [p.number for p in found] == list(range(7, 160)) and found[1].head_sha == f"{8:040x}"
    assert {p.base_ref for p in found} == {"main"}
