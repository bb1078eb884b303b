"""Leases on a sim cluster: one holder at a time by compare-and-swap, expiry, release, members alive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reconciler.kube.client import Client
from reconciler.kube.leases import Hold, Leases, lease_name

START = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def client(make_client) -> Client:
    made: Client = make_client("c0")
    made.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "stackfleet"}})
    return made


def replicas(client: Client, clock: Clock) -> tuple[Leases, Leases]:
    return (Leases(client, "stackfleet", "fleet", clock=clock), Leases(client, "stackfleet", "fleet", clock=clock))


def test_one_holder_at_a_time_until_the_lease_expires(client: Client) -> None:
    clock = Clock()
    a, b = replicas(client, clock)
    first = (a.hold("stackfleet-cluster-eu-1", "a", duration=15), b.hold("stackfleet-cluster-eu-1", "b", duration=15))
    clock.now += timedelta(seconds=10)
    renewed = (a.hold("stackfleet-cluster-eu-1", "a", duration=15), b.hold("stackfleet-cluster-eu-1", "b", duration=15))
    clock.now += timedelta(seconds=16)  # a stopped renewing
    taken = b.hold("stackfleet-cluster-eu-1", "b", duration=15)
    assert (first, renewed, taken, a.owners()) == (
        (Hold.ACQUIRED, Hold.LOST), (Hold.RENEWED, Hold.LOST), Hold.ACQUIRED, {"stackfleet-cluster-eu-1": "b"}
    )


def test_a_write_from_a_stale_read_loses(client: Client) -> None:
    clock = Clock()
    a, b = replicas(client, clock)
    a.hold("stackfleet-cluster-eu-1", "a", duration=15)
    clock.now += timedelta(seconds=20)
    stale = client.get(_key("stackfleet-cluster-eu-1"))
    assert b.hold("stackfleet-cluster-eu-1", "b", duration=15) is Hold.ACQUIRED
    assert stale is not None
    stale["spec"]["holderIdentity"] = "a"
    assert client.replace(stale) is None  # 409: b wrote it since a read it


def test_a_released_lease_is_taken_at_once_and_counts_the_transition(client: Client) -> None:
    clock = Clock()
    a, b = replicas(client, clock)
    a.hold("stackfleet-cluster-eu-1", "a", duration=15)
    a.release("stackfleet-cluster-eu-1", "a")
    taken = b.hold("stackfleet-cluster-eu-1", "b", duration=15)
    live = client.get(_key("stackfleet-cluster-eu-1"))
    assert (taken, live["spec"]["holderIdentity"], live["spec"]["leaseTransitions"]) == (Hold.ACQUIRED, "b", 0)


def test_members_are_those_whose_heartbeat_is_fresh(client: Client) -> None:
    clock = Clock()
    a, b = replicas(client, clock)
    a.heartbeat("replica-a", duration=15)
    b.heartbeat("replica-b", duration=15)
    both = a.members()
    clock.now += timedelta(seconds=10)
    a.heartbeat("replica-a", duration=15)
    clock.now += timedelta(seconds=10)
    assert (both, b.members()) == (["replica-a", "replica-b"], ["replica-a"])


def test_odd_and_long_names_make_valid_lease_names() -> None:
    long = "x" * 300
    names = [lease_name("stackfleet-cluster", "eu-1"), lease_name("stackfleet-member", "Pod_7"),
             lease_name("stackfleet-cluster", long)]
    assert (names[0], len(names[2]) <= 63, names[1].startswith("stackfleet-member-pod-7-")) == (
        "stackfleet-cluster-eu-1", True, True
    )


def _key(name: str):
    from reconciler.core.objects import ObjectKey

    return ObjectKey("coordination.k8s.io", "Lease", "stackfleet", name)


def test_a_renewal_is_one_request_and_a_lost_race_reads_again(client: Client) -> None:
    clock = Clock()
    a, b = replicas(client, clock)
    a.hold("stackfleet-cluster-eu-1", "a", duration=15)
    before = dict(client.stats)
    clock.now += timedelta(seconds=5)
    renewed = a.hold("stackfleet-cluster-eu-1", "a", duration=15)
    spent = {verb: client.stats[verb] - before.get(verb, 0) for verb in ("get", "update", "create")}
    clock.now += timedelta(seconds=20)
    taken = b.hold("stackfleet-cluster-eu-1", "b", duration=15)
    again = a.hold("stackfleet-cluster-eu-1", "a", duration=15)  # its last write is stale now: 409, then a read
    assert (renewed, spent, taken, again) == (
        Hold.RENEWED, {"get": 0, "update": 1, "create": 0}, Hold.ACQUIRED, Hold.LOST
    )
