"""``${...}`` substitution in manifests, Kustomize output and Helm values.

Variables:

- ``${cluster.name}``: the name of the cluster the target is for;
- ``${cluster.labels.<key>}``: one of its labels (the key is everything after ``labels.``, so
  ``${cluster.labels.topology.kubernetes.io/zone}`` works);
- ``${values.<dotted.path>}``: the target's merged values.

Rules: substitution runs on parsed data, in string values only (never in keys). ``$${`` writes a
literal ``${``. A string that is exactly one reference takes the referenced value with its type
(``replicas: ${values.replicas}`` stays an integer, a mapping stays a mapping); a reference inside a
longer string is stringified (booleans as ``true``/``false``, ``null``, numbers as written, mappings
and lists as compact JSON). An undefined variable is a ``SubstitutionError`` naming the file and line,
never an empty string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.core import values as values_
from reconciler.core.targeting import ClusterInfo
from reconciler.errors import SubstitutionError
from reconciler.spec.yamldocs import LineIndex

_TOKEN = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
_WHOLE = re.compile(r"\$\{([^{}]*)\}")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Variables:
    """What ``${...}`` references can name."""

    cluster: ClusterInfo
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Where:
    """The file the data came from and the line index of its document (for errors)."""

    file: str
    lines: LineIndex | None = None
    base: Path_ = ()
    """Path of the data inside the document, when it is a part of one (Helm values in stack.yaml)."""

    def line(self, path: Path_) -> int | None:
        return self.lines.line_of((*self.base, *path)) if self.lines is not None else None


def substitute(data: Any, *, variables: Variables, where: Where) -> Any:
    """``data`` with every reference replaced; the input is not modified."""
    return _walk(data, (), variables, where)


def _walk(data: Any, path: Path_, variables: Variables, where: Where) -> Any:
    if isinstance(data, str):
        return _string(data, path, variables, where) if "$" in data else data
    if isinstance(data, Mapping):
        return {k: _walk(v, (*path, k), variables, where) for k, v in data.items()}
    if isinstance(data, list):
        return [_walk(v, (*path, i), variables, where) for i, v in enumerate(data)]
    return data


def _string(text: str, path: Path_, variables: Variables, where: Where) -> Any:
    whole = _WHOLE.fullmatch(text)
    if whole is not None:
        return resolve(whole.group(1), variables=variables, where=where, path=path)

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        return stringify(resolve(match.group(1), variables=variables, where=where, path=path))

    return _TOKEN.sub(replace, text)


def resolve(name: str, *, variables: Variables, where: Where, path: Path_ = ()) -> Any:
    """The value of variable ``name`` (``values.a.b``, ``cluster.name``, ``cluster.labels.k``)."""
    name = name.strip()
    found, value = _lookup(name, variables)
    if not found:
        raise SubstitutionError(
            f"undefined variable ${{{name}}}", file=where.file, line=where.line(path), field=_dotted(path)
        )
    return value


def _lookup(name: str, variables: Variables) -> tuple[bool, Any]:
    if name == "cluster.name":
        return True, variables.cluster.name
    if name.startswith("cluster.labels."):
        key = name.removeprefix("cluster.labels.")
        return (key in variables.cluster.labels), variables.cluster.labels.get(key)
    if name.startswith("values."):
        return values_.lookup(variables.values, name.removeprefix("values."))
    return False, None


def stringify(value: Any) -> str:
    """How a value reads inside a longer string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Mapping | list):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def _dotted(path: Path_) -> str | None:
    return ".".join(str(p) for p in path) or None
