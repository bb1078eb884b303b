"""Rendezvous hashing: deterministic, balanced, and a membership change moves only what it must."""

from __future__ import annotations

from collections import Counter

from reconciler.core import shards

CLUSTERS = [f"cluster-{n}" for n in range(1000)]


def test_every_cluster_has_exactly_one_owner_and_the_split_is_even() -> None:
    split = shards.assign(CLUSTERS, ["a", "b", "c"])
    counts = Counter(split.values())
    assert (len(split), sorted(counts), min(counts.values()) > 250) == (1000, ["a", "b", "c"], True)


def test_a_member_leaving_moves_only_its_own_clusters() -> None:
    before = shards.assign(CLUSTERS, ["a", "b", "c"])
    after = shards.assign(CLUSTERS, ["a", "c"])
    moved = {c for c in CLUSTERS if before[c] != after[c]}
    assert moved == {c for c in CLUSTERS if before[c] == "b"}


def test_a_member_joining_takes_only_what_it_now_owns() -> None:
    before = shards.assign(CLUSTERS, ["a", "b"])
    after = shards.assign(CLUSTERS, ["a", "b", "c"])
    moved = {c for c in CLUSTERS if before[c] != after[c]}
    assert moved == {c for c in CLUSTERS if after[c] == "c"}


def test_the_answer_does_not_depend_on_the_order_members_are_listed() -> None:
    assert shards.assign(CLUSTERS, ["c", "a", "b"]) == shards.assign(CLUSTERS, ["b", "c", "a"])


def test_no_members_own_nothing_and_a_replica_counts_itself_in() -> None:
    assert (shards.assign(CLUSTERS, []), shards.owned_by("a", ["x"], [])) == ({}, {"x"})
