"""RELIABILITY.md, area git: a failing remote leaves the last good revision running; nothing half-fetched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reconciler.core.plans import ACTIONABLE
from reconciler.sim.testing import FakeClock
from reconciler.source.git import Mirror
from reconciler.source.sources import Backoff, GitSource
from reconciler.source.verify import CommitVerifier, SshSigners
from reconciler.spec import loader

AREA = "git"


def source_of(remote, tmp_path, *, timeout: float = 5.0, verifier=None) -> tuple[GitSource, FakeClock]:
    clock = FakeClock()
    mirror = Mirror(remote.url, cache_dir=tmp_path / "mirrors", timeout=timeout)
    return GitSource(mirror, ref="main", backoff=Backoff(initial=5.0), clock=clock, verifier=verifier), clock


def actionable(rig, source: GitSource) -> list:
    planned = rig.plan(loader.load(source.tree()))
    return [c for c in planned.plan.changes if c.action in ACTIONABLE]


@pytest.mark.parametrize(("mode", "says"), [("down", "SourceError"), ("500", "500"), ("401", "SourceAuthError")])
def test_a_failing_remote_keeps_the_last_good_revision_stale_with_a_reason_and_backs_off(
        remote, tmp_path, mode, says, captured_logs):
    rig = remote.rig
    source, clock = source_of(remote, tmp_path)
    good = source.poll().revision
    assert good is not None and actionable(rig, source) == []
    rig.keep_config_maps(3)
    remote.commit("drop three ConfigMaps")
    remote.server.mode = mode
    clock.advance(60)
    status = source.poll(force=True)
    assert (status.revision, status.stale, status.stale_since) == (good, True, clock.now)
    assert says in (status.error or "") and "source stale since" in status.describe()
    assert status.retry_at == clock.now + 5.0 and source.poll().checked_at == clock.now  # backing off: not asked
    rig.keep("errors", status.error or "")
    assert actionable(rig, source) == []  # the last good revision keeps running: nothing pruned
    rig.apply(rig.plan(loader.load(source.tree())))
    rig.check(area=AREA, logs_text=captured_logs.text())
    remote.server.mode = "ok"
    clock.advance(5)
    assert source.poll().revision != good and not source.status.stale  # recovers once the remote does


def test_a_hanging_remote_times_out_and_nothing_half_fetched_is_used(remote, tmp_path, captured_logs):
    rig = remote.rig
    source, _clock = source_of(remote, tmp_path, timeout=1.0)
    good = source.poll().revision
    rig.keep_config_maps(3)
    newer = remote.commit("drop three ConfigMaps")
    remote.server.mode = "hang"
    status = source.poll(force=True)
    assert status.revision == good and "SourceTimeout" in (status.error or "")
    assert not source.mirror.has_commit(newer)
    assert actionable(rig, source) == []
    rig.check(area=AREA, logs_text=captured_logs.text())


def test_a_force_push_that_does_not_descend_from_the_applied_revision_is_reported(remote, tmp_path, captured_logs):
    rig = remote.rig
    source, _clock = source_of(remote, tmp_path)
    applied_revision = source.poll().revision
    source.mark_applied(applied_revision)
    rig.keep_config_maps(5)
    remote.commit("fleet, rewritten", amend=True)
    status = source.poll()
    assert status.force_pushed_from == applied_revision and status.revision != applied_revision
    rig.check(area=AREA, logs_text=captured_logs.text())



def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True)
    return path


def test_an_unsigned_head_or_a_stranger_s_signature_is_refused_and_the_verified_revision_keeps_running(
        remote, tmp_path, captured_logs):
    rig = remote.rig
    trusted, stranger = keygen(tmp_path / "trusted"), keygen(tmp_path / "stranger")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'ops@example.dev namespaces="git" {(tmp_path / "trusted.pub").read_text()}')
    remote.commit("fleet, signed", amend=True, key=trusted)
    source, clock = source_of(remote, tmp_path, verifier=CommitVerifier(ssh=SshSigners(allowed)))
    verified = source.poll()
    assert verified.signer == "ssh:ops@example.dev"
    rig.keep_config_maps(3)
    for key, says in ((None, "commit is not signed"), (stranger, "unknown key (SSH)")):
        remote.commit("drop three ConfigMaps", amend=key is not None, key=key)
        clock.advance(600)
        status = source.poll(force=True)
        assert status.revision == verified.revision and says in (status.error or "")
        assert actionable(rig, source) == []
    rig.check(area=AREA, logs_text=captured_logs.text())
