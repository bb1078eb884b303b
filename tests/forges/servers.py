"""Local HTTP servers that answer like the GitHub and GitLab REST APIs, for the forge clients' tests.

They keep comments, notes and statuses in memory and behave as the real APIs document: the paths,
the auth headers (GitHub ``Authorization: Bearer``/``token``, GitLab ``PRIVATE-TOKEN``), 401 for a bad
token, 403 for a token without write access, 404 for an unknown repository or pull request, 422 (GitHub)
or 400 (GitLab) for a bad payload (a body over the size limit, an unknown status state), pagination
(GitHub: ``per_page``/``page`` and a ``Link`` header; GitLab: the same plus ``X-Next-Page``/``X-Total``),
and the rate-limit answers (GitHub: 403 with ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset``, or
429 with ``Retry-After``; GitLab: 429 with ``Retry-After`` and ``RateLimit-Reset``). ``fail(...)`` queues
answers for the next matching requests, and ``requests`` logs every request.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

Answer = tuple[int, Any, dict[str, str]]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw_path: str = ""


@dataclass
class Fault:
    method: str
    pattern: str
    status: int
    headers: dict[str, str]
    body: Any
    times: int


@dataclass
class Forge:
    """What both fakes share: routing, faults, auth, pagination, the request log."""

    tokens: dict[str, str] = field(default_factory=dict)
    """token -> ``write`` or ``read``."""
    requests: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1000

    def fail(self, method: str, pattern: str, status: int, *, times: int = 1, headers: dict[str, str] | None = None,
             body: Any = None) -> None:
        self.faults.append(Fault(method, pattern, status, headers or {}, body or {"message": "fault"}, times))

    def routes(self) -> list[tuple[str, str, Callable[..., Answer]]]:
        raise NotImplementedError

    def token_of(self, headers: dict[str, str]) -> str | None:
        raise NotImplementedError

    def answer(self, seen: Seen) -> Answer:
        with self.lock:
            self.requests.append(seen)
            for fault in self.faults:
                if fault.times and fault.method == seen.method and re.fullmatch(fault.pattern, seen.path):
                    fault.times -= 1
                    return fault.status, fault.body, fault.headers
            grant = self.tokens.get(self.token_of(seen.headers) or "")
            if grant is None:
                return self.unauthorized()
            for method, pattern, handler in self.routes():
                found = re.fullmatch(pattern, seen.path)
                if found and method == seen.method:
                    if method != "GET" and grant != "write":
                        return 403, {"message": "Resource not accessible by integration"}, {}
                    return handler(seen, *found.groups())
            return 404, {"message": "Not Found"}, {}

    def unauthorized(self) -> Answer:
        return 401, {"message": "Bad credentials"}, {}

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def page(self, seen: Seen, items: list[Any]) -> Answer:
        per_page = min(int(seen.query.get("per_page", "30")), 100)
        page = int(seen.query.get("page", "1"))
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {"X-Total": str(len(items)), "X-Page": str(page)}
        if page * per_page < len(items):
            query = "&".join(f"{k}={v}" for k, v in {**seen.query, "page": str(page + 1)}.items())
            headers["Link"] = f'<{self.url}{seen.raw_path or seen.path}?{query}>; rel="next"'
            headers["X-Next-Page"] = str(page + 1)
        return 200, chunk, headers


@dataclass
class GitHubFake(Forge):
    """``/repos/{owner}/{repo}/...`` of one repository."""

    repository: str = "acme/fleet"
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def token_of(self, headers: dict[str, str]) -> str | None:
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        return token if scheme.lower() in ("bearer", "token") else None

    def open_pull(self, number: int, *, head: str, base: str = "main", fork: str = "") -> None:
        repo = {"full_name": self.repository}
        self.pulls[number] = {"number": number, "state": "open", "base": {"ref": base, "repo": repo},
                              "head": {"sha": head, "ref": f"pr-{number}", "repo": {"full_name": fork or self.repository}}}
        self.comments.setdefault(number, [])

    def routes(self) -> list[tuple[str, str, Callable[..., Answer]]]:
        repo = re.escape(self.repository)
        return [
            ("GET", rf"/repos/{repo}/pulls", self.list_pulls),
            ("GET", rf"/repos/{repo}/issues/(\d+)/comments", self.list_comments),
            ("POST", rf"/repos/{repo}/issues/(\d+)/comments", self.create_comment),
            ("PATCH", rf"/repos/{repo}/issues/comments/(\d+)", self.update_comment),
            ("POST", rf"/repos/{repo}/statuses/([0-9a-f]{{40}})", self.create_status),
        ]

    def list_pulls(self, seen: Seen) -> Answer:
        wanted = seen.query.get("state", "open")
        return self.page(seen, [p for n, p in sorted(self.pulls.items()) if wanted in ("all", p["state"])])

    def list_comments(self, seen: Seen, number: str) -> Answer:
        if int(number) not in self.comments:
            return 404, {"message": "Not Found"}, {}
        return self.page(seen, self.comments[int(number)])

    def create_comment(self, seen: Seen, number: str) -> Answer:
        if int(number) not in self.comments:
            return 404, {"message": "Not Found"}, {}
        problem = self.body_problem(seen.body)
        if problem:
            return problem
        comment = {"id": self.new_id(), "body": seen.body["body"], "user": {"login": "stackfleet-bot"}}
        self.comments[int(number)].append(comment)
        return 201, comment, {}

    def update_comment(self, seen: Seen, comment_id: str) -> Answer:
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == int(comment_id):
                    problem = self.body_problem(seen.body)
                    if problem:
                        return problem
                    comment["body"] = seen.body["body"]
                    return 200, comment, {}
        return 404, {"message": "Not Found"}, {}

    def create_status(self, seen: Seen, sha: str) -> Answer:
        payload = seen.body if isinstance(seen.body, dict) else {}
        if payload.get("state") not in ("error", "failure", "pending", "success"):
            return 422, {"message": "Validation Failed", "errors": [{"field": "state", "code": "invalid"}]}, {}
        if len(str(payload.get("description", ""))) > 140:
            return 422, {"message": "Validation Failed", "errors": [{"field": "description", "code": "custom"}]}, {}
        self.statuses.setdefault(sha, []).append(payload)
        return 201, {"id": self.new_id(), **payload}, {}

    def body_problem(self, body: Any) -> Answer | None:
        if not isinstance(body, dict) or not isinstance(body.get("body"), str):
            return 422, {"message": "Invalid request.\n\n\"body\" wasn't supplied."}, {}
        if len(body["body"]) > 65_536:
            return 422, {"message": "Validation Failed", "errors": [{"resource": "IssueComment", "code": "custom",
                         "field": "body", "message": "body is too long (maximum is 65536 characters)"}]}, {}
        return None


@dataclass
class GitLabFake(Forge):
    """``/api/v4/projects/:id/...`` of one project (id or URL-encoded path)."""

    project: str = "acme/fleet"
    project_id: int = 42
    merge_requests: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    statuses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def token_of(self, headers: dict[str, str]) -> str | None:
        return headers.get("private-token")

    def unauthorized(self) -> Answer:
        return 401, {"message": "401 Unauthorized"}, {}

    def open_merge_request(self, iid: int, *, head: str, target: str = "main", fork: int = 0) -> None:
        self.merge_requests[iid] = {"iid": iid, "state": "opened", "sha": head, "target_branch": target,
                                    "source_branch": f"mr-{iid}", "target_project_id": self.project_id,
                                    "source_project_id": fork or self.project_id}
        self.notes.setdefault(iid, [{"id": self.new_id(), "body": "added 1 commit", "system": True}])

    def routes(self) -> list[tuple[str, str, Callable[..., Answer]]]:
        project = rf"/api/v4/projects/(?:{self.project_id}|{re.escape(self.project)})"
        return [
            ("GET", rf"{project}/merge_requests", self.list_merge_requests),
            ("GET", rf"{project}/merge_requests/(\d+)/notes", self.list_notes),
            ("POST", rf"{project}/merge_requests/(\d+)/notes", self.create_note),
            ("PUT", rf"{project}/merge_requests/(\d+)/notes/(\d+)", self.update_note),
            ("POST", rf"{project}/statuses/([0-9a-f]{{40}})", self.create_status),
        ]

    def list_merge_requests(self, seen: Seen) -> Answer:
        wanted = seen.query.get("state", "all")
        return self.page(seen, [m for _, m in sorted(self.merge_requests.items()) if wanted in ("all", m["state"])])

    def list_notes(self, seen: Seen, iid: str) -> Answer:
        if int(iid) not in self.notes:
            return 404, {"message": "404 Not found"}, {}
        return self.page(seen, self.notes[int(iid)])

    def create_note(self, seen: Seen, iid: str) -> Answer:
        if int(iid) not in self.notes:
            return 404, {"message": "404 Not found"}, {}
        problem = self.body_problem(seen.body)
        if problem:
            return problem
        note = {"id": self.new_id(), "body": seen.body["body"], "system": False}
        self.notes[int(iid)].append(note)
        return 201, note, {}

    def update_note(self, seen: Seen, iid: str, note_id: str) -> Answer:
        for note in self.notes.get(int(iid), []):
            if note["id"] == int(note_id) and not note["system"]:
                problem = self.body_problem(seen.body)
                if problem:
                    return problem
                note["body"] = seen.body["body"]
                return 200, note, {}
        return 404, {"message": "404 Not found"}, {}

    def create_status(self, seen: Seen, sha: str) -> Answer:
        payload = seen.body if isinstance(seen.body, dict) else {}
        if payload.get("state") not in ("pending", "running", "success", "failed", "canceled", "skipped"):
            return 400, {"error": "state does not have a valid value"}, {}
        self.statuses.setdefault(sha, []).append(payload)
        return 201, {"id": self.new_id(), "status": payload["state"], "name": payload.get("name")}, {}

    def body_problem(self, body: Any) -> Answer | None:
        if not isinstance(body, dict) or not isinstance(body.get("body"), str) or not body["body"]:
            return 400, {"error": "body is missing"}, {}
        if len(body["body"]) > 1_000_000:
            return 400, {"message": {"note": ["is too long (maximum is 1000000 characters)"]}}, {}
        return None


@contextmanager
def serving(forge: Forge) -> Iterator[Forge]:
    """Serve ``forge`` on 127.0.0.1 (a free port) until the block ends; ``forge.url`` is its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            return

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            path = unquote(parts.path) if "%2F" not in parts.path else parts.path.replace("%2F", "/")
            seen = Seen(self.command, path, query, {k.lower(): v for k, v in self.headers.items()}, body, parts.path)
            status, payload, headers = forge.answer(seen)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    forge.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield forge
    finally:
        server.shutdown()
        server.server_close()
