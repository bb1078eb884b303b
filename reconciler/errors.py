"""The stackfleet error hierarchy.

Every error stackfleet raises on purpose is a ``StackfleetError``. Each carries what it is about
(file and line, or cluster, bundle and object, or revision) and says whether retrying can help.

::

    StackfleetError
    ├── SpecError                     the fleet repo is invalid (never retried: a new commit fixes it)
    │   ├── YamlError                 malformed YAML, duplicate keys, limits exceeded (file:line)
    │   ├── UnsafePathError           `..`, absolute paths, symlinks leaving the repo
    │   └── ValidationFailed          one or more Problems found while loading a repo
    ├── SourceError                   Git: fetch, auth, verification (retried with backoff unless noted)
    │   ├── SourceAuthError           credentials refused (not retried until config changes)
    │   ├── SourceTimeout             fetch or listing hung past its timeout
    │   └── VerificationError         commit signature missing or from an unknown key
    ├── RenderError                   a bundle could not be rendered (names stack, bundle, file)
    │   ├── SubstitutionError         an undefined ${...} variable
    │   ├── ChartError                chart missing, unreadable or template failure
    │   ├── PatchError                a patch does not apply
    │   └── DuplicateObjectError      two bundles render the same object for one cluster
    ├── PlanError                     planning failed (names cluster, bundle, object)
    │   ├── StalePlanError            a saved plan no longer matches Git or live state
    │   ├── TamperedPlanError         a saved plan's MAC is missing or does not match its content
    │   └── RefusedStepError          a saved plan's step the live marks or the inventory do not allow
    ├── ClusterError                  a cluster could not be reached or refused us
    │   ├── ClusterUnreachable        connection errors, 5xx beyond retries (retryable)
    │   ├── ClusterAuthFailed         401/403 (not retried in a storm)
    │   └── ApplyError                a write was refused (names cluster, bundle, object)
    ├── StoreError                    the state store failed
    ├── ForgeError                    GitHub/GitLab refused or failed a request (names forge, pull request)
    │   ├── ForgeAuthError            401/403: token missing, wrong or without the scope (not retried)
    │   └── ForgeRateLimited          429 or an exhausted rate limit (retried after the forge's delay)
    ├── DaemonError                   the running daemon refused or failed an operation (names server, path)
    └── ConfigError                   daemon configuration is invalid
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file and line in the fleet repo, plus a field path inside the document."""

    file: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
        if self.field:
            text += f" ({self.field})"
        return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a fleet repo. A repo's problems are reported together."""

    location: Location
    message: str
    rule: str = "invalid"
    refers_to: tuple[str, str] | None = None
    """(kind, name) of the document a reference problem points at, if any."""

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "field": self.location.field,
            "rule": self.rule,
            "message": self.message,
        }


class StackfleetError(Exception):
    """Base of every error stackfleet raises on purpose."""

    retryable: bool = False

    def __init__(self, message: str, **about: str | int | None) -> None:
        self.message = message
        self.about = {k: v for k, v in about.items() if v is not None}
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if not self.about:
            return self.message
        where = ", ".join(f"{k}={v}" for k, v in self.about.items())
        return f"{self.message} [{where}]"


class SpecError(StackfleetError):
    """The fleet repo is invalid."""


class YamlError(SpecError):
    """Malformed YAML, duplicate keys, aliases past the limit, oversized input."""

    def __init__(self, message: str, *, file: str, line: int | None = None) -> None:
        self.location = Location(file, line)
        self.reason = message
        super().__init__(f"{self.location}: {message}")


class UnsafePathError(SpecError):
    """A path that escapes the repo (``..``, absolute, or a symlink leading outside)."""

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(message, path=path)


class ValidationFailed(SpecError):
    """Loading a repo found problems; all of them are in ``problems``."""

    def __init__(self, problems: list[Problem], *, revision: str | None = None) -> None:
        self.problems = sorted(
            set(problems), key=lambda p: (p.location.file, p.location.line or 0, p.message)
        )
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"fleet repo has {len(self.problems)} problem(s):\n{lines}", revision=revision)


class SourceError(StackfleetError):
    """A Git source could not be read."""

    retryable = True


class SourceAuthError(SourceError):
    """The remote refused our credentials."""

    retryable = False


class SourceTimeout(SourceError):
    """Fetching or listing refs took longer than the timeout."""


class VerificationError(SourceError):
    """The head commit is unsigned or signed by a key we do not trust."""

    retryable = False


class RenderError(StackfleetError):
    """A bundle could not be rendered."""


class SubstitutionError(RenderError):
    """A ``${...}`` reference names a variable that is not defined."""


class ChartError(RenderError):
    """A Helm chart is missing, unreadable, or its templates fail."""


class PatchError(RenderError):
    """A bundle patch does not apply."""


class DuplicateObjectError(RenderError):
    """Two bundles render the same object for one cluster."""


class PlanError(StackfleetError):
    """Planning failed."""


class StalePlanError(PlanError):
    """A saved plan was computed from a revision or live state that has since moved."""


class TamperedPlanError(PlanError):
    """A saved plan is not authenticated by this state store's key: edited, or made elsewhere."""


class RefusedStepError(PlanError):
    """A step of a saved plan is not one a fresh plan makes (say, a delete of an object we do not own)."""


class ClusterError(StackfleetError):
    """A cluster could not be reached or refused a request."""

    retryable = True


class ClusterUnreachable(ClusterError):
    """Connection errors or server errors beyond the retry budget."""


class ClusterAuthFailed(ClusterError):
    """401 or 403: credentials are missing, wrong or revoked."""

    retryable = False


class ApplyError(ClusterError):
    """A write was refused by the cluster."""

    retryable = False


class StoreError(StackfleetError):
    """The state store failed."""

    retryable = True


class ForgeError(StackfleetError):
    """A request to a forge (GitHub, GitLab) failed; 5xx and network errors are worth retrying."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None,
                 **about: str | int | None) -> None:
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(message, **about)


class ForgeAuthError(ForgeError):
    """401 or 403: the token is missing, wrong, or lacks the permission."""


class ForgeRateLimited(ForgeError):
    """429, or a 403 with the rate limit spent: retried after ``retry_after`` seconds."""


class DaemonError(StackfleetError):
    """A request to the running daemon's API (``stackfleet approve`` and friends) failed or was refused."""


class ConfigError(StackfleetError):
    """The daemon configuration is invalid."""
