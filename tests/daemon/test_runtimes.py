"""How the runtime reads its settings: listen addresses, where state and Git mirrors live, secrets, readiness."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import settings
from reconciler.daemon import readiness, runtimes, sourcing
from reconciler.daemon.tracks import Track
from reconciler.demo import waits
from reconciler.demo.repos import GitDaemon, Upstream
from reconciler.errors import ConfigError
from reconciler.source import credentials
from reconciler.source.git import Mirror
from reconciler.source.sources import Backoff, GitSource

BASE = Path("/etc/stackfleet")


@pytest.mark.parametrize(("listen", "expected"), [
    ("127.0.0.1:8080", ("127.0.0.1", 8080)),
    ("0.0.0.0:80", ("0.0.0.0", 80)),
    ("[::1]:9000", ("::1", 9000)),
])
def test_listen_addresses(listen: str, expected: tuple[str, int]):
    assert runtimes.listen_of(listen) == expected


@pytest.mark.parametrize(("database", "expected"), [
    ("state.db", "/etc/stackfleet/state.db"),
    ("/state/stackfleet.db", "/state/stackfleet.db"),
    ("postgresql://db.example/stackfleet", "postgresql://db.example/stackfleet"),
])
def test_a_relative_database_path_is_relative_to_the_config_file(database: str, expected: str):
    assert runtimes.database_of(settings.State(database=database), base=BASE) == expected


@pytest.mark.parametrize(("database", "expected"), [
    ("state.db", BASE / "git"),
    ("/state/stackfleet.db", Path("/state/git")),
    ("postgresql://db.example/stackfleet", BASE / "git"),
])
def test_git_mirrors_live_next_to_the_database(database: str, expected: Path):
    assert runtimes.cache_dir_of(settings.State(database=database), base=BASE) == expected


def test_a_source_token_is_read_from_its_file(tmp_path: Path):
    (tmp_path / "token").write_text("s3cr3t-token\n")
    given = settings.SourceCredentials(token=settings.SecretRef(file=tmp_path / "token"))
    assert sourcing.credentials_of(given) == credentials.TokenAuth(token=credentials.Secret("s3cr3t-token"))


def test_a_missing_token_file_is_a_config_error(tmp_path: Path):
    given = settings.SourceCredentials(token=settings.SecretRef(file=tmp_path / "absent"))
    with pytest.raises(ConfigError, match="cannot read secret file"):
        sourcing.credentials_of(given)


def test_without_any_access_token_the_dashboard_refuses_to_start():
    with pytest.raises(ConfigError, match="no access token"):
        runtimes.tokens_of(settings.Web())


def test_without_a_webhook_secret_no_webhook_route_is_served():
    assert runtimes.receiver_of(settings.Webhooks(), tracks=[], trigger=lambda url: True) is None


@pytest.fixture
def track(tmp_path: Path, git_server: GitDaemon) -> Track:
    mirror = Mirror(git_server.url(), cache_dir=tmp_path / "cache", timeout=5)
    return Track("fleet", GitSource(mirror, ref="main", backoff=Backoff(initial=0.01, maximum=0.01)))


def test_a_source_without_a_revision_is_not_ready(track: Track):
    check = readiness.sources_fresh([track], max_stale_seconds=60)
    assert (check().ready, check().checks) == (False, {"source:fleet": "no revision yet"})


def test_a_polled_source_is_ready(track: Track):
    track.source.poll()
    assert readiness.sources_fresh([track], max_stale_seconds=60)().ready


def test_a_source_stale_for_longer_than_allowed_is_not_ready(track: Track, git_server: GitDaemon):
    track.source.poll()
    git_server.stop()
    assert waits.until(lambda: track.source.poll().stale, seconds=15)
    lenient = readiness.sources_fresh([track], max_stale_seconds=3600)
    strict = readiness.sources_fresh([track], max_stale_seconds=0, clock=lambda: track.status.stale_since + 1)
    assert (lenient().ready, strict().ready, "source stale since" in strict().checks["source:fleet"]) == (
        True, False, True)


def test_a_lock_left_by_a_killed_fetch_is_removed_and_the_source_fetches_again(
    tmp_path: Path, git_server: GitDaemon, upstream: Upstream
):
    source = settings.Source(name="fleet", url=git_server.url(), ref="main")
    first = sourcing.track_of(source, cache_dir=tmp_path / "cache")
    first.source.poll()
    lock = first.source.mirror.path / "refs/heads/main.lock"
    lock.write_text("")  # what a fetch killed with SIGKILL leaves behind
    pushed = upstream.commit("after the crash", {"README.md": "moved on\\n"})
    again = sourcing.track_of(source, cache_dir=tmp_path / "cache")
    assert (again.source.poll().revision.sha, lock.exists()) == (pushed, False)
