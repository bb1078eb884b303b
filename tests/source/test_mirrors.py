"""Mirror and GitSource against real servers on loopback: git daemon and smart HTTP with basic auth."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pygit2
import pytest
from pygit2.enums import Option

from reconciler.errors import SourceAuthError, SourceError, SourceTimeout
from reconciler.source import git
from reconciler.source.credentials import BasicAuth, Secret, TokenAuth
from reconciler.source.git import Mirror
from reconciler.source.sources import Backoff, GitSource
from reconciler.source.webhooks import CoalescingTrigger, WebhookReceiver

if TYPE_CHECKING:
    from tests.source.conftest import GitDaemon, HangingServer, HttpGit, ServedRepo


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _mirror(url: str, tmp_path: Path, **kwargs: object) -> Mirror:
    return Mirror(url, cache_dir=tmp_path / "cache", **kwargs)  # type: ignore[arg-type]


def _http_mirror(http_git: HttpGit, tmp_path: Path) -> Mirror:
    auth = BasicAuth(http_git.username, Secret(http_git.password))
    return _mirror(http_git.url(), tmp_path, credentials=auth, timeout=10)


def test_branch_resolves_to_pushed_commit(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    sha = upstream.work.git("rev-parse", "HEAD")
    assert str(_mirror(git_daemon.url(), tmp_path).resolve("main")) == f"main@sha1:{sha}"


def test_new_commit_is_seen(upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path) -> None:
    source = GitSource(_mirror(git_daemon.url(), tmp_path), ref="main")
    source.poll()
    sha = upstream.commit_and_push("second", {"clusters/a.yaml": "kind: Cluster\n"})
    assert source.poll().revision is not None and source.status.revision.sha == sha  # type: ignore[union-attr]


def test_files_of_new_commit_are_read_from_mirror(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    source = GitSource(_mirror(git_daemon.url(), tmp_path), ref="main")
    upstream.commit_and_push("second", {"clusters/a.yaml": "kind: Cluster\n"})
    source.poll()
    assert source.tree().read("clusters/a.yaml") == b"kind: Cluster\n"


def test_unchanged_poll_fetches_no_pack(upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path) -> None:
    source = GitSource(_mirror(git_daemon.url(), tmp_path), ref="main")
    source.poll()
    stats = source.poll().last_fetch
    assert (stats.listings, stats.fetched, stats.received_objects) == (1, False, 0)


def test_unchanged_poll_over_http_makes_only_a_ref_listing(
    upstream: ServedRepo, http_git: HttpGit, tmp_path: Path
) -> None:
    mirror = _http_mirror(http_git, tmp_path)
    mirror.resolve("main")
    http_git.served.clear()
    mirror.resolve("main")
    sent = sum(s.body_bytes for s in http_git.served)
    print(f"unchanged poll over HTTP: {len(http_git.served)} requests, {sent} body bytes, no pack")
    assert [(s.method, s.path.split("?")[0]) for s in http_git.served if s.status == 200] == [
        ("GET", "/fleet.git/info/refs")
    ]


def test_new_commit_over_http_fetches_only_new_objects(
    upstream: ServedRepo, http_git: HttpGit, tmp_path: Path
) -> None:
    mirror = _http_mirror(http_git, tmp_path)
    upstream.commit_and_push("bulk", {f"clusters/c{i}.yaml": f"kind: Cluster\nn: {i}\n" for i in range(50)})
    mirror.resolve("main")
    upstream.commit_and_push("one more", {"clusters/new.yaml": "kind: Cluster\n"})
    mirror.resolve("main")
    assert mirror.last_stats.received_objects == 4  # the commit, two trees and one blob of 54 objects


def test_tag_resolves_to_its_commit(upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path) -> None:
    sha = upstream.work.git("rev-parse", "HEAD")
    upstream.work.git("tag", "-a", "v1.0.0", "-m", "release")
    upstream.push("refs/tags/v1.0.0")
    assert _mirror(git_daemon.url(), tmp_path).resolve("v1.0.0").sha == sha


def test_moved_tag_is_followed(upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path) -> None:
    mirror = _mirror(git_daemon.url(), tmp_path)
    upstream.work.git("tag", "stable")
    upstream.push("refs/tags/stable")
    mirror.resolve("stable")
    moved = upstream.commit_and_push("fix")
    upstream.work.git("tag", "-f", "stable")
    upstream.push("refs/tags/stable")
    assert mirror.resolve("stable").sha == moved


def test_other_branch_resolves_on_demand(upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path) -> None:
    upstream.work.git("checkout", "-q", "-b", "feature")
    sha = upstream.work.commit("feature work")
    upstream.push("feature")
    source = GitSource(_mirror(git_daemon.url(), tmp_path), ref="main")
    assert source.resolve("feature").sha == sha


@pytest.mark.parametrize("ref", ["refs/pull/1/head", "refs/merge-requests/7/head"])
def test_pull_request_ref_resolves(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path, ref: str
) -> None:
    upstream.work.git("checkout", "-q", "-b", "pr")
    sha = upstream.work.commit("proposed change", {"clusters/b.yaml": "kind: Cluster\n"})
    upstream.push(f"HEAD:{ref}")
    assert str(_mirror(git_daemon.url(), tmp_path).resolve(ref)) == f"{ref}@sha1:{sha}"


def test_fixed_sha_resolves(upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path) -> None:
    sha = upstream.work.git("rev-parse", "HEAD")
    upstream.commit_and_push("later")
    assert _mirror(git_daemon.url(), tmp_path).resolve(sha).sha == sha


def test_unknown_ref_is_a_clear_error(upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no branch or tag 'nope'"):
        _mirror(git_daemon.url(), tmp_path).resolve("nope")


def test_force_push_is_reported(upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path) -> None:
    source = GitSource(_mirror(git_daemon.url(), tmp_path), ref="main")
    upstream.commit_and_push("will be rewritten")
    applied = source.poll().revision
    assert applied is not None
    source.mark_applied(applied)
    upstream.work.git("reset", "-q", "--hard", "HEAD~1")
    upstream.commit_and_push("rewritten history")
    assert source.poll().force_pushed_from == applied


def test_fast_forward_is_not_a_force_push(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    source = GitSource(_mirror(git_daemon.url(), tmp_path), ref="main")
    source.mark_applied(source.poll().revision)  # type: ignore[arg-type]
    upstream.commit_and_push("normal change")
    assert source.poll().force_pushed_from is None


def test_server_gone_keeps_last_revision_and_reports_stale(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    clock = FakeClock()
    source = GitSource(_mirror(git_daemon.url(), tmp_path, timeout=5), ref="main", clock=clock)
    good = source.poll().revision
    git_daemon.stop()
    clock.now += 60
    status = source.poll()
    assert (status.revision, status.stale_since, status.failures) == (good, clock.now, 1)


def test_stale_status_names_since_when_and_why(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    source = GitSource(_mirror(git_daemon.url(), tmp_path, timeout=5), ref="main", clock=FakeClock())
    source.poll()
    git_daemon.stop()
    assert "source stale since 2027-01-15T08:00:00Z: SourceError" in source.poll().describe()


def test_failures_back_off_and_recover(upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path) -> None:
    clock = FakeClock()
    source = GitSource(
        _mirror(git_daemon.url(), tmp_path, timeout=5), ref="main", clock=clock, backoff=Backoff(initial=10)
    )
    git_daemon.stop()
    first = source.poll()
    clock.now += 5
    skipped = source.poll()  # still inside the backoff: no attempt
    clock.now += 10
    second = source.poll()
    assert (first.retry_at, skipped.failures, second.retry_at) == (clock.now - 5, 1, clock.now + 20)


def test_recovery_clears_staleness(upstream: ServedRepo, tmp_path: Path) -> None:
    source = GitSource(_mirror("git://127.0.0.1:1/fleet.git", tmp_path, timeout=5), ref="main")
    source.poll()
    source.mirror.url = upstream.bare.as_uri()
    assert source.poll(force=True).stale_since is None


def test_hanging_git_server_times_out(hanging_server: HangingServer, tmp_path: Path) -> None:
    mirror = _mirror(f"git://127.0.0.1:{hanging_server.port}/fleet.git", tmp_path, timeout=1)
    with pytest.raises(SourceTimeout):
        mirror.resolve("main")


def test_hanging_http_server_times_out_and_keeps_nothing(
    hanging_server: HangingServer, tmp_path: Path
) -> None:
    source = GitSource(
        _mirror(f"http://127.0.0.1:{hanging_server.port}/fleet.git", tmp_path, timeout=1), ref="main"
    )
    started = time.monotonic()
    status = source.poll()
    print(f"hanging HTTP server gave up after {time.monotonic() - started:.2f}s")
    assert (status.revision, status.error is not None and "Timeout" in status.error) == (None, True)


def test_wrong_password_is_a_clear_auth_error_without_the_secret(
    upstream: ServedRepo, http_git: HttpGit, tmp_path: Path
) -> None:
    wrong = "wrong-canary-pw-1234"
    mirror = _mirror(http_git.url(), tmp_path, credentials=BasicAuth(http_git.username, Secret(wrong)))
    with pytest.raises(SourceAuthError) as caught:
        mirror.resolve("main")
    assert (wrong in str(caught.value), "refused the configured credentials" in str(caught.value)) == (
        False,
        True,
    )


def test_missing_credentials_are_a_clear_auth_error(
    upstream: ServedRepo, http_git: HttpGit, tmp_path: Path
) -> None:
    with pytest.raises(SourceAuthError, match="none are configured"):
        _mirror(http_git.url(), tmp_path).resolve("main")


def test_password_in_url_never_reaches_the_error(
    upstream: ServedRepo, http_git: HttpGit, tmp_path: Path
) -> None:
    url = f"http://{http_git.username}:canary-in-url-999@127.0.0.1:{http_git.port}/missing.git"
    with pytest.raises(SourceError) as caught:
        _mirror(url, tmp_path, timeout=5).resolve("main")
    assert "canary-in-url-999" not in str(caught.value)


def test_right_credentials_read_over_http(upstream: ServedRepo, http_git: HttpGit, tmp_path: Path) -> None:
    mirror = _http_mirror(http_git, tmp_path)
    assert mirror.tree(mirror.resolve("main")).read("fleet.yaml") == b"kind: Fleet\n"


def test_abandoned_fetch_holds_the_mirror_until_it_ends(
    hanging_server: HangingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without libgit2's socket timeouts the worker thread is abandoned; the mirror stays locked meanwhile."""
    monkeypatch.setattr(git, "_set_socket_timeouts", _no_socket_timeouts)
    monkeypatch.setattr(git, "_ABANDON_GRACE", 0.0)
    mirror = _mirror(f"git://127.0.0.1:{hanging_server.port}/fleet.git", tmp_path, timeout=0.5)
    with pytest.raises(SourceTimeout, match="did not finish"):
        mirror.resolve("main")
    with pytest.raises(SourceTimeout, match="an earlier fetch is still running"):
        mirror.resolve("main")
    hanging_server.stop()  # the abandoned worker's socket closes, it fails and lets go of the mirror
    with pytest.raises(SourceError, match="listing refs"):
        mirror.resolve("main")


