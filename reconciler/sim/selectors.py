"""Label and field selectors as kube-apiserver parses them for LIST and WATCH.

Label selectors: ``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``, joined by
commas. Field selectors: ``metadata.name`` and ``metadata.namespace`` with ``=``, ``==`` or ``!=``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.sim import statuses

Matcher = Callable[[Mapping[str, Any]], bool]

_SET_RE = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([^\s!=,()]+)\s*(==|=|!=)\s*([^\s!=,()]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([^\s!=,()]+)\s*$")
FIELDS = {"metadata.name": ("metadata", "name"), "metadata.namespace": ("metadata", "namespace")}


def split_terms(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    terms, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [t for t in terms if t.strip()]


def _label_term(term: str) -> Callable[[Mapping[str, str]], bool]:
    if m := _SET_RE.match(term):
        key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EQ_RE.match(term):
        key, op, value = m.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _EXISTS_RE.match(term):
        negate, key = m.group(1) == "!", m.group(2)
        return lambda labels: (key in labels) != negate
    raise statuses.bad_request(f"unable to parse requirement: {term.strip()!r}")


def labels(text: str | None) -> Matcher:
    """A matcher for the label selector ``text`` (empty or ``None`` matches everything)."""
    terms = [_label_term(t) for t in split_terms(text or "")]

    def match(obj: Mapping[str, Any]) -> bool:
        found = (obj.get("metadata") or {}).get("labels") or {}
        return all(term(found) for term in terms)

    return match


def _field_term(term: str) -> Matcher:
    m = _EQ_RE.match(term)
    if not m:
        raise statuses.bad_request(f"invalid field selector: {term.strip()!r}")
    name, op, value = m.groups()
    if name not in FIELDS:
        raise statuses.bad_request(f'field label not supported: {name}')
    section, key = FIELDS[name]

    def match(obj: Mapping[str, Any]) -> bool:
        actual = str((obj.get(section) or {}).get(key) or "")
        return (actual == value) != (op == "!=")

    return match


def fields(text: str | None) -> Matcher:
    """A matcher for the field selector ``text`` (empty or ``None`` matches everything)."""
    terms = [_field_term(t) for t in split_terms(text or "")]
    return lambda obj: all(term(obj) for term in terms)
