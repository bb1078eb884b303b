"""RELIABILITY.md, area throttle: 429 answers are waited out as Retry-After says, with bounded attempts."""

from __future__ import annotations

import itertools

from reconciler.core import rollout
from reconciler.kube.connections import ClientSettings

AREA = "throttle"


def peak_rate(history, *, window: float = 1.0) -> float:
    """Most requests seen in any ``window`` seconds, per second."""
    times = sorted(t for t, _verb, _resource in history)
    most, start = 0, 0
    for end, now in enumerate(times):
        while now - times[start] > window:
            start += 1
        most = max(most, end - start + 1)
    return most / window


def test_retry_after_is_honoured_and_the_apply_completes(rig, figures, captured_logs):
    rig.settings = ClientSettings(qps=1000, burst=1000, attempts=4, backoff=0.01, timeout=5.0)
    faults = rig.running.faults("c0")
    faults.history.clear()
    faults.throttle(3, retry_after=1)
    report = rig.converge()
    assert {o.result for o in report.outcomes} == {rollout.Result.SUCCEEDED}
    first = [t for t, _v, _r in list(faults.history)[:4]]
    gaps = [b - a for a, b in itertools.pairwise(first)]
    assert min(gaps) >= 1.0, gaps  # each of the 3 answers said Retry-After: 1
    figures.peak_429_rate = max(figures.peak_429_rate, peak_rate(list(faults.history)[:4]))
    rig.check(area=AREA, logs_text=captured_logs.text())


def test_endless_429s_give_up_after_bounded_attempts_and_spare_the_others(rig, figures, captured_logs):
    faults = rig.running.faults("c2")
    faults.throttle_rate, faults.retry_after = 1.0, 0
    report = rig.apply()
    results = {o.cluster: o.result for o in report.outcomes}
    assert results["c2"] is rollout.Result.UNREACHABLE
    assert {results["c0"], results["c1"]} == {rollout.Result.SUCCEEDED}
    assert faults.total() <= rig.settings.attempts * 2, faults.requests
    figures.peak_429_rate = max(figures.peak_429_rate, peak_rate(faults.history))
    faults.throttle_rate = 0.0
    rig.converge()
    rig.check(area=AREA, logs_text=captured_logs.text())
