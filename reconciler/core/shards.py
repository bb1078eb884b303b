"""Which replica owns which cluster: rendezvous (highest-random-weight) hashing, pure.

Every replica computes the same answer from the same member list: for each cluster, the member with the
highest ``weight(member, cluster)`` owns it. A member joining takes from each other member only the
clusters it now weighs highest for; a member leaving hands only its own clusters to the rest, each
to the member that weighed next highest. Nothing else moves (Thaler and Ravishankar, 1996).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable


def weight(member: str, cluster: str) -> int:
    """A stable 64-bit weight of ``member`` for ``cluster`` (the same on every machine and run)."""
    digest = hashlib.blake2b(f"{member}\x00{cluster}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner_of(cluster: str, members: Collection[str]) -> str | None:
    """The member that owns ``cluster``; None when there are no members."""
    if not members:
        return None
    return max(sorted(members), key=lambda member: weight(member, cluster))


def assign(clusters: Iterable[str], members: Collection[str]) -> dict[str, str]:
    """cluster -> owning member, for every cluster (empty when there are no members)."""
    if not members:
        return {}
    return {cluster: owner for cluster in clusters if (owner := owner_of(cluster, members)) is not None}


def owned_by(member: str, clusters: Iterable[str], members: Collection[str]) -> set[str]:
    """The clusters ``member`` owns among ``members`` (it counts itself in even if not listed yet)."""
    everyone = {*members, member}
    return {cluster for cluster, owner in assign(clusters, everyone).items() if owner == member}
