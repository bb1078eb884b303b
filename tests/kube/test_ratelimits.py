"""The per-cluster token bucket: a burst goes at once, then the steady rate; time is injected."""

from __future__ import annotations

from reconciler.kube.ratelimits import TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_burst_is_free_then_requests_are_spaced_by_the_rate():
    time = FakeTime()
    bucket = TokenBucket(qps=10, burst=3, clock=time.clock, sleep=time.sleep)
    waits = [bucket.take() for _ in range(5)]
    assert waits[:3] == [0, 0, 0]
    assert [round(w, 3) for w in waits[3:]] == [0.1, 0.1]


def test_tokens_refill_while_idle_up_to_the_burst():
    time = FakeTime()
    bucket = TokenBucket(qps=10, burst=2, clock=time.clock, sleep=time.sleep)
    for _ in range(2):
        bucket.take()
    time.now += 60
    assert [bucket.take() for _ in range(2)] == [0, 0]
    assert bucket.take() > 0


def test_two_buckets_do_not_share_tokens():
    time = FakeTime()
    slow = TokenBucket(qps=1, burst=1, clock=time.clock, sleep=time.sleep)
    fast = TokenBucket(qps=1, burst=5, clock=time.clock, sleep=time.sleep)
    slow.take()
    assert slow.take() > 0
    assert [fast.take() for _ in range(5)] == [0] * 5
