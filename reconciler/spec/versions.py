"""Stack versions: exact semver versions and npm-style ranges (``~1.4``, ``^1``, ``>=1.2 <2``, ``1.x``)."""

from __future__ import annotations

from collections.abc import Iterable

import semantic_version


class VersionSyntaxError(ValueError):
    """A version or range that does not parse."""


def parse_version(text: str) -> semantic_version.Version:
    try:
        return semantic_version.Version(text)
    except ValueError:
        raise VersionSyntaxError(f"{text!r} is not a semantic version (like 1.4.2)") from None


def is_version(text: str) -> bool:
    try:
        parse_version(text)
    except VersionSyntaxError:
        return False
    return True


def parse_range(text: str) -> semantic_version.NpmSpec:
    try:
        return semantic_version.NpmSpec(text)
    except ValueError:
        raise VersionSyntaxError(
            f"{text!r} is not a version or semver range (like 1.4.2, ~1.4, ^1)"
        ) from None


def resolve(constraint: str, available: Iterable[str]) -> str | None:
    """The highest of ``available`` that satisfies ``constraint`` (exact or range), or ``None``."""
    spec = parse_range(constraint)
    candidates = {parse_version(v): v for v in available}
    best = spec.select(candidates.keys())
    return candidates[best] if best is not None else None


def sort_versions(versions: Iterable[str]) -> list[str]:
    """Versions in ascending semver order."""
    return sorted(versions, key=parse_version)