def _no_socket_timeouts(seconds: float, *, credentials: object) -> None:
    pygit2.option(Option.SET_SERVER_CONNECT_TIMEOUT, 0)
    pygit2.option(Option.SET_SERVER_TIMEOUT, 0)


def test_webhook_push_makes_the_source_see_the_commit(
    upstream: ServedRepo, git_daemon: GitDaemon, tmp_path: Path
) -> None:
    source = GitSource(_mirror(git_daemon.url(), tmp_path), ref="main")
    source.poll()
    trigger = CoalescingTrigger(lambda url: source.poll(force=True))
    receiver = WebhookReceiver(secret="s", tracked=[git_daemon.url()], trigger=trigger)
    sha = upstream.commit_and_push("pushed")
    body = json.dumps({"repository": git_daemon.url()}).encode()
    signature = "sha256=" + hmac.new(b"s", body, hashlib.sha256).hexdigest()
    receiver.handle({"X-Signature-256": signature}, body)
    trigger.wait_idle(10)
    trigger.close()
    assert source.status.revision is not None and source.status.revision.sha == sha


def test_server_error_keeps_last_revision_and_says_why(
    upstream: ServedRepo, http_git: HttpGit, tmp_path: Path
) -> None:
    source = GitSource(_http_mirror(http_git, tmp_path), ref="main", clock=FakeClock())
    good = source.poll().revision
    http_git.server.fail_status = 500
    status = source.poll(force=True)
    assert (status.revision, status.stale, "500" in (status.error or "")) == (good, True, True)


def test_unwritable_cache_dir_is_a_source_error(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("a file, not a directory")
    with pytest.raises(SourceError, match="cannot open the mirror"):
        _mirror("git://127.0.0.1:1/fleet.git", tmp_path)


def test_token_auth_reads_over_http(upstream: ServedRepo, http_git: HttpGit, tmp_path: Path) -> None:
    token = TokenAuth(Secret(http_git.password), username=http_git.username)
    mirror = _mirror(http_git.url(), tmp_path, credentials=token)
    assert mirror.resolve("main").sha == upstream.work.git("rev-parse", "HEAD")


@pytest.mark.parametrize(("failures", "delay"), [(1, 5.0), (2, 10.0), (3, 20.0), (7, 300.0), (50, 300.0)])
def test_backoff_doubles_up_to_its_cap(failures: int, delay: float) -> None:
    assert Backoff().delay(failures) == delay
